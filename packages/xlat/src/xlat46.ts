// IPv4 -> IPv6 (RFC 7915 section 4): checks that refuse a packet (with an ICMPv4 error where the
// RFC asks for one), the DF rules against the IPv6 next-hop MTU and lowest-ipv6-mtu, and either
// one IPv6 packet or, for DF-clear packets that do not fit, IPv6 fragments.

import { finishChecksum, pseudoHeaderSum6, sumWords, writeU16 } from '@nat64/wire';
import { copyBytes } from '@nat64/wire';
import { refuse4, trafficClassFor } from './common.js';
import { FieldOffset, HeaderSize, Icmp4Type, Icmp4UnreachCode, IpProto } from './constants.js';
import { writeFragmentHeader, writeIpv6Header } from './headers.js';
import { translateIcmp4Error } from './icmp46.js';
import type { PacketBatch } from './batch.js';
import { XlatFlags, type Mapping46 } from './mapping.js';
import { DropReason, Verdict } from './reasons.js';
import type { XlatState } from './state.js';
import { transport46 } from './transport.js';
import type { Ipv4View } from './view.js';

/** Translates the parsed IPv4 packet `v` into `out`. See Translator.toIpv6. */
export function translate46(s: XlatState, v: Ipv4View, m: Mapping46, out: PacketBatch, flags: number): Verdict {
  const hairpin = (flags & XlatFlags.hairpin) !== 0;
  if (!hairpin && v.hopLimit <= 1) return refuse4(s, v, DropReason.ttlExceeded, Icmp4Type.timeExceeded, 0, 0, out);
  if (v.sourceRoute) {
    return refuseUnlessHairpin(s, v, DropReason.sourceRoute, Icmp4Type.destinationUnreachable, Icmp4UnreachCode.sourceRouteFailed, 0, out, hairpin);
  }

  const protocol = v.protocol;
  let nextHeader = protocol;
  let amendUdp = false;
  if (protocol === IpProto.icmp) {
    if (v.isFragment) return s.drop(DropReason.fragmentedIcmp);
    if (v.isIcmpError) return translateIcmp4Error(s, v, m, out, hairpin);
    if (v.icmpType !== Icmp4Type.echoRequest && v.icmpType !== Icmp4Type.echoReply) return s.drop(DropReason.icmpType);
    nextHeader = IpProto.icmpv6;
  } else if (protocol === IpProto.igmp) {
    return s.drop(DropReason.singleHop);
  } else if (v.udpChecksumZero) {
    // RFC 7915 4.5: a stateless translator cannot checksum a fragmented datagram; an unfragmented
    // one is amended only when configured to.
    if (v.isFragment) {
      return refuseUnlessHairpin(s, v, DropReason.udpChecksumZeroFragment, Icmp4Type.destinationUnreachable, Icmp4UnreachCode.adminProhibited, 0, out, hairpin);
    }
    if (!s.config.amendUdpChecksumZero) {
      return refuseUnlessHairpin(s, v, DropReason.udpChecksumZero, Icmp4Type.destinationUnreachable, Icmp4UnreachCode.adminProhibited, 0, out, hairpin);
    }
    amendUdp = true;
  }

  const payload = v.end - v.l4Offset;
  const fragmentHeader = v.isFragment ? HeaderSize.fragment : 0;
  const length = HeaderSize.ipv6 + fragmentHeader + payload;
  const cfg = s.config;
  if ((flags & XlatFlags.segment) !== 0) {
    // Split by the kernel into segments that fit: no MTU check, no fragmentation.
  } else if (v.dontFragment) {
    // RFC 7915 4.1: DF set and the next hop too small -> Fragmentation Needed; lowest-ipv6-mtu
    // does not apply to DF packets.
    if (length > cfg.ipv6NextHopMtu) {
      const mtu = cfg.ipv6NextHopMtu - (HeaderSize.ipv6 - HeaderSize.ipv4);
      return refuseUnlessHairpin(
        s,
        v,
        DropReason.fragmentationNeeded,
        Icmp4Type.destinationUnreachable,
        Icmp4UnreachCode.fragmentationNeeded,
        mtu,
        out,
        hairpin,
      );
    }
  } else {
    // RFC 7915 4.1: DF clear -> fragment so that every IPv6 packet fits lowest-ipv6-mtu (and the
    // next hop, which a TUN-attached translator must honour itself).
    const limit = Math.min(cfg.lowestIpv6Mtu, cfg.ipv6NextHopMtu);
    if (length > limit) return writeFragments(s, v, m, out, nextHeader, limit, hairpin, amendUdp);
  }
  if (length > out.maxPacketSize) return s.drop(DropReason.outputTooLarge);
  const at = out.reserve();
  if (at < 0) return s.drop(DropReason.batchFull);

  const o = out.buffer;
  const hopLimit = hairpin ? v.hopLimit : v.hopLimit - 1;
  const tc = trafficClassFor(s, v.tos);
  let l4 = at + HeaderSize.ipv6;
  if (fragmentHeader === 0) {
    writeIpv6Header(o, at, tc, payload, nextHeader, hopLimit, m.src, 0, m.dst, 0);
  } else {
    // RFC 7915 4.1: an IPv4 fragment keeps its identity in a Fragment header.
    writeIpv6Header(o, at, tc, HeaderSize.fragment + payload, IpProto.fragment, hopLimit, m.src, 0, m.dst, 0);
    writeFragmentHeader(o, l4, nextHeader, v.fragmentOffset, v.moreFragments, v.fragmentId);
    l4 += HeaderSize.fragment;
  }
  copyBytes(v.buf, v.l4Offset, v.end, o, l4);
  if (v.isFirstFragment) transport46(v, m.src, m.dst, m.srcPort, m.dstPort, m.icmpId, o, l4, payload);
  if (amendUdp) writeU16(o, l4 + FieldOffset.udpChecksum, amendedUdpChecksum(v, m));
  out.commit(length);
  return Verdict.forward;
}

