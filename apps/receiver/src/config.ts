// The receiver's configuration: embedded defaults, then a JSON file (--config), then flags, all
// validated before any socket, file or database is opened. Every error names the setting.
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { ConfigError, ConfigReader, readJsonFile, readMetricsAddress, type MetricsAddress } from '@nat64/service';
import { OptionClassRange } from '@nat64/geneve';
import { GENEVE_PORT, HANDOFF_PORT } from '@nat64/wire';
import type { TimeZoneMode } from '@nat64/handoff-receiver';
import { DEFAULT_ACK_DELAY_MS, DEFAULT_HELLO_LIMIT, DEFAULT_QUERY_LIMIT, MAX_ACK_DELAY_MS, type RateLimit } from '@nat64/handoff-receiver';
import { DEFAULT_DATABASE } from './paths.js';
import { readBypassSettings, readTransports, type BypassSettings, type TransportName } from './bypass/settings.js';

export { HANDOFF_PORT };

export interface GatewayKey {
  /** Gateways this key applies to. */
  range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  key: Uint8Array;
  /** Key ID in Geneve authentication options (geneve-options section 4). */
  keyId: number;
}

export type { TransportName } from './bypass/settings.js';

export interface ReceiverConfig {
  listen: string[];
  port: number;
  /** Any of handoff (UDP 62863), geneve (our mapping transport) and bypass (NAT64 bypass), both on UDP 6081. */
  transports: ReadonlySet<TransportName>;
  bypass: BypassSettings;
  genevePort: number;
  geneveTun: string;
  geneveOptionClass: number;
  database: string;
  durability: 'full' | 'normal';
  connectionLog: string;
  timeZone: TimeZoneMode;
  /** Gateways accepted; empty accepts any (cookies still apply). */
  allow: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
  keys: GatewayKey[];
  authoritative: boolean;
  /** HELLO-ACKs per gateway address. */
  helloLimit: RateLimit;
  /** ANSWERs per gateway address. */
  queryLimit: RateLimit;
  capacity: number;
  idleTimeoutMs: number;
  /** How long an ACK may wait to cover the commits after it; 0 acknowledges every commit at once. */
  ackDelayMs: number;
  /** Made-up entries the receiver runs through a scratch engine before it listens (warm-up.ts); 0: none. */
  warmUp: number;
  retentionMs: number;
  control: string;
  /** Prometheus exposition over HTTP (metrics.ts); undefined: off. */
  metrics: MetricsAddress | undefined;
  logLevel: string;
}

export const DEFAULTS = {
  listen: ['0.0.0.0', '::'],
  port: HANDOFF_PORT,
  transport: 'handoff,geneve',
  genevePort: GENEVE_PORT,
  geneveTun: 'nat64geneve',
  geneveOptionClass: 0xff64,
  database: DEFAULT_DATABASE,
  durability: 'full',
  connectionLog: '-',
  timeZone: 'utc',
  allow: [],
  keys: [],
  authoritative: true,
  helloRate: DEFAULT_HELLO_LIMIT.perSecond,
  helloBurst: DEFAULT_HELLO_LIMIT.burst,
  queryRate: DEFAULT_QUERY_LIMIT.perSecond,
  queryBurst: DEFAULT_QUERY_LIMIT.burst,
  capacity: 1_000_000,
  idleTimeout: '24h',
  ackDelay: `${DEFAULT_ACK_DELAY_MS}ms`,
  warmUp: 20_000,
  retention: '90d',
  control: '/run/nat64-receiver/control.sock',
  logLevel: 'info',
} as const;

/** Settings as they come from the file and flags, before validation. */
export type RawSettings = Record<string, unknown>;

export function loadReceiverConfig(options: { file?: string; flags: RawSettings }): ReceiverConfig {
  const fromFile = options.file === undefined ? {} : readJsonFile(options.file);
  const where = options.file ?? '';
  if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
    throw new ConfigError(where, 'expected a JSON object of settings');
  }
  // Flags win over the file; both go through one reader so their errors look alike.
  const merged: RawSettings = { ...(fromFile as RawSettings), ...definedOnly(options.flags) };
  return ConfigReader.read(merged, options.file, (reader) => readSettings(reader));
}

function definedOnly(flags: RawSettings): RawSettings {
  return Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined));
}

