// Transport headers in a copied payload, rewritten in place for the other family: ports or ICMP
// echo type/identifier replaced and the checksum adjusted incrementally (RFC 1624 eqn. 3), so a
// wrong checksum stays exactly as wrong (RFC 7915 4.5 / 5.5). Works on outer and quoted packets;
// fields beyond the bytes present are left alone.

import { pseudoHeaderSum6, readU16, sumIpv4Address, sumIpv6Address, updateChecksum, writeU16 } from '@nat64/wire';
import { FieldOffset, Icmp4Type, Icmp6Type, IpProto } from './constants.js';
import type { Ipv4View, Ipv6View } from './view.js';

/**
 * Rewrites TCP or UDP ports of the copy at o[l4, l4 + present) and adjusts its checksum:
 * `removed`/`added` carry the pseudo-header address sums of the old and new addresses. A UDP
 * checksum of zero ("none", RFC 768) is left alone; a computed zero is sent as 0xffff.
 */
export function rewritePorts(
  o: Uint8Array,
  l4: number,
  present: number,
  protocol: number,
  removed: number,
  added: number,
  srcPort: number,
  dstPort: number,
): void {
  if (present < 4) return;
  removed += readU16(o, l4) + readU16(o, l4 + 2);
  added += srcPort + dstPort;
  writeU16(o, l4, srcPort);
  writeU16(o, l4 + 2, dstPort);
  const at = l4 + (protocol === IpProto.tcp ? FieldOffset.tcpChecksum : FieldOffset.udpChecksum);
  if (at + 2 > l4 + present) return;
  const old = readU16(o, at);
  if (protocol === IpProto.udp && old === 0) return;
  const result = updateChecksum(old, removed, added);
  writeU16(o, at, protocol === IpProto.udp && result === 0 ? 0xffff : result);
}

/**
 * Rewrites an ICMP echo header of the copy at o[l4, l4 + present): new type (code kept), new
 * identifier, checksum adjusted by `removed`/`added` (which carry any pseudo-header change).
 */
export function rewriteEcho(o: Uint8Array, l4: number, present: number, removed: number, added: number, type: number, id: number): void {
  if (present < 2) return;
  const oldWord = readU16(o, l4);
  o[l4] = type;
  removed += oldWord;
  added += (type << 8) | (oldWord & 0xff);
  if (present >= 6) {
    removed += readU16(o, l4 + FieldOffset.icmpIdentifier);
    added += id;
    writeU16(o, l4 + FieldOffset.icmpIdentifier, id);
  }
  if (present < 4) return;
  writeU16(o, l4 + FieldOffset.icmpChecksum, updateChecksum(readU16(o, l4 + FieldOffset.icmpChecksum), removed, added));
}

/**
 * IPv6 -> IPv4: rewrites the upper-layer header of `v` copied to o[l4, l4 + present) for the new
 * addresses `src`/`dst` (as int32, see writeIpv4Header) and ports or echo identifier. Other
 * protocols are left untouched.
 */
export function transport64(
  v: Ipv6View,
  src: number,
  dst: number,
  srcPort: number,
  dstPort: number,
  icmpId: number,
  o: Uint8Array,
  l4: number,
  present: number,
): void {
  const protocol = v.protocol;
  if (protocol === IpProto.tcp || protocol === IpProto.udp) {
    const removed = sumIpv6Address(v.buf, v.srcOffset) + sumIpv6Address(v.buf, v.dstOffset);
    rewritePorts(o, l4, present, protocol, removed, sumIpv4Address(src) + sumIpv4Address(dst), srcPort, dstPort);
  } else if (protocol === IpProto.icmpv6 && (v.icmpType === Icmp6Type.echoRequest || v.icmpType === Icmp6Type.echoReply)) {
    // ICMPv4 has no pseudo-header: take the ICMPv6 one out of the checksum (RFC 7915 5.2).
    const upperLength = v.totalLength - (v.l4Offset - v.start);
    const removed = pseudoHeaderSum6(v.buf, v.srcOffset, v.buf, v.dstOffset, IpProto.icmpv6, upperLength);
    const type = v.icmpType === Icmp6Type.echoRequest ? Icmp4Type.echoRequest : Icmp4Type.echoReply;
    rewriteEcho(o, l4, present, removed, 0, type, icmpId);
  }
}

/**
 * IPv4 -> IPv6: rewrites the upper-layer header of `v` copied to o[l4, l4 + present) for the new
 * addresses and ports or echo identifier. Other protocols are left untouched.
 */
export function transport46(
  v: Ipv4View,
  src: Uint8Array,
  dst: Uint8Array,
  srcPort: number,
  dstPort: number,
  icmpId: number,
  o: Uint8Array,
  l4: number,
  present: number,
): void {
  const protocol = v.protocol;
  if (protocol === IpProto.tcp || protocol === IpProto.udp) {
    const added = sumIpv6Address(src, 0) + sumIpv6Address(dst, 0);
    rewritePorts(o, l4, present, protocol, sumIpv4Address(v.src) + sumIpv4Address(v.dst), added, srcPort, dstPort);
  } else if (protocol === IpProto.icmp && (v.icmpType === Icmp4Type.echoRequest || v.icmpType === Icmp4Type.echoReply)) {
    // ICMPv6 adds a pseudo-header to the checksum (RFC 7915 4.2).
    const upperLength = v.totalLength - v.headerLength;
    const added = pseudoHeaderSum6(src, 0, dst, 0, IpProto.icmpv6, upperLength);
    const type = v.icmpType === Icmp4Type.echoRequest ? Icmp6Type.echoRequest : Icmp6Type.echoReply;
    rewriteEcho(o, l4, present, 0, added, type, icmpId);
  }
}
