// Small pieces both translation directions share: refusing a packet with a counted reason and an
// ICMP error to its sender, and the Traffic Class / Type of Service rules.

import type { PacketBatch } from './batch.js';
import { sendIcmp4Error, sendIcmp6Error } from './icmp-error.js';
import type { Verdict } from './reasons.js';
import type { XlatState } from './state.js';
import type { Ipv4View, Ipv6View } from './view.js';

/** Counts `reason` and answers the sender with an ICMPv6 error (when one may be sent). */
export function refuse6(s: XlatState, v: Ipv6View, reason: number, type: number, code: number, param: number, out: PacketBatch): Verdict {
  s.reason = reason;
  s.drops[reason]!++;
  return sendIcmp6Error(s, v, type, code, param, out);
}

/** Counts `reason` and answers the sender with an ICMPv4 error (when one may be sent). */
export function refuse4(s: XlatState, v: Ipv4View, reason: number, type: number, code: number, param: number, out: PacketBatch): Verdict {
  s.reason = reason;
  s.drops[reason]!++;
  return sendIcmp4Error(s, v, type, code, param, out);
}

/** RFC 7915 5.1 Type of Service: the Traffic Class, unless the operator overrides it. */
export function tosFor(s: XlatState, trafficClass: number): number {
  return s.config.overrideTos ? s.config.tos : trafficClass;
}

/** RFC 7915 4.1 Traffic Class: the Type of Service, unless the operator zeroes it. */
export function trafficClassFor(s: XlatState, tos: number): number {
  return s.config.zeroizeTrafficClass ? 0 : tos;
}
