// IPv6 -> IPv4 (RFC 7915 section 5): checks that refuse a packet (with an ICMPv6 error where the
// RFC asks for one), then one IPv4 header written in front of a copy of the upper-layer data,
// whose ports/identifier and checksum are rewritten in place.

import { copyBytes } from '@nat64/wire';
import { DF_THRESHOLD, HeaderSize, Icmp6Type, Icmp6ParamCode, Icmp6UnreachCode, IpProto, Ipv4Flags, MinMtu } from './constants.js';
import { writeIpv4Header } from './headers.js';
import { transport64 } from './transport.js';
import { refuse6, tosFor } from './common.js';
import { translateIcmp6Error } from './icmp64.js';
import type { PacketBatch } from './batch.js';
import { XlatFlags, type Mapping64 } from './mapping.js';
import { DropReason, Verdict } from './reasons.js';
import type { XlatState } from './state.js';
import type { Ipv6View } from './view.js';

/** Translates the parsed IPv6 packet `v` into `out`. See Translator.toIpv4. */
export function translate64(s: XlatState, v: Ipv6View, m: Mapping64, out: PacketBatch, flags: number): Verdict {
  // RFC 8200 8.1: "IPv6 receivers must discard UDP packets containing a zero checksum". Translated,
  // it would pass for an IPv4 datagram that chose to have none.
  if (v.udpChecksumZero) return s.drop(DropReason.udpChecksumZeroIpv6);
  if (v.extensionAfterFragment) {
    // RFC 7915 5.1 "Total Length": SHOULD be dropped; 5.4 picks the error to send.
    return refuse6(s, v, DropReason.extensionAfterFragment, Icmp6Type.destinationUnreachable, Icmp6UnreachCode.adminProhibited, 0, out);
  }
  if (v.segmentsLeftPointer >= 0) {
    return refuse6(s, v, DropReason.segmentsLeft, Icmp6Type.parameterProblem, Icmp6ParamCode.erroneousField, v.segmentsLeftPointer, out);
  }
  if (v.hopLimit <= 1) return refuse6(s, v, DropReason.ttlExceeded, Icmp6Type.timeExceeded, 0, 0, out);

  let protocol = v.protocol;
  if (protocol === IpProto.icmpv6) {
    if (v.isFragment) return s.drop(DropReason.fragmentedIcmp);
    if (v.isIcmpError) return translateIcmp6Error(s, v, m, out);
    if (v.icmpType !== Icmp6Type.echoRequest && v.icmpType !== Icmp6Type.echoReply) return s.drop(DropReason.icmpType);
    protocol = IpProto.icmp;
  }

  const payload = v.end - v.l4Offset;
  const total = HeaderSize.ipv4 + payload;
  // RFC 7915 5.1.1 / RFC 8200 5: IPv6 routers report Packet Too Big instead of fragmenting, but a
  // sender already at 1280 bytes cannot go lower: such packets leave DF-clear for IPv4 to split.
  if ((flags & (XlatFlags.hairpin | XlatFlags.segment)) === 0 && total > s.config.ipv4NextHopMtu && v.totalLength > MinMtu.ipv6) {
    const mtu = Math.max(MinMtu.ipv6, s.config.ipv4NextHopMtu + HeaderSize.ipv6 - HeaderSize.ipv4);
    return refuse6(s, v, DropReason.packetTooBig, Icmp6Type.packetTooBig, 0, mtu, out);
  }
  if (total > out.maxPacketSize) return s.drop(DropReason.outputTooLarge);
  const at = out.reserve();
  if (at < 0) return s.drop(DropReason.batchFull);

  let id: number;
  let flagsAndOffset: number;
  if (v.hasFragmentHeader) {
    // RFC 7915 5.1.1: low 16 bits of the Fragment ID, MF copied, DF clear, offset copied.
    id = v.fragmentId & 0xffff;
    flagsAndOffset = (v.moreFragments ? Ipv4Flags.moreFragments : 0) | (v.fragmentOffset >>> 3);
  } else {
    id = s.nextIpv4Id();
    flagsAndOffset = total > DF_THRESHOLD ? Ipv4Flags.dontFragment : 0; // RFC 7915 5.1 Flags
  }
  const o = out.buffer;
  writeIpv4Header(o, at, tosFor(s, v.trafficClass), total, id, flagsAndOffset, v.hopLimit - 1, protocol, m.src | 0, m.dst | 0);
  const l4 = at + HeaderSize.ipv4;
  copyBytes(v.buf, v.l4Offset, v.end, o, l4);
  if (v.isFirstFragment) transport64(v, m.src | 0, m.dst | 0, m.srcPort, m.dstPort, m.icmpId, o, l4, payload);
  out.commit(total);
  return Verdict.forward;
}