/** A hairpinned packet has no IPv4 sender to answer: its ICMP errors are not sent. */
function refuseUnlessHairpin(
  s: XlatState,
  v: Ipv4View,
  reason: number,
  type: number,
  code: number,
  param: number,
  out: PacketBatch,
  hairpin: boolean,
): Verdict {
  return hairpin ? s.drop(reason) : refuse4(s, v, reason, type, code, param, out);
}

/**
 * RFC 7915 4.1: splits the DF-clear packet `v` into IPv6 fragments of at most `limit` bytes whose
 * data (except the last) is a multiple of 8; offsets continue from the IPv4 fragment offset, the
 * IPv4 ID becomes the Fragment ID, and M stays set on the last piece if the IPv4 MF was.
 */
function writeFragments(
  s: XlatState,
  v: Ipv4View,
  m: Mapping46,
  out: PacketBatch,
  nextHeader: number,
  limit: number,
  hairpin: boolean,
  amendUdp: boolean,
): Verdict {
  if (limit > out.maxPacketSize) return s.drop(DropReason.outputTooLarge);
  const chunk = Math.floor((limit - HeaderSize.ipv6 - HeaderSize.fragment) / 8) * 8;
  const payload = v.end - v.l4Offset;
  const pieces = Math.ceil(payload / chunk);
  if (pieces > out.free) return s.drop(DropReason.batchFull);
  const o = out.buffer;
  const hopLimit = hairpin ? v.hopLimit : v.hopLimit - 1;
  const tc = trafficClassFor(s, v.tos);
  for (let i = 0; i < pieces; i++) {
    const from = v.l4Offset + i * chunk;
    const size = Math.min(chunk, v.end - from);
    const at = out.reserve();
    writeIpv6Header(o, at, tc, HeaderSize.fragment + size, IpProto.fragment, hopLimit, m.src, 0, m.dst, 0);
    const more = i < pieces - 1 || v.moreFragments;
    writeFragmentHeader(o, at + HeaderSize.ipv6, nextHeader, v.fragmentOffset + i * chunk, more, v.fragmentId);
    const l4 = at + HeaderSize.ipv6 + HeaderSize.fragment;
    copyBytes(v.buf, from, from + size, o, l4);
    // The transport checksum covers the whole datagram and is only adjusted, never recomputed,
    // so it is right in the first fragment even though later data travels separately.
    if (i === 0 && v.isFirstFragment) {
      transport46(v, m.src, m.dst, m.srcPort, m.dstPort, m.icmpId, o, l4, size);
      if (amendUdp) writeU16(o, l4 + FieldOffset.udpChecksum, amendedUdpChecksum(v, m));
    }
    out.commit(HeaderSize.ipv6 + HeaderSize.fragment + size);
  }
  return Verdict.forward;
}

/**
 * RFC 7915 4.5 option 2: the UDP checksum of the whole (unfragmented) datagram with its new
 * addresses and ports, computed from the input so it is right even when the output is split.
 */
function amendedUdpChecksum(v: Ipv4View, m: Mapping46): number {
  const length = v.end - v.l4Offset;
  let sum = pseudoHeaderSum6(m.src, 0, m.dst, 0, IpProto.udp, length) + m.srcPort + m.dstPort;
  sum = sumWords(v.buf, v.l4Offset + 4, v.end, sum); // length, zero checksum and data
  const result = finishChecksum(sum);
  return result === 0 ? 0xffff : result;
}
