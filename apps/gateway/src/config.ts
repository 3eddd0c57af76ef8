// The gateway's configuration: embedded defaults, then a JSON file (--config), then flags, all
// validated completely before the TUN device or any socket is opened. Every error names the
// setting ("pool4[1].tcp: ...").
import { readFileSync } from 'node:fs';
import { ConfigError, ConfigReader, parseDuration, parseMetricsAddress, readJsonFile, type MetricsAddress } from '@nat64/service';
import {
  parseIpv4,
  parseIpv6,
  parsePool4,
  parsePrefix,
  parseStaticBib,
  type Pool4Entry,
  type PrefixSetting,
  type StaticBibEntry,
} from './config-fields.js';
import { IMPL } from './engine/constants.js';
import { IMPL as IMPL_HANDOFF } from './handoff/constants.js';
import { GENEVE_OVERHEAD, IMPL as GENEVE_IMPL } from './geneve/constants.js';

export { PROTOCOLS, type PortRange, type Pool4Entry, type Protocol, type StaticBibEntry } from './config-fields.js';

export interface GatewayConfig {
  /** create: make the device (set its MTU, bring it up) or attach to one that exists, leaving it as it is. */
  /** offload: virtio-net headers and TSO through the device (engine/offload.ts); handoff transport only. */
  /** txQueueLength: packets the kernel queues for the gateway to read; undefined leaves an attached device's as it is. */
  tun: { name: string; mtu: number; create: boolean; batchSize: number; offload: boolean; txQueueLength: number | undefined };
  prefix: PrefixSetting;
  /** RFC 6052 section 3.1: refuse non-global IPv4 addresses under the Well-Known Prefix (ignored for other prefixes). */
  refuseNonGlobalUnderWkp: boolean;
  pool4: Pool4Entry[];
  staticBib: StaticBibEntry[];
  filtering: 'endpoint-independent' | 'address-dependent';
  /** RFC 6146 3.5.2.2: drop unsolicited IPv4 SYNs instead of holding them for a simultaneous open. */
  dropUnsolicitedTcp: boolean;
  timeoutsMs: { udp: number; tcpEstablished: number; tcpTransitory: number; icmp: number; fragment: number };
  /** Accept timeouts below the RFC 6146 section 4 minimums (tests, labs); a warning is logged. */
  allowShortTimeouts: boolean;
  limits: { maxSessions: number; maxSessionsPerClient: number; maxHeldSyns: number; maxFragmentDatagrams: number };
  translation: {
    lowestIpv6Mtu: number;
    /** MTU assumed toward each side; default: the TUN device's MTU. */
    ipv4NextHopMtu: number;
    ipv6NextHopMtu: number;
    /** Source of ICMPv6 errors the gateway itself generates; default: the prefix form of ipv4Address. */
    ipv6Address: Uint8Array | undefined;
    /** Source of ICMPv4 errors the gateway itself generates; defaults to the first pool4 address. */
    ipv4Address: number;
    zeroizeTrafficClass: boolean;
    amendUdpChecksumZero: boolean;
    /** Translated ICMPv4 errors come from the reporting router's address (true) or the quoted destination's. */
    icmpErrorsFromReporter: boolean;
    icmpErrorRate: { perSecond: number; burst: number };
  };
  handoff: HandoffConfig;
  logSessions: boolean;
  /** Counter summary at info level every so often; 0 turns it off. */
  statsIntervalMs: number;
  control: string;
  /** Prometheus exposition over HTTP (metrics.ts); undefined: off. */
  metrics: MetricsAddress | undefined;
  /** Route the prefix and pool4 into the TUN device while running (routes.ts). */
  routes: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** Handoff to the receivers on the IPv4 hosts (docs/protocol/handoff-v1.md). */
export interface HandoffConfig {
  /** off: a plain NAT64 that sends nothing; announce: report mappings, keep authority; full: hand authority to receivers that take it. */
  mode: 'off' | 'announce' | 'full';
  /** The shared authentication key (§6.7), read from `keyFile` when the configuration is loaded. */
  key: Uint8Array | undefined;
  keyFile: string | undefined;
  /** Path MTU toward the hosts, which sizes CREATED/DELETED batches (§5.11); default translation.ipv4NextHopMtu. */
  mtu: number;
  /** Longest a mapping change waits for its datagram to fill (§5.11 recommends at most 10 ms in all). */
  flushDelayMs: number;
  /** Packets held while a QUERY asks for their session: per key, in all, and their bytes in all. */
  missQueue: { packetsPerKey: number; packets: number; bytes: number };
  /**
   * How the gateway reaches receivers (docs/migration.md): 'handoff' (default) messages on UDP 62863
   * only; 'geneve' tunnels on UDP 6081 only (docs/protocol/geneve-options.md); 'auto' asks both ways
   * and uses Geneve toward every host whose receiver announces it, handoff messages otherwise. The
   * default stays 'handoff' so that upgrading changes nothing on the wire: receivers announce Geneve
   * by default, and moving to it is the operator's step (docs/migration.md step 1).
   */
  transport: 'handoff' | 'geneve' | 'auto';
  geneve: GeneveConfig;
}

/** The Geneve transport (docs/protocol/geneve-options.md), used unless handoff.transport is 'handoff'. */
export interface GeneveConfig {
  /** Option Class of the mapping and authentication options (section 2); default 0xFF64. */
  optionClass: number;
  /** Key ID of handoff.key in the authentication option (section 4); the receivers' default is 1. */
  keyId: number;
  /** Data packets of a new mapping that carry its Created option (section 3.2). */
  createdPackets: number;
  /** A live mapping's option is repeated (Refresh) on its next packet this often (section 3.2). */
  refreshMs: number;
  /** Seed of the outer UDP source port hash (section 6.1). */
  flowHashSeed: number;
}

export const DEFAULT_PREFIX = '64:ff9b::/96';
/**
 * The queue of a device the gateway creates. The kernel's 500 lost a tenth of a burst of 800 new
 * flows while the gateway was busy setting them up; 10,000 packets of 1500 bytes are 15 MB at most.
 */
export const DEFAULT_TX_QUEUE_LENGTH = 10_000;
export const DEFAULT_CONTROL = '/run/nat64-gateway.sock';

export type RawSettings = Record<string, unknown>;

/** Loads defaults, then `file` (if any), then `flags` (keys may be dotted: "timeouts.udp"). Throws ConfigError. */
export function loadGatewayConfig(options: { file?: string | undefined; flags: RawSettings }): GatewayConfig {
  const fromFile = options.file === undefined ? {} : readJsonFile(options.file);
  const where = options.file ?? '';
  if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
    throw new ConfigError(where, 'expected a JSON object of settings');
  }
  const merged = mergeFlags(fromFile as RawSettings, options.flags);
  try {
    return readSettings(new ConfigReader(merged, ''), merged);
  } catch (error) {
    if (error instanceof ConfigError && where !== '') throw new ConfigError(`${where}: ${error.where}`, error.problem);
    throw error;
  }
}

