// The gateway's configuration: embedded defaults, then a JSON file (--config), then flags, all
// validated completely before the TUN device or any socket is opened. Every error names the
// setting ("pool4[1].tcp: ...").
import { ConfigError, ConfigReader, readJsonFile, readMetricsAddress, type MetricsAddress } from '@nat64/service';
import {
  parseIpv4Address,
  parseIpv6Address,
  parsePool4,
  parsePrefix,
  parseStaticBib,
  type Pool4Entry,
  type PrefixSetting,
  type StaticBibEntry,
} from './config-fields.js';
import { IMPL, type EngineSettings } from '@nat64/gateway-engine';
import { readHandoffConfig, transportNeeds, type HandoffConfig } from '@nat64/gateway-handoff';

export type { Pool4Entry, StaticBibEntry } from './config-fields.js';
export type { HandoffConfig } from '@nat64/gateway-handoff';

/** The engine's settings (with the prefix's text kept for messages), plus what the app itself runs. */
export interface GatewayConfig extends EngineSettings {
  /** create: make the device (set its MTU, bring it up) or attach to one that exists, leaving it as it is. */
  /**
   * offload: virtio-net headers through the device (engine/offload.ts); not with the Geneve mapping transport.
   * receiveSegments: with offload, TSO on reads (64 KiB TCP segments); not with bypass, whose tunnel takes packets of its MTU.
   */
  /** coalesce: with offload, translated packets of one flow in a batch leave as one USO or TSO packet (engine/coalesce.ts). */
  /** txQueueLength: packets the kernel queues for the gateway to read; undefined leaves an attached device's as it is. */
  tun: {
    name: string;
    mtu: number;
    create: boolean;
    batchSize: number;
    offload: boolean;
    receiveSegments: boolean;
    coalesce: boolean;
    txQueueLength: number | undefined;
  };
  prefix: PrefixSetting;
  pool4: Pool4Entry[];
  staticBib: StaticBibEntry[];
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

export const DEFAULT_PREFIX = '64:ff9b::/96';
/**
 * The queue of a device the gateway creates. The kernel's 500 lost a tenth of a burst of 800 new
 * flows while the gateway was busy setting them up; 10,000 packets of 1500 bytes are 15 MB at most.
 */
export const DEFAULT_TX_QUEUE_LENGTH = 10_000;
export const DEFAULT_CONTROL = '/run/nat64-gateway/control.sock';

export type RawSettings = Record<string, unknown>;

/** Loads defaults, then `file` (if any), then `flags` (keys may be dotted: "timeouts.udp"). Throws ConfigError. */
export function loadGatewayConfig(options: { file?: string | undefined; flags: RawSettings }): GatewayConfig {
  const fromFile = options.file === undefined ? {} : readJsonFile(options.file);
  const where = options.file ?? '';
  if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
    throw new ConfigError(where, 'expected a JSON object of settings');
  }
  const merged = mergeFlags(fromFile as RawSettings, options.flags);
  return ConfigReader.read(merged, options.file, (reader) => readSettings(reader, merged));
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
      if (typeof next !== 'object' || next === null || Array.isArray(next)) target[key] = {};
      target = target[key] as RawSettings;
    }
    target[keys.at(-1)!] = value;
  }
  return merged;
}

function readSettings(reader: ConfigReader, raw: RawSettings): GatewayConfig {
  const transport = transportNeeds(raw);
  const tun = readTun(reader.object('tun'), transport);
  const prefix = parsePrefix(reader.string('prefix', DEFAULT_PREFIX), 'prefix');
  const pool4 = readPool4(reader);
  const { timeoutsMs, allowShortTimeouts } = readTimeouts(reader.object('timeouts'));
  const limits = readLimits(reader.object('limits'));
  const translation = readTranslation(reader.object('translation'), tun.mtu - transport.overhead, tun.mtu, pool4);
  const handoff = readHandoffConfig(reader.object('handoff'), translation.ipv4NextHopMtu);
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
    limits,
    translation,
    handoff,
    logSessions: reader.boolean('logSessions', false),
    statsIntervalMs: reader.duration('statsInterval', '5m'),
    control: reader.string('control', DEFAULT_CONTROL),
    metrics: readMetricsAddress(reader, 'metrics'),
    routes: reader.boolean('routes', false),
    logLevel: reader.oneOf('logLevel', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  };
  if (config.control === '') throw new ConfigError('control', 'must be a socket path');
  reader.done();
  return config;
}

