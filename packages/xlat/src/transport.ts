// Transport headers in a copied payload, rewritten in place for the other family: ports or ICMP
// echo type/identifier replaced and the checksum adjusted incrementally (RFC 1624 eqn. 3), so a
// wrong checksum stays exactly as wrong (RFC 7915 4.5 / 5.5). Works on outer and quoted packets;
// fields beyond the bytes present are left alone.

import { read16, write16 } from './bytes.js';
import { pseudoSum6, sumIpv4, sumIpv6, update } from './checksum.js';
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
  removed += read16(o, l4) + read16(o, l4 + 2);
  added += srcPort + dstPort;
  write16(o, l4, srcPort);
  write16(o, l4 + 2, dstPort);
  const at = l4 + (protocol === IpProto.tcp ? FieldOffset.tcpChecksum : FieldOffset.udpChecksum);
  if (at + 2 > l4 + present) return;
  const old = read16(o, at);
  if (protocol === IpProto.udp && old === 0) return;
  const result = update(old, removed, added);
  write16(o, at, protocol === IpProto.udp && result === 0 ? 0xffff : result);
}

/**
 * Rewrites an ICMP echo header of the copy at o[l4, l4 + present): new type (code kept), new
 * identifier, checksum adjusted by `removed`/`added` (which carry any pseudo-header change).
 */
export function rewriteEcho(
  o: Uint8Array,
  l4: number,
  present: number,
  removed: number,
  added: number,
  type: number,
  id: number,
): void {
  if (present < 2) return;
  const oldWord = read16(o, l4);
  o[l4] = type;
  removed += oldWord;
  added += (type << 8) | (oldWord & 0xff);
  if (present >= 6) {
    removed += read16(o, l4 + FieldOffset.icmpIdentifier);
    added += id;
    write16(o, l4 + FieldOffset.icmpIdentifier, id);
  }
  if (present < 4) return;
  write16(o, l4 + FieldOffset.icmpChecksum, update(read16(o, l4 + FieldOffset.icmpChecksum), removed, added));
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
    const removed = sumIpv6(v.buf, v.srcOffset) + sumIpv6(v.buf, v.dstOffset);
    rewritePorts(o, l4, present, protocol, removed, sumIpv4(src) + sumIpv4(dst), srcPort, dstPort);
  } else if (protocol === IpProto.icmpv6 && (v.icmpType === Icmp6Type.echoRequest || v.icmpType === Icmp6Type.echoReply)) {
    // ICMPv4 has no pseudo-header: take the ICMPv6 one out of the checksum (RFC 7915 5.2).
    const upperLength = v.totalLength - (v.l4Offset - v.start);
    const removed = pseudoSum6(v.buf, v.srcOffset, v.buf, v.dstOffset, IpProto.icmpv6, upperLength);
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
    const added = sumIpv6(src, 0) + sumIpv6(dst, 0);
    rewritePorts(o, l4, present, protocol, sumIpv4(v.src) + sumIpv4(v.dst), added, srcPort, dstPort);
  } else if (protocol === IpProto.icmp && (v.icmpType === Icmp4Type.echoRequest || v.icmpType === Icmp4Type.echoReply)) {
    // ICMPv6 adds a pseudo-header to the checksum (RFC 7915 4.2).
    const upperLength = v.totalLength - v.headerLength;
    const added = pseudoSum6(src, 0, dst, 0, IpProto.icmpv6, upperLength);
    const type = v.icmpType === Icmp4Type.echoRequest ? Icmp6Type.echoRequest : Icmp6Type.echoReply;
    rewriteEcho(o, l4, present, 0, added, type, icmpId);
  }
}