function readSettings(reader: ConfigReader): ReceiverConfig {
  const listen = reader.array('listen', (value, where) => parseListenAddress(value, where), [...DEFAULTS.listen]);
  if (listen.length === 0) throw new ConfigError('listen', 'needs at least one address');
  const config: ReceiverConfig = {
    listen,
    port: reader.integer('port', { min: 0, max: 65535, fallback: DEFAULTS.port }),
    transports: readTransports(reader, DEFAULTS.transport),
    bypass: readBypassSettings(reader),
    genevePort: reader.integer('genevePort', { min: 0, max: 65535, fallback: DEFAULTS.genevePort }),
    geneveTun: reader.string('geneveTun', DEFAULTS.geneveTun),
    geneveOptionClass: reader.integer('geneveOptionClass', {
      min: OptionClassRange.EXPERIMENTAL_FIRST,
      max: OptionClassRange.EXPERIMENTAL_LAST,
      fallback: DEFAULTS.geneveOptionClass,
      hex: true,
    }),
    database: reader.string('database', DEFAULTS.database),
    durability: reader.oneOf('durability', ['full', 'normal'] as const, DEFAULTS.durability),
    connectionLog: reader.string('connectionLog', DEFAULTS.connectionLog),
    timeZone: reader.oneOf('timeZone', ['utc', 'local'] as const, DEFAULTS.timeZone),
    allow: reader.array('allow', (value, where) => parseRange(value, where)),
    keys: reader.array('keys', (value, where) => {
      const entry = new ConfigReader(value, where);
      const range = parseRange(entry.string('gateways', '0.0.0.0/0'), `${where}.gateways`);
      const key = parseKey(entry.string('key'), `${where}.key`);
      const keyId = entry.integer('keyId', { min: 0, max: 255, fallback: 1 });
      entry.done();
      return { range, key, keyId };
    }),
    authoritative: reader.boolean('authoritative', DEFAULTS.authoritative),
    helloLimit: readRateLimit(reader, 'hello', DEFAULTS.helloRate, DEFAULTS.helloBurst),
    queryLimit: readRateLimit(reader, 'query', DEFAULTS.queryRate, DEFAULTS.queryBurst),
    capacity: reader.integer('capacity', { min: 1, max: 100_000_000, fallback: DEFAULTS.capacity }),
    idleTimeoutMs: reader.duration('idleTimeout', DEFAULTS.idleTimeout),
    ackDelayMs: readAckDelay(reader),
    warmUp: reader.integer('warmUp', { min: 0, max: 1_000_000, fallback: DEFAULTS.warmUp }),
    retentionMs: reader.duration('retention', DEFAULTS.retention),
    control: reader.string('control', DEFAULTS.control),
    metrics: readMetricsAddress(reader, 'metrics'),
    logLevel: reader.oneOf('logLevel', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, DEFAULTS.logLevel),
  };
  const sharedKey = reader.optionalString('key');
  if (sharedKey !== undefined) {
    const key = parseKey(sharedKey, 'key');
    config.keys.push({ range: ipaddr.parseCIDR('0.0.0.0/0'), key, keyId: 1 }, { range: ipaddr.parseCIDR('::/0'), key, keyId: 1 });
  }
  const keyFile = reader.optionalString('keyFile');
  if (keyFile !== undefined) {
    // One key for every gateway; more specific per-gateway keys from `keys` take precedence.
    const key = readKeyFile(keyFile);
    config.keys.push({ range: ipaddr.parseCIDR('0.0.0.0/0'), key, keyId: 1 }, { range: ipaddr.parseCIDR('::/0'), key, keyId: 1 });
  }
  // A bypass tunnel lets its gateway inject IPv6 into this host's stack: never from anyone.
  if (config.transports.has('bypass') && config.allow.length === 0)
    throw new ConfigError('allow', 'transport bypass needs the gateways that may open tunnels (--allow)');
  if (!/^[A-Za-z0-9_.%-]{1,15}$/.test(config.geneveTun))
    throw new ConfigError('geneveTun', 'must be an interface name of 1-15 letters, digits, "_", "-", "." or "%d"');
  reader.done();
  return config;
}

/** `<name>Rate` (per second, 0 no limit) and `<name>Burst`. */
function readRateLimit(reader: ConfigReader, name: string, rate: number, burst: number): RateLimit {
  return {
    perSecond: reader.integer(`${name}Rate`, { min: 0, max: 10_000_000, fallback: rate }),
    burst: reader.integer(`${name}Burst`, { min: 1, max: 10_000_000, fallback: burst }),
  };
}

/** At most MAX_ACK_DELAY_MS, in whole milliseconds (the timer's resolution). */
function readAckDelay(reader: ConfigReader): number {
  const ms = reader.duration('ackDelay', DEFAULTS.ackDelay);
  if (!Number.isInteger(ms) || ms > MAX_ACK_DELAY_MS)
    throw new ConfigError('ackDelay', `must be whole milliseconds from 0 to ${MAX_ACK_DELAY_MS}ms, well inside a gateway's retransmission timeout`);
  return ms;
}

function parseListenAddress(value: unknown, where: string): string {
  if (typeof value !== 'string' || !ipaddr.isValid(value)) throw new ConfigError(where, 'expected an IPv4 or IPv6 address');
  return value;
}

function parseRange(value: unknown, where: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  if (typeof value !== 'string') throw new ConfigError(where, 'expected an address range such as 192.0.2.0/24');
  try {
    return value.includes('/') ? ipaddr.parseCIDR(value) : [ipaddr.parse(value), value.includes(':') ? 128 : 32];
  } catch {
    throw new ConfigError(where, `"${value}" is not an address or address range`);
  }
}

function readKeyFile(file: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError('keyFile', `cannot read ${file}: ${(error as Error).message}`);
  }
  return parseKey(text, `keyFile (${file})`);
}

/** A key as 32 to 128 hex digits (16 to 64 bytes). */
function parseKey(value: string, where: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2}){16,64}$/.test(value)) throw new ConfigError(where, 'expected 32 to 128 hex digits (16 to 64 bytes)');
  return Buffer.from(value, 'hex');
}