function readTun(tunReader: ConfigReader, transport: ReturnType<typeof transportNeeds>): GatewayConfig['tun'] {
  const tun = {
    name: tunReader.string('name', 'nat64'),
    mtu: tunReader.integer('mtu', { min: 1280, max: 65535, fallback: 1500 }),
    create: tunReader.boolean('create', true),
    batchSize: tunReader.integer('batchSize', { min: 1, max: 1024, fallback: 64 }),
    offload: tunReader.boolean('offload', false),
    receiveSegments: transport.receivesSegments,
    coalesce: tunReader.boolean('coalesce', false),
    txQueueLength: undefined as number | undefined,
  };
  const queueLength = { min: 1, max: 1_000_000, fallback: DEFAULT_TX_QUEUE_LENGTH };
  if (tunReader.has('txQueueLength') || tun.create) tun.txQueueLength = tunReader.integer('txQueueLength', queueLength);
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(tun.name)) throw new ConfigError('tun.name', 'must be 1-15 letters, digits, "_", "-" or "."');
  if (tun.offload && transport.refusesOffload !== null) {
    // A 64 KiB segment cannot ride in a tunnel packet; the kernel would have to split it first.
    throw new ConfigError('tun.offload', `needs handoff.transport "handoff" or "bypass": ${transport.refusesOffload}`);
  }
  if (tun.coalesce && !tun.offload) throw new ConfigError('tun.coalesce', 'needs tun.offload: trains leave as GSO packets with virtio-net headers');
  tunReader.done();
  return tun;
}

function readPool4(reader: ConfigReader): GatewayConfig['pool4'] {
  const pool4 = reader.array('pool4', (value, where) => parsePool4(value, where));
  if (pool4.length === 0) throw new ConfigError('pool4', 'needs at least one IPv4 address (the addresses IPv4 hosts see)');
  const addresses = pool4.map((entry) => entry.address);
  if (new Set(addresses).size !== addresses.length) throw new ConfigError('pool4', 'lists an address twice');
  return pool4;
}

function readTimeouts(timeouts: ConfigReader): Pick<GatewayConfig, 'timeoutsMs' | 'allowShortTimeouts'> {
  const timeoutsMs = {
    udp: timeouts.duration('udp', '5m'),
    tcpEstablished: timeouts.duration('tcpEstablished', '2h4m'),
    tcpTransitory: timeouts.duration('tcpTransitory', '4m'),
    icmp: timeouts.duration('icmp', '60s'),
    fragment: timeouts.duration('fragment', '2s'),
  };
  const allowShortTimeouts = timeouts.boolean('allowBelowMinimum', false);
  timeouts.done();
  checkTimeouts(timeoutsMs, allowShortTimeouts);
  return { timeoutsMs, allowShortTimeouts };
}

function readLimits(limits: ConfigReader): GatewayConfig['limits'] {
  const value = {
    maxSessions: limits.integer('maxSessions', { min: 1, max: 64_000_000, fallback: 2_000_000 }),
    maxSessionsPerClient: limits.integer('maxSessionsPerClient', { min: 1, max: 64_000_000, fallback: 16_384 }),
    maxHeldSyns: limits.integer('maxHeldSyns', { min: 0, max: 1_000_000, fallback: 1024 }),
    maxFragmentDatagrams: limits.integer('maxFragmentDatagrams', { min: 1, max: 1_000_000, fallback: 16_384 }),
  };
  limits.done();
  return value;
}

/** `ipv4NextHopMtu` and `ipv6NextHopMtu` are the defaults of the next-hop MTUs: the device's, less a tunnel's overhead toward IPv4. */
function readTranslation(
  translation: ConfigReader,
  ipv4NextHopMtu: number,
  ipv6NextHopMtu: number,
  pool4: GatewayConfig['pool4'],
): GatewayConfig['translation'] {
  const ipv6Source = translation.optionalString('ipv6Address');
  const ipv4Source = translation.optionalString('ipv4Address');
  const rate = translation.object('icmpErrorRate');
  const value = {
    lowestIpv6Mtu: translation.integer('lowestIpv6Mtu', { min: 1280, max: 65535, fallback: 1280 }),
    // A tunnel adds its overhead with DF set (geneve-options section 6): unless told otherwise,
    // translated packets are kept that much smaller (RFC 7915 Packet Too Big toward the client).
    ipv4NextHopMtu: translation.integer('ipv4NextHopMtu', { min: 68, max: 65535, fallback: ipv4NextHopMtu }),
    ipv6NextHopMtu: translation.integer('ipv6NextHopMtu', { min: 1280, max: 65535, fallback: ipv6NextHopMtu }),
    ipv6Address: ipv6Source === undefined ? undefined : parseIpv6Address(ipv6Source, 'translation.ipv6Address'),
    ipv4Address: ipv4Source === undefined ? pool4[0]!.address : parseIpv4Address(ipv4Source, 'translation.ipv4Address'),
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
  return value;
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
