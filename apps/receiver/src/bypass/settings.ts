// The receiver's transports and its NAT64 bypass settings, read from the merged file and flags
// (config.ts). Validated completely before anything is opened.
import ipaddr from 'ipaddr.js';
import { ConfigError, type ConfigReader } from '@nat64/service';

export const TRANSPORT_NAMES = ['handoff', 'geneve', 'bypass'] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** Accepted spellings of `transport`: a comma-separated list, or `both` for handoff,geneve. */
export const TRANSPORT_ALIASES: Readonly<Record<string, readonly TransportName[]>> = { both: ['handoff', 'geneve'] };

export interface BypassSettings {
  /** RFC 6052 /96 prefixes whose PREFIX::OWN-IPV4 this host accepts offers for. */
  prefixes: ipaddr.IPv6[];
  /** TAP devices are named this plus the tunnel's index (nat64bp0, nat64bp1, ...). */
  tap: string;
  /** IPv6 MTU of every tunnel link (bypass §8). */
  mtu: number;
  /** Tunnel i routes replies through table `table + i`, selected by a rule of priority `table + i`. */
  table: number;
  maxTunnels: number;
  /** TAP devices take consecutive TCP segments of a flow as one large segment (receive coalescing). */
  coalesce: boolean;
}

export const BYPASS_DEFAULTS = {
  prefixes: ['64:ff9b::/96'],
  tap: 'nat64bp',
  mtu: 1400,
  table: 6400,
  maxTunnels: 64,
  coalesce: true,
} as const;

/** `transport` as a set: "handoff,bypass", ["geneve", "bypass"], "both". */
export function readTransports(reader: ConfigReader, fallback: string): Set<TransportName> {
  const where = reader.path('transport');
  const items: unknown[] = reader.list('transport', fallback.split(','));
  if (items.length === 0) throw new ConfigError(where, `expected a comma-separated list of ${TRANSPORT_NAMES.join(', ')} (or both)`);
  const transports = new Set<TransportName>();
  for (const item of items) {
    const alias = typeof item === 'string' ? TRANSPORT_ALIASES[item] : undefined;
    if (alias) for (const name of alias) transports.add(name);
    else if (typeof item === 'string' && (TRANSPORT_NAMES as readonly string[]).includes(item)) transports.add(item as TransportName);
    else throw new ConfigError(where, `"${String(item)}" is not one of ${TRANSPORT_NAMES.join(', ')} or both`);
  }
  return transports;
}

export function readBypassSettings(reader: ConfigReader): BypassSettings {
  const prefixes = reader.array(
    'bypassPrefixes',
    (value, where) => parsePrefix(value, where),
    BYPASS_DEFAULTS.prefixes.map((text) => parsePrefix(text, 'bypassPrefixes')),
  );
  if (prefixes.length === 0) throw new ConfigError('bypassPrefixes', 'needs at least one prefix');
  const tap = reader.string('bypassTap', BYPASS_DEFAULTS.tap);
  if (!/^[A-Za-z0-9_.-]{1,12}$/.test(tap)) throw new ConfigError('bypassTap', 'must be 1-12 letters, digits, "_", "-" or "." (the tunnel index follows it)');
  return {
    prefixes,
    tap,
    mtu: reader.integer('bypassMtu', { min: 1280, max: 65_000, fallback: BYPASS_DEFAULTS.mtu }),
    table: reader.integer('bypassTable', { min: 1, max: 0x7fff_0000, fallback: BYPASS_DEFAULTS.table }),
    maxTunnels: reader.integer('bypassMaxTunnels', { min: 1, max: 4096, fallback: BYPASS_DEFAULTS.maxTunnels }),
    coalesce: reader.boolean('bypassCoalesce', BYPASS_DEFAULTS.coalesce),
  };
}

function parsePrefix(value: unknown, where: string): ipaddr.IPv6 {
  if (typeof value !== 'string') throw new ConfigError(where, 'expected an IPv6 /96 prefix such as 64:ff9b::/96');
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(value);
  } catch {
    throw new ConfigError(where, `"${value}" is not an IPv6 prefix`);
  }
  const [address, bits] = parsed;
  if (address.kind() !== 'ipv6' || bits !== 96)
    throw new ConfigError(where, `"${value}" must be an IPv6 /96 (RFC 6052 prefixes of other lengths are not supported)`);
  const bytes = (address as ipaddr.IPv6).toByteArray();
  if (bytes.slice(12).some((byte) => byte !== 0)) throw new ConfigError(where, `"${value}" has bits set past /96`);
  return address as ipaddr.IPv6;
}
