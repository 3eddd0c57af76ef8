// ICMPv6 error -> ICMPv4 error (RFC 7915 5.2, 5.3): type/code/parameter mapping, the quoted
// IPv6 packet translated to IPv4 one level deep (TTL kept), cut to a 576-byte error with any
// RFC 4884 extension kept whole, and a fresh checksum (the parser verified the one that arrived).

import { internetChecksum, readU32, writeU16 } from '@nat64/wire';
import { copyBytes, zeroBytes } from '@nat64/wire';
import {
  DEST_UNREACH_6TO4,
  DF_THRESHOLD,
  HeaderSize,
  Icmp4Type,
  Icmp4UnreachCode,
  Icmp6Type,
  Icmp6ParamCode,
  IcmpErrorMax,
  IpProto,
  Ipv4Flags,
  MinMtu,
  POINTER_6TO4,
  Rfc4884,
} from './constants.js';
import { tosFor } from './common.js';
import { writeIcmpHeader, writeIpv4Header } from './headers.js';
import { MAPPED, checkQuoted, mapped, setMapped } from './icmp-mapped.js';
import { layoutIcmpError } from './icmp-layout.js';
import type { PacketBatch } from './batch.js';
import type { Mapping64 } from './mapping.js';
import { DropReason, Verdict } from './reasons.js';
import type { XlatState } from './state.js';
import { transport64 } from './transport.js';
import type { Ipv6View } from './view.js';

const HEADERS = HeaderSize.ipv4 + HeaderSize.icmp;

/** Translates the ICMPv6 error `v` (outer checks already passed) into `out`. */
export function translateIcmp6Error(s: XlatState, v: Ipv6View, m: Mapping64, out: PacketBatch): Verdict {
  const problem = mapError(s, v);
  if (problem !== MAPPED) return s.drop(problem);
  const inner = v.inner!;
  const { type, code, rest } = mapped;
  const buf = v.buf;

  const innerHeaders = inner.l4Offset - inner.start;
  const translated = inner.end - inner.start - innerHeaders + HeaderSize.ipv4;
  const layout = s.layout;
  layoutIcmpError(layout, translated, v.extensionEnd - v.innerEnd, IcmpErrorMax.ipv4, HEADERS, Rfc4884.unit4);
  const total = HEADERS + layout.padded + layout.extension;
  const at = out.reserve();
  if (at < 0) return s.drop(DropReason.batchFull);

  const o = out.buffer;
  writeIpv4Header(o, at, tosFor(s, v.trafficClass), total, s.nextIpv4Id(), 0, v.hopLimit - 1, IpProto.icmp, m.src | 0, m.dst | 0);
  const icmp = at + HeaderSize.ipv4;
  writeIcmpHeader(o, icmp, type, code, rest);
  if (layout.extension > 0) o[icmp + Rfc4884.lengthByte4] = layout.padded / Rfc4884.unit4;

  const q = icmp + HeaderSize.icmp;
  writeQuotedIpv4Header(s, inner, m, o, q, innerHeaders);
  const copied = layout.datagram - HeaderSize.ipv4;
  copyBytes(buf, inner.l4Offset, inner.l4Offset + copied, o, q + HeaderSize.ipv4);
  if (inner.isFirstFragment) {
    transport64(inner, m.innerSrc | 0, m.innerDst | 0, m.innerSrcPort, m.innerDstPort, m.innerIcmpId, o, q + HeaderSize.ipv4, copied);
  }
  zeroBytes(o, q + layout.datagram, q + layout.padded);
  if (layout.extension > 0) copyBytes(buf, v.innerEnd, v.extensionEnd, o, q + layout.padded);

  // The parser verified the incoming checksum (parse.ts), so a fresh one is right.
  writeU16(o, icmp + 2, internetChecksum(o, icmp, at + total));
  out.commit(total);
  return Verdict.forward;
}

/** RFC 7915 5.3: the quoted IPv6 header as IPv4, declared length kept, TTL not decremented. */
function writeQuotedIpv4Header(s: XlatState, inner: Ipv6View, m: Mapping64, o: Uint8Array, q: number, innerHeaders: number): void {
  const totalLength = inner.totalLength - innerHeaders + HeaderSize.ipv4;
  let id = 0;
  let flagsAndOffset: number;
  if (inner.hasFragmentHeader) {
    id = inner.fragmentId & 0xffff;
    flagsAndOffset = (inner.moreFragments ? Ipv4Flags.moreFragments : 0) | (inner.fragmentOffset >>> 3);
  } else {
    flagsAndOffset = totalLength > DF_THRESHOLD ? Ipv4Flags.dontFragment : 0;
  }
  const protocol = inner.protocol === IpProto.icmpv6 ? IpProto.icmp : inner.protocol;
  writeIpv4Header(o, q, tosFor(s, inner.trafficClass), totalLength, id, flagsAndOffset, inner.hopLimit, protocol, m.innerSrc | 0, m.innerDst | 0);
}

/** RFC 7915 5.2: the ICMPv4 type, code and MTU or pointer for the ICMPv6 error `v`, into `mapped`; else the DropReason. */
function mapError(s: XlatState, v: Ipv6View): number {
  const quoted = checkQuoted(v);
  if (quoted !== MAPPED) return quoted;
  switch (v.icmpType) {
    case Icmp6Type.destinationUnreachable:
      return mapUnreachable(v);
    case Icmp6Type.packetTooBig: {
      // RFC 7915 5.2: minimum(MTU - 20, IPv4 next-hop MTU, IPv6 next-hop MTU - 20), 28 when the
      // packet in error carries a Fragment header that translation removes.
      const delta = v.inner!.hasFragmentHeader ? HeaderSize.ipv6 + HeaderSize.fragment - HeaderSize.ipv4 : HeaderSize.ipv6 - HeaderSize.ipv4;
      const mtu = Math.min(readU32(v.buf, v.l4Offset + 4) - delta, s.config.ipv4NextHopMtu, s.config.ipv6NextHopMtu - delta);
      return setMapped(Icmp4Type.destinationUnreachable, Icmp4UnreachCode.fragmentationNeeded, Math.min(0xffff, Math.max(MinMtu.ipv4, mtu)));
    }
    case Icmp6Type.timeExceeded:
      return setMapped(Icmp4Type.timeExceeded, v.icmpCode, 0);
    case Icmp6Type.parameterProblem: {
      if (v.icmpCode === Icmp6ParamCode.unrecognizedNextHeader) return setMapped(Icmp4Type.destinationUnreachable, Icmp4UnreachCode.protocol, 0);
      if (v.icmpCode !== Icmp6ParamCode.erroneousField) return DropReason.icmpCode;
      const pointer = readU32(v.buf, v.l4Offset + 4);
      const field = pointer < POINTER_6TO4.length ? POINTER_6TO4[pointer]! : -1;
      return field < 0 ? DropReason.icmpPointer : setMapped(Icmp4Type.parameterProblem, 0, field * 0x1000000);
    }
    default:
      return DropReason.icmpType;
  }
}

/** RFC 7915 5.2 Destination Unreachable: the code by table. */
function mapUnreachable(v: Ipv6View): number {
  const codes = DEST_UNREACH_6TO4[v.icmpCode];
  return codes === undefined || codes === null ? DropReason.icmpCode : setMapped(codes[0], codes[1], 0);
}
