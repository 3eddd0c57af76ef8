// Translator configuration: the settings an operator chooses (RFC 7915 knobs, next-hop MTUs, the
// translator's own addresses) and our implementation defaults. Validated completely, once, when a
// Translator is built; invalid settings throw XlatError('badConfig').

import { ipv4TextToUint32, ipv6TextToBytes } from '@nat64/wire';
import { MinMtu } from './constants.js';
import { XlatError } from './errors.js';

export interface IcmpRateLimit {
  /** Sustained ICMP errors per second the translator generates. */
  readonly perSecond: number;
  /** Errors that may be sent back to back before the rate applies. */
  readonly burst: number;
}

export interface TranslatorConfig {
  /** Source of the ICMPv6 errors the translator generates itself (text, e.g. "2001:db8::1"). */
  readonly ipv6Address: string;
  /** Source of the ICMPv4 errors the translator generates itself (text, e.g. "192.0.2.1"). */
  readonly ipv4Address: string;
  /** RFC 7915 4.1 "lowest-ipv6-mtu": DF-clear IPv4 packets are fragmented to fit it. Default 1280. */
  readonly lowestIpv6Mtu?: number;
  /** MTU of the next hop toward the IPv6 side. Default 1500. */
  readonly ipv6NextHopMtu?: number;
  /** MTU of the next hop toward the IPv4 side. Default 1500. */
  readonly ipv4NextHopMtu?: number;
  /** RFC 7915 4.1: set the IPv6 Traffic Class to zero instead of copying the TOS. Default false. */
  readonly zeroizeTrafficClass?: boolean;
  /** RFC 7915 5.1: set the IPv4 TOS to `tos` instead of copying the Traffic Class. Default false. */
  readonly overrideTos?: boolean;
  /** TOS used when `overrideTos` is set. Default 0. */
  readonly tos?: number;
  /** RFC 7915 4.5: compute a checksum for unfragmented IPv4 UDP with checksum 0. Default false. */
  readonly amendUdpChecksumZero?: boolean;
  /** Limit on the ICMP errors generated (not on those translated). Default 1000/s, burst 100. */
  readonly icmpErrorRate?: IcmpRateLimit;
  /** Millisecond clock for the rate limiter. Default performance.now. */
  readonly now?: () => number;
}

/** Implementation defaults (our choices, not numbers from a specification). */
export const Defaults = {
  lowestIpv6Mtu: MinMtu.ipv6,
  nextHopMtu: 1500,
  icmpErrorRate: { perSecond: 1000, burst: 100 },
  /** Hop limit / TTL of the ICMP errors the translator originates (Linux's default of 64). */
  errorHopLimit: 64,
  /** RFC 1812 4.3.2.5: ICMPv4 errors SHOULD carry precedence 6 (internetwork control). */
  errorTos: 0xc0,
} as const;

/** A validated configuration with every default applied. */
export interface ResolvedConfig {
  readonly ipv6Address: Uint8Array;
  readonly ipv4Address: number;
  readonly lowestIpv6Mtu: number;
  readonly ipv6NextHopMtu: number;
  readonly ipv4NextHopMtu: number;
  readonly zeroizeTrafficClass: boolean;
  readonly overrideTos: boolean;
  readonly tos: number;
  readonly amendUdpChecksumZero: boolean;
  readonly icmpErrorRate: IcmpRateLimit;
  readonly now: () => number;
}

function fail(message: string): never {
  throw new XlatError('badConfig', message);
}

function mtu(name: string, value: number | undefined, fallback: number, min: number): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < min || result > 65535) fail(`${name} must be an integer from ${min} to 65535, not ${result}`);
  return result;
}

/** Validates `config` and applies defaults; throws XlatError('badConfig') on the first problem. */
export function resolveConfig(config: TranslatorConfig): ResolvedConfig {
  const ipv6Address = ipv6TextToBytes(config.ipv6Address);
  if (ipv6Address === null) fail(`ipv6Address "${config.ipv6Address}" is not an IPv6 address`);
  const ipv4Address = ipv4TextToUint32(config.ipv4Address);
  if (ipv4Address < 0) fail(`ipv4Address "${config.ipv4Address}" is not an IPv4 address`);
  const tos = config.tos ?? 0;
  if (!Number.isInteger(tos) || tos < 0 || tos > 255) fail(`tos must be an integer from 0 to 255, not ${tos}`);
  const rate = config.icmpErrorRate ?? Defaults.icmpErrorRate;
  if (!(rate.perSecond >= 0) || !(rate.burst >= 0)) fail('icmpErrorRate needs non-negative perSecond and burst');
  return {
    ipv6Address,
    ipv4Address,
    lowestIpv6Mtu: mtu('lowestIpv6Mtu', config.lowestIpv6Mtu, Defaults.lowestIpv6Mtu, MinMtu.ipv6),
    ipv6NextHopMtu: mtu('ipv6NextHopMtu', config.ipv6NextHopMtu, Defaults.nextHopMtu, MinMtu.ipv6),
    ipv4NextHopMtu: mtu('ipv4NextHopMtu', config.ipv4NextHopMtu, Defaults.nextHopMtu, MinMtu.ipv4),
    zeroizeTrafficClass: config.zeroizeTrafficClass ?? false,
    overrideTos: config.overrideTos ?? false,
    tos,
    amendUdpChecksumZero: config.amendUdpChecksumZero ?? false,
    icmpErrorRate: { perSecond: rate.perSecond, burst: rate.burst },
    now: config.now ?? (() => performance.now()),
  };
}
