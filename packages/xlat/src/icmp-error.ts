// ICMP errors the translator originates itself (Time Exceeded, Packet Too Big / Fragmentation
// Needed, Destination Unreachable, Parameter Problem), quoting the offending packet within the
// RFC 1812 / RFC 4443 size limits, sourced from the translator's own address and rate limited.

import { internetChecksum, pseudoHeaderSum6, writeU16 } from '@nat64/wire';
import { copyBytes } from '@nat64/wire';
import { Defaults } from './config.js';
import { HeaderSize, Icmp4Type, Icmp4UnreachCode, Icmp6Type, IcmpErrorMax, IpProto } from './constants.js';
import { writeIcmpHeader, writeIpv4Header, writeIpv6Header } from './headers.js';
import type { PacketBatch } from './batch.js';
import { Verdict } from './reasons.js';
import type { XlatState } from './state.js';
import type { Ipv4View, Ipv6View } from './view.js';

/**
 * RFC 1812 4.3.2.7 / RFC 1122 3.2.2: no ICMPv4 error about an ICMP error, a non-initial fragment,
 * a packet to a multicast or broadcast address, or from an address that is not a unicast host.
 */
function mayAnswer4(v: Ipv4View): boolean {
  if (v.isIcmpError || v.fragmentOffset !== 0) return false;
  const srcTop = v.src >>> 24;
  if (v.src === 0 || srcTop === 127 || srcTop >= 224) return false;
  return v.dst >>> 24 < 224;
}

/**
 * RFC 4443 2.4(e): no ICMPv6 error about an ICMPv6 error, about a packet from the unspecified or a
 * multicast address, or (Packet Too Big and Parameter Problem code 2 excepted) to a multicast one.
 */
function mayAnswer6(v: Ipv6View, type: number, code: number): boolean {
  if (v.isIcmpError) return false;
  const buf = v.buf;
  const src = v.srcOffset;
  if (buf[src] === 0xff) return false;
  let unspecified = true;
  for (let i = 0; i < 16; i++) if (buf[src + i] !== 0) unspecified = false;
  if (unspecified) return false;
  const exempt = type === Icmp6Type.packetTooBig || (type === Icmp6Type.parameterProblem && code === 2);
  return exempt || buf[v.dstOffset] !== 0xff;
}

/**
 * Appends an ICMPv4 error about `v` (a view parsed without error) to `out`. `param` is the
 * next-hop MTU for 3/4, the pointer for type 12, otherwise the 32-bit "unused" word (0).
 * Returns Verdict.icmpError, or Verdict.drop when no error may or can be sent.
 */
export function sendIcmp4Error(s: XlatState, v: Ipv4View, type: number, code: number, param: number, out: PacketBatch): Verdict {
  if (!mayAnswer4(v)) return Verdict.drop;
  const at = out.reserve();
  if (at < 0 || !s.takeIcmpToken()) return Verdict.drop;
  const quote = Math.min(v.end - v.start, IcmpErrorMax.ipv4 - HeaderSize.ipv4 - HeaderSize.icmp);
  const total = HeaderSize.ipv4 + HeaderSize.icmp + quote;
  const o = out.buffer;
  writeIpv4Header(o, at, Defaults.errorTos, total, s.nextIpv4Id(), 0, Defaults.errorHopLimit, IpProto.icmp, s.config.ipv4Address | 0, v.src | 0);
  const icmp = at + HeaderSize.ipv4;
  let rest = param;
  if (type === Icmp4Type.destinationUnreachable && code === Icmp4UnreachCode.fragmentationNeeded) {
    rest = param & 0xffff; // RFC 1191 4: next-hop MTU in the low 16 bits
  } else if (type === Icmp4Type.parameterProblem) {
    rest = (param & 0xff) * 0x1000000; // RFC 792: pointer in the first byte
  }
  writeIcmpHeader(o, icmp, type, code, rest);
  copyBytes(v.buf, v.start, v.start + quote, o, icmp + HeaderSize.icmp);
  writeU16(o, icmp + 2, internetChecksum(o, icmp, at + total));
  out.commit(total);
  s.icmpErrorsSent++;
  return Verdict.icmpError;
}

/**
 * Appends an ICMPv6 error about `v` (a view parsed without error) to `out`; `param` is the 32-bit
 * MTU (Packet Too Big), pointer (Parameter Problem) or 0. Returns Verdict.icmpError or
 * Verdict.drop when no error may or can be sent.
 */
export function sendIcmp6Error(s: XlatState, v: Ipv6View, type: number, code: number, param: number, out: PacketBatch): Verdict {
  if (!mayAnswer6(v, type, code)) return Verdict.drop;
  const at = out.reserve();
  if (at < 0 || !s.takeIcmpToken()) return Verdict.drop;
  const quote = Math.min(v.end - v.start, IcmpErrorMax.ipv6 - HeaderSize.ipv6 - HeaderSize.icmp);
  const length = HeaderSize.icmp + quote;
  const o = out.buffer;
  const own = s.config.ipv6Address;
  writeIpv6Header(o, at, 0, length, IpProto.icmpv6, Defaults.errorHopLimit, own, 0, v.buf, v.srcOffset);
  const icmp = at + HeaderSize.ipv6;
  writeIcmpHeader(o, icmp, type, code, param);
  copyBytes(v.buf, v.start, v.start + quote, o, icmp + HeaderSize.icmp);
  writeU16(o, icmp + 2, internetChecksum(o, icmp, icmp + length, pseudoHeaderSum6(o, at + 8, o, at + 24, IpProto.icmpv6, length)));
  out.commit(HeaderSize.ipv6 + length);
  s.icmpErrorsSent++;
  return Verdict.icmpError;
}