/** Flags override the file, one nested key at a time ("timeouts.udp" overrides only that timeout). */
function mergeFlags(file: RawSettings, flags: RawSettings): RawSettings {
  const merged: RawSettings = structuredClone(file);
  for (const [path, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const keys = path.split('.');
    let target = merged;
    for (const key of keys.slice(0, -1)) {
      const next = target[key];
      target = (typeof next === 'object' && next !== null && !Array.isArray(next) ? next : (target[key] = {})) as RawSettings;
    }
    target[keys.at(-1)!] = value;
  }
  return merged;
}

function readSettings(reader: ConfigReader, raw: RawSettings): GatewayConfig {
  const tunReader = reader.object('tun');
  const tun = {
    name: tunReader.string('name', 'nat64'),
    mtu: tunReader.integer('mtu', { min: 1280, max: 65535, fallback: 1500 }),
    create: tunReader.boolean('create', true),
    batchSize: tunReader.integer('batchSize', { min: 1, max: 1024, fallback: 64 }),
    offload: tunReader.boolean('offload', false),
    txQueueLength: undefined as number | undefined,
  };
  const queueLength = { min: 1, max: 1_000_000, fallback: DEFAULT_TX_QUEUE_LENGTH };
  if (tunReader.has('txQueueLength') || tun.create) tun.txQueueLength = tunReader.integer('txQueueLength', queueLength);
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(tun.name)) throw new ConfigError('tun.name', 'must be 1-15 letters, digits, "_", "-" or "."');
  if (tun.offload && peekTransport(raw) !== 'handoff') {
    // A 64 KiB segment cannot ride in a Geneve packet; the kernel would have to split it first.
    throw new ConfigError('tun.offload', 'needs handoff.transport "handoff": Geneve packets cannot carry unsplit TCP segments');
  }
  tunReader.done();

  const prefix = parsePrefix(reader.string('prefix', DEFAULT_PREFIX), 'prefix');
  const pool4 = reader.array('pool4', (value, where) => parsePool4(value, where));
  if (pool4.length === 0) throw new ConfigError('pool4', 'needs at least one IPv4 address (the addresses IPv4 hosts see)');
  const addresses = pool4.map((entry) => entry.address);
  if (new Set(addresses).size !== addresses.length) throw new ConfigError('pool4', 'lists an address twice');

  const timeouts = reader.object('timeouts');
  const timeoutsMs = {
    udp: readDuration(timeouts, 'udp', '5m'),
    tcpEstablished: readDuration(timeouts, 'tcpEstablished', '2h4m'),
    tcpTransitory: readDuration(timeouts, 'tcpTransitory', '4m'),
    icmp: readDuration(timeouts, 'icmp', '60s'),
    fragment: readDuration(timeouts, 'fragment', '2s'),
  };
  const allowShortTimeouts = timeouts.boolean('allowBelowMinimum', false);
  timeouts.done();
  checkTimeouts(timeoutsMs, allowShortTimeouts);

  const limits = reader.object('limits');
  const limitsValue = {
    maxSessions: limits.integer('maxSessions', { min: 1, max: 64_000_000, fallback: 2_000_000 }),
    maxSessionsPerClient: limits.integer('maxSessionsPerClient', { min: 1, max: 64_000_000, fallback: 16_384 }),
    maxHeldSyns: limits.integer('maxHeldSyns', { min: 0, max: 1_000_000, fallback: 1024 }),
    maxFragmentDatagrams: limits.integer('maxFragmentDatagrams', { min: 1, max: 1_000_000, fallback: 16_384 }),
  };
  limits.done();

  const transport = peekTransport(raw);
  const translation = reader.object('translation');
  const ipv6Source = translation.optionalString('ipv6Address');
  const ipv4Source = translation.optionalString('ipv4Address');
  const rate = translation.object('icmpErrorRate');
  const translationValue = {
    lowestIpv6Mtu: translation.integer('lowestIpv6Mtu', { min: 1280, max: 65535, fallback: 1280 }),
    // Geneve adds up to GENEVE_OVERHEAD bytes with DF set (geneve-options section 6): unless told
    // otherwise, translated packets are kept that much smaller (RFC 7915 Packet Too Big toward the client).
    ipv4NextHopMtu: translation.integer('ipv4NextHopMtu', { min: 68, max: 65535, fallback: transport === 'handoff' ? tun.mtu : tun.mtu - GENEVE_OVERHEAD }),
    ipv6NextHopMtu: translation.integer('ipv6NextHopMtu', { min: 1280, max: 65535, fallback: tun.mtu }),
    ipv6Address: ipv6Source === undefined ? undefined : parseIpv6(ipv6Source, 'translation.ipv6Address'),
    ipv4Address: ipv4Source === undefined ? pool4[0]!.address : parseIpv4(ipv4Source, 'translation.ipv4Address'),
    zeroizeTrafficClass: translation.boolean('zeroizeTrafficClass', false),
    // RFC 6146 3.4: a stateful NAT64 MUST compute the checksum of an IPv4 UDP datagram without one.
    amendUdpChecksumZero: translation.boolean('amendUdpChecksumZero', true),
    icmpErrorsFromReporter: translation.boolean('icmpErrorsFromReporter', true),
    icmpErrorRate: {
      perSecond: rate.integer('perSecond', { min: 0, max: 1_000_000, fallback: 1000 }),
      burst: rate.integer('burst', { min: 0, max: 1_000_000, fallback: 100 }),
    },
  };
  rate.done();
  translation.done();

  const handoff = readHandoff(reader.object('handoff'), translationValue.ipv4NextHopMtu);

  const config: GatewayConfig = {
    tun,
    prefix,
    refuseNonGlobalUnderWkp: reader.boolean('refuseNonGlobalUnderWkp', true),
    pool4,
    staticBib: reader.array('staticBib', (value, where) => parseStaticBib(value, where, pool4, IMPL.RESERVED_UDP_PORTS)),
    filtering: reader.oneOf('filtering', ['endpoint-independent', 'address-dependent'] as const, 'endpoint-independent'),
    dropUnsolicitedTcp: reader.boolean('dropUnsolicitedTcp', false),
    timeoutsMs,
    allowShortTimeouts,
    limits: limitsValue,
    translation: translationValue,
    handoff,
    logSessions: reader.boolean('logSessions', false),
    statsIntervalMs: readDuration(reader, 'statsInterval', '5m'),
    control: reader.string('control', DEFAULT_CONTROL),
    metrics: readMetrics(reader),
    routes: reader.boolean('routes', false),
    logLevel: reader.oneOf('logLevel', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  };
  if (config.control === '') throw new ConfigError('control', 'must be a socket path');
  reader.done();
  return config;
}

function readHandoff(reader: ConfigReader, ipv4NextHopMtu: number): HandoffConfig {
  const keyFile = reader.optionalString('keyFile');
  const queue = reader.object('missQueue');
  const missQueue = {
    packetsPerKey: queue.integer('packetsPerKey', { min: 1, max: 1024, fallback: IMPL_HANDOFF.MISS_PACKETS_PER_KEY }),
    packets: queue.integer('packets', { min: 1, max: 1_000_000, fallback: IMPL_HANDOFF.MISS_PACKETS }),
    bytes: queue.integer('bytes', { min: 1500, max: 1 << 30, fallback: IMPL_HANDOFF.MISS_BYTES }),
  };
  queue.done();
  const handoff: HandoffConfig = {
    mode: reader.oneOf('mode', ['off', 'announce', 'full'] as const, 'full'),
    key: keyFile === undefined ? undefined : readKeyFile(keyFile, reader.path('keyFile')),
    keyFile,
    // An entry needs 28 + 32 + 40 octets of IPv4, UDP, header and body (§5.11).
    mtu: reader.integer('mtu', { min: 576, max: 65535, fallback: Math.max(576, ipv4NextHopMtu) }),
    flushDelayMs: Math.round(readDuration(reader, 'flushDelay', IMPL_HANDOFF.FLUSH_DELAY)),
    missQueue,
    transport: reader.oneOf('transport', ['handoff', 'geneve', 'auto'] as const, 'handoff'),
    geneve: readGeneve(reader.object('geneve')),
  };
  if (handoff.flushDelayMs > 10) throw new ConfigError(reader.path('flushDelay'), 'must be at most 10ms (handoff v1 section 5.11)');
  reader.done();
  return handoff;
}

function readGeneve(reader: ConfigReader): GeneveConfig {
  const geneve: GeneveConfig = {
    optionClass: reader.integer('optionClass', { min: 0, max: 0xffff, fallback: GENEVE_IMPL.OPTION_CLASS }),
    keyId: reader.integer('keyId', { min: 0, max: 255, fallback: GENEVE_IMPL.KEY_ID }),
    createdPackets: reader.integer('createdPackets', { min: 1, max: 1000, fallback: GENEVE_IMPL.CREATED_PACKETS }),
    refreshMs: Math.round(readDuration(reader, 'refresh', GENEVE_IMPL.REFRESH)),
    flowHashSeed: reader.integer('flowHashSeed', { min: 0, max: 0xffff_ffff, fallback: 0 }),
  };
  if (geneve.refreshMs < 1000) throw new ConfigError(reader.path('refresh'), 'must be at least 1s');
  reader.done();
  return geneve;
}

/** handoff.transport, read ahead of the rest: it changes the default of translation.ipv4NextHopMtu. */
function peekTransport(raw: RawSettings): 'handoff' | 'geneve' | 'auto' {
  const value = raw['handoff'];
  const transport = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['transport'] : undefined;
  return transport === 'auto' || transport === 'geneve' ? transport : 'handoff';
}

/** A key file holds 32 to 128 hex digits (16 to 64 bytes), like the receiver's --key-file. */
function readKeyFile(file: string, where: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(where, `cannot read ${file}: ${(error as Error).message}`);
  }
  if (!/^([0-9a-fA-F]{2}){16,64}$/.test(text)) throw new ConfigError(where, `${file} must hold 32 to 128 hex digits (16 to 64 bytes)`);
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

/** RFC 6146 section 4 minimums, unless explicitly waived; never zero. */
function checkTimeouts(t: GatewayConfig['timeoutsMs'], allowShort: boolean): void {
  const minimums: [keyof GatewayConfig['timeoutsMs'], number, string][] = [
    ['udp', 120_000, '2m (RFC 6146 section 4, UDP_MIN)'],
    ['tcpEstablished', 7_440_000, '2h4m (RFC 6146 section 4, TCP_EST)'],
    ['tcpTransitory', 240_000, '4m (RFC 6146 section 4, TCP_TRANS)'],
  ];
  for (const [name, value] of Object.entries(t)) {
    if (value < 1) throw new ConfigError(`timeouts.${name}`, 'must be longer than zero');
  }
  if (t.fragment < 2000) throw new ConfigError('timeouts.fragment', 'must be at least 2s (RFC 6146 section 4, FRAGMENT_MIN)');
  if (allowShort) return;
  for (const [name, minimum, text] of minimums) {
    if (t[name] < minimum) {
      throw new ConfigError(`timeouts.${name}`, `must be at least ${text}; set timeouts.allowBelowMinimum to go lower in a lab`);
    }
  }
}

/** The settings below the RFC minimums, for the warning logged when they are allowed. */
export function shortTimeouts(config: GatewayConfig): string[] {
  const t = config.timeoutsMs;
  const short: string[] = [];
  if (t.udp < 120_000) short.push(`udp ${t.udp} ms`);
  if (t.tcpEstablished < 7_440_000) short.push(`tcpEstablished ${t.tcpEstablished} ms`);
  if (t.tcpTransitory < 240_000) short.push(`tcpTransitory ${t.tcpTransitory} ms`);
  return short;
}

/** Durations are strings such as "90s", "5m", "2h4m", "250ms" (a bare number counts seconds). */
function readMetrics(reader: ConfigReader): MetricsAddress | undefined {
  const text = reader.optionalString('metrics');
  return text === undefined || text === '' ? undefined : parseMetricsAddress(text, 'metrics');
}

function readDuration(reader: ConfigReader, key: string, fallback: string): number {
  return parseDuration(reader.string(key, fallback), reader.path(key));
}
