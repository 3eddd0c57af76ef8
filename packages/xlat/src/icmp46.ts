// ICMPv4 error -> ICMPv6 error (RFC 7915 4.2, 4.3): type/code/parameter mapping, the quoted
// IPv4 packet translated to IPv6 one level deep (hop limit kept), cut to a 1280-byte error with
// any RFC 4884 extension kept whole, and a fresh checksum (the parser verified the one that arrived).

import { internetChecksum, pseudoHeaderSum6, readU16, writeU16 } from '@nat64/wire';
import { copyBytes, zeroBytes } from '@nat64/wire';
import {
  DEST_UNREACH_4TO6,
  HeaderSize,
  Icmp4Type,
  Icmp6Type,
  IcmpErrorMax,
  IpProto,
  MinMtu,
  POINTER_4TO6,
  PROTOCOL_UNREACH_POINTER,
  Rfc4884,
} from './constants.js';
import { trafficClassFor } from './common.js';
import { writeFragmentHeader, writeIcmpHeader, writeIpv6Header } from './headers.js';
import { MAPPED, checkQuoted, mapped, setMapped } from './icmp-mapped.js';
import { layoutIcmpError, plateauBelow } from './icmp-layout.js';
import type { PacketBatch } from './batch.js';
import type { Mapping46 } from './mapping.js';
import { DropReason, Verdict } from './reasons.js';
import type { XlatState } from './state.js';
import { transport46 } from './transport.js';
import type { Ipv4View } from './view.js';

const HEADERS = HeaderSize.ipv6 + HeaderSize.icmp;

/** Translates the ICMPv4 error `v` (outer checks already passed) into `out`. */
export function translateIcmp4Error(s: XlatState, v: Ipv4View, m: Mapping46, out: PacketBatch, hairpin: boolean): Verdict {
  const problem = mapError(s, v);
  if (problem !== MAPPED) return s.drop(problem);
  const inner = v.inner!;
  const { type, code, rest } = mapped;
  const buf = v.buf;

  const innerFragmentHeader = inner.isFragment ? HeaderSize.fragment : 0;
  const innerHeaders = HeaderSize.ipv6 + innerFragmentHeader;
  const translated = inner.end - inner.l4Offset + innerHeaders;
  // Only Destination Unreachable and Time Exceeded carry an RFC 4884 length in ICMPv6.
  const keepsExtension = type === Icmp6Type.destinationUnreachable || type === Icmp6Type.timeExceeded;
  const layout = s.layout;
  layoutIcmpError(layout, translated, keepsExtension ? v.extensionEnd - v.innerEnd : 0, IcmpErrorMax.ipv6, HEADERS, Rfc4884.unit6);
  const total = HEADERS + layout.padded + layout.extension;
  const at = out.reserve();
  if (at < 0) return s.drop(DropReason.batchFull);

  const o = out.buffer;
  const hopLimit = hairpin ? v.hopLimit : v.hopLimit - 1;
  writeIpv6Header(o, at, trafficClassFor(s, v.tos), total - HeaderSize.ipv6, IpProto.icmpv6, hopLimit, m.src, 0, m.dst, 0);
  const icmp = at + HeaderSize.ipv6;
  writeIcmpHeader(o, icmp, type, code, rest);
  if (layout.extension > 0) o[icmp + Rfc4884.lengthByte6] = layout.padded / Rfc4884.unit6;

  // RFC 7915 4.3: the quoted header keeps its declared length and its TTL.
  const q = icmp + HeaderSize.icmp;
  const innerNext = inner.protocol === IpProto.icmp ? IpProto.icmpv6 : inner.protocol;
  const innerPayload = inner.totalLength - inner.headerLength + innerFragmentHeader;
  const tc = trafficClassFor(s, inner.tos);
  if (innerFragmentHeader === 0) {
    writeIpv6Header(o, q, tc, innerPayload, innerNext, inner.hopLimit, m.innerSrc, 0, m.innerDst, 0);
  } else {
    writeIpv6Header(o, q, tc, innerPayload, IpProto.fragment, inner.hopLimit, m.innerSrc, 0, m.innerDst, 0);
    writeFragmentHeader(o, q + HeaderSize.ipv6, innerNext, inner.fragmentOffset, inner.moreFragments, inner.fragmentId);
  }
  const copied = layout.datagram - innerHeaders;
  const data = q + innerHeaders;
  copyBytes(buf, inner.l4Offset, inner.l4Offset + copied, o, data);
  if (inner.isFirstFragment) transport46(inner, m.innerSrc, m.innerDst, m.innerSrcPort, m.innerDstPort, m.innerIcmpId, o, data, copied);
  zeroBytes(o, q + layout.datagram, q + layout.padded);
  if (layout.extension > 0) copyBytes(buf, v.innerEnd, v.extensionEnd, o, q + layout.padded);

  // The parser verified the incoming checksum (parse.ts), so a fresh one is right.
  writeU16(o, icmp + 2, internetChecksum(o, icmp, at + total, pseudoHeaderSum6(o, at + 8, o, at + 24, IpProto.icmpv6, total - HeaderSize.ipv6)));
  out.commit(total);
  return Verdict.forward;
}

/** RFC 7915 4.2: the ICMPv6 type, code and MTU or pointer for the ICMPv4 error `v`, into `mapped`; else the DropReason. */
function mapError(s: XlatState, v: Ipv4View): number {
  const quoted = checkQuoted(v);
  if (quoted !== MAPPED) return quoted;
  switch (v.icmpType) {
    case Icmp4Type.destinationUnreachable:
      return mapUnreachable(s, v);
    case Icmp4Type.timeExceeded:
      return setMapped(Icmp6Type.timeExceeded, v.icmpCode, 0);
    case Icmp4Type.parameterProblem: {
      if (v.icmpCode !== 0 && v.icmpCode !== 2) return DropReason.icmpCode;
      const pointer = POINTER_4TO6[v.buf[v.l4Offset + 4]!] ?? -1;
      return pointer < 0 ? DropReason.icmpPointer : setMapped(Icmp6Type.parameterProblem, 0, pointer);
    }
    default:
      return DropReason.icmpType;
  }
}

/** RFC 7915 4.2 Destination Unreachable: the code by table, with the pointer or MTU its ICMPv6 type carries. */
function mapUnreachable(s: XlatState, v: Ipv4View): number {
  const codes = DEST_UNREACH_4TO6[v.icmpCode];
  if (codes === undefined || codes === null) return DropReason.icmpCode;
  const [type, code] = codes;
  if (type === Icmp6Type.parameterProblem) return setMapped(type, code, PROTOCOL_UNREACH_POINTER);
  if (type !== Icmp6Type.packetTooBig) return setMapped(type, code, 0);
  // RFC 7915 4.2: minimum(MTU + 20, IPv6 next-hop MTU, IPv4 next-hop MTU + 20), 28 when the
  // packet in error gets a Fragment header; a zero MTU means "guess from the plateaus".
  const inner = v.inner!;
  const delta = inner.isFragment ? HeaderSize.ipv6 + HeaderSize.fragment - HeaderSize.ipv4 : HeaderSize.ipv6 - HeaderSize.ipv4;
  let advertised = readU16(v.buf, v.l4Offset + 6);
  if (advertised === 0) advertised = plateauBelow(inner.totalLength);
  const mtu = Math.min(advertised + delta, s.config.ipv6NextHopMtu, s.config.ipv4NextHopMtu + delta);
  return setMapped(type, code, Math.max(MinMtu.ipv6, mtu)); // RFC 7915 5: never below the IPv6 minimum MTU
}
