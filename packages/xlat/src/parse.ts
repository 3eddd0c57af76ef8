// Parses a raw IPv6 or IPv4 packet once into a reusable view: IP header fields, the IPv6 extension
// header chain (RFC 7915 5.1), fragment fields, ports or ICMP fields, and for ICMP errors the
// quoted packet one level deep together with the RFC 4884 extension boundaries. Verifies what the
// translation would otherwise hide: the IPv4 header checksum and the checksum of an ICMP error, whose
// message is rebuilt. Never throws: every problem is a status (a DropReason code), 0 meaning ok.

import { pseudoHeaderSum6, readU16, readU32, verifyChecksum } from '@nat64/wire';
import { FieldOffset, HeaderSize, Icmp4Type, IpProto, Ipv4Flags, Rfc4884 } from './constants.js';
import { DropReason } from './reasons.js';
import type { Ipv4View, Ipv6View } from './view.js';

/** Parse results; the non-zero values are the DropReason codes the translator counts. */
export const ParseStatus = {
  ok: 0,
  truncated: DropReason.truncated,
  badVersion: DropReason.badVersion,
  badHeader: DropReason.badHeader,
  badIpv4Checksum: DropReason.badIpv4Checksum,
  badIpv4Options: DropReason.badIpv4Options,
  badIcmpChecksum: DropReason.badIcmpChecksum,
} as const;

/**
 * Parses the IPv6 packet in buf[offset, offset + length) into `view`. The packet may be followed
 * by padding (bytes beyond the payload length are ignored) but not be shorter than its header says.
 */
export function parseIpv6(buf: Uint8Array, offset: number, length: number, view: Ipv6View): number {
  return parse6(buf, offset, length, view, false);
}

/** Parses the IPv4 packet in buf[offset, offset + length) into `view`; verifies the header checksum. */
export function parseIpv4(buf: Uint8Array, offset: number, length: number, view: Ipv4View): number {
  return parse4(buf, offset, length, view, false);
}

/** RFC 7915 5.1: extension headers that must not follow a Fragment header (ESP excluded, AH included). */
function isExtensionHeader(nextHeader: number): boolean {
  switch (nextHeader) {
    case IpProto.hopByHop:
    case IpProto.routing:
    case IpProto.fragment:
    case IpProto.destinationOptions:
    case IpProto.ah:
    case IpProto.mobility:
    case IpProto.hip:
    case IpProto.shim6:
    case IpProto.experiment1:
    case IpProto.experiment2:
      return true;
    default:
      return false;
  }
}

function resetCommon(v: Ipv4View | Ipv6View, buf: Uint8Array, offset: number): void {
  v.buf = buf;
  v.start = offset;
  v.end = offset;
  v.totalLength = 0;
  v.fragmentOffset = 0;
  v.moreFragments = false;
  v.fragmentId = 0;
  v.srcPort = 0;
  v.dstPort = 0;
  v.hasPorts = false;
  v.icmpType = -1;
  v.icmpCode = 0;
  v.icmpId = 0;
  v.hasChecksum = false;
  v.udpChecksumZero = false;
  v.isIcmpError = false;
  v.innerStart = 0;
  v.innerEnd = 0;
  v.extensionEnd = 0;
  v.innerStatus = ParseStatus.ok;
}

/** `quoted` parses the packet inside an ICMP error: it may be cut short after its IP headers. */
function parse6(buf: Uint8Array, o: number, length: number, v: Ipv6View, quoted: boolean): number {
  resetCommon(v, buf, o);
  v.fragmentHeaderOffset = -1;
  v.extensionAfterFragment = false;
  v.segmentsLeftPointer = -1;
  if (length < HeaderSize.ipv6 || o < 0 || o + length > buf.length) return ParseStatus.truncated;
  if (buf[o]! >>> 4 !== 6) return ParseStatus.badVersion;
  v.totalLength = HeaderSize.ipv6 + readU16(buf, o + 4);
  if (v.totalLength > length && !quoted) return ParseStatus.truncated;
  const end = o + Math.min(v.totalLength, length);
  v.end = end;
  v.trafficClass = ((buf[o]! & 0x0f) << 4) | (buf[o + 1]! >>> 4);
  v.flowLabel = ((buf[o + 1]! & 0x0f) << 16) | readU16(buf, o + 2);
  v.hopLimit = buf[o + 7]!;

  let nextHeader = buf[o + 6]!;
  let pos = o + HeaderSize.ipv6;
  for (;;) {
    if (nextHeader === IpProto.hopByHop || nextHeader === IpProto.routing || nextHeader === IpProto.destinationOptions) {
      if (pos + 8 > end) return ParseStatus.truncated;
      const headerLength = (buf[pos + 1]! + 1) * 8; // RFC 8200 4.3-4.6: 8-octet units, first 8 excluded
      if (pos + headerLength > end) return ParseStatus.truncated;
      if (nextHeader === IpProto.routing && buf[pos + 3] !== 0 && v.segmentsLeftPointer < 0) {
        v.segmentsLeftPointer = pos + 3 - o;
      }
      nextHeader = buf[pos]!;
      pos += headerLength;
    } else if (nextHeader === IpProto.fragment) {
      if (pos + HeaderSize.fragment > end) return ParseStatus.truncated;
      v.fragmentHeaderOffset = pos;
      const word = readU16(buf, pos + 2);
      v.fragmentOffset = word & 0xfff8; // RFC 8200 4.5: 13-bit offset in 8-octet units, already x8 here
      v.moreFragments = (word & 1) !== 0;
      v.fragmentId = readU32(buf, pos + 4);
      nextHeader = buf[pos]!;
      pos += HeaderSize.fragment;
      if (isExtensionHeader(nextHeader)) {
        // Also catches a second Fragment header, which can only come after the first.
        v.extensionAfterFragment = true;
        break;
      }
      if (v.fragmentOffset !== 0) break; // a non-first fragment carries no further headers
    } else {
      break;
    }
  }
  v.protocol = nextHeader;
  v.l4Offset = pos;
  if (v.fragmentOffset !== 0 || v.extensionAfterFragment) return ParseStatus.ok;
  return parseTransport(v, quoted, IpProto.icmpv6);
}

function parse4(buf: Uint8Array, o: number, length: number, v: Ipv4View, quoted: boolean): number {
  resetCommon(v, buf, o);
  v.sourceRoute = false;
  if (length < HeaderSize.ipv4 || o < 0 || o + length > buf.length) return ParseStatus.truncated;
  const versionIhl = buf[o]!;
  if (versionIhl >>> 4 !== 4) return ParseStatus.badVersion;
  const headerLength = (versionIhl & 0x0f) * 4;
  v.headerLength = headerLength;
  if (headerLength < HeaderSize.ipv4) return ParseStatus.badHeader;
  v.totalLength = readU16(buf, o + 2);
  if (v.totalLength < headerLength) return ParseStatus.badHeader;
  if (headerLength > length || (v.totalLength > length && !quoted)) return ParseStatus.truncated;
  v.end = o + Math.min(v.totalLength, length);
  v.tos = buf[o + 1]!;
  v.fragmentId = readU16(buf, o + 4);
  const flags = readU16(buf, o + 6);
  v.dontFragment = (flags & Ipv4Flags.dontFragment) !== 0;
  v.moreFragments = (flags & Ipv4Flags.moreFragments) !== 0;
  v.fragmentOffset = (flags & Ipv4Flags.offsetMask) * 8;
  v.hopLimit = buf[o + 8]!;
  v.protocol = buf[o + 9]!;
  v.src = readU32(buf, o + 12);
  v.dst = readU32(buf, o + 16);
  v.l4Offset = o + headerLength;
  if (!quoted) {
    if (!verifyChecksum(buf, o, o + headerLength)) return ParseStatus.badIpv4Checksum;
    if (headerLength > HeaderSize.ipv4) {
      const status = scanOptions(v, buf, o + HeaderSize.ipv4, o + headerLength);
      if (status !== ParseStatus.ok) return status;
    }
  }
  if (v.fragmentOffset !== 0) return ParseStatus.ok;
  return parseTransport(v, quoted, IpProto.icmp);
}

/** RFC 791 3.1 options; flags an unexpired Loose (131) or Strict (137) Source Route (RFC 7915 4.1). */
function scanOptions(v: Ipv4View, buf: Uint8Array, pos: number, end: number): number {
  while (pos < end) {
    const type = buf[pos]!;
    if (type === 0) break; // End of Option List
    if (type === 1) {
      pos++; // No Operation
      continue;
    }
    if (pos + 2 > end) return ParseStatus.badIpv4Options;
    const length = buf[pos + 1]!;
    if (length < 2 || pos + length > end) return ParseStatus.badIpv4Options;
    if (type === 131 || type === 137) {
      if (length < 3) return ParseStatus.badIpv4Options;
      // The pointer is 1-based within the option; past the end means the route is used up.
      if (buf[pos + 2]! <= length) v.sourceRoute = true;
    }
    pos += length;
  }
  return ParseStatus.ok;
}

function isIcmp4Error(type: number): boolean {
  return (
    type === Icmp4Type.destinationUnreachable ||
    type === Icmp4Type.sourceQuench ||
    type === Icmp4Type.redirect ||
    type === Icmp4Type.timeExceeded ||
    type === Icmp4Type.parameterProblem
  );
}

/** Reads ports or ICMP fields; for an outer ICMP error also locates and parses the quoted packet. */
function parseTransport(v: Ipv4View | Ipv6View, quoted: boolean, icmpProto: number): number {
  const buf = v.buf;
  const p = v.l4Offset;
  const available = v.end - p;
  const protocol = v.protocol;
  if (protocol === IpProto.tcp || protocol === IpProto.udp) {
    const headerSize = protocol === IpProto.tcp ? HeaderSize.tcp : HeaderSize.udp;
    if (available < headerSize && !quoted) return ParseStatus.truncated;
    if (available >= 4) {
      v.srcPort = readU16(buf, p);
      v.dstPort = readU16(buf, p + 2);
      v.hasPorts = true;
    }
    v.hasChecksum = available >= (protocol === IpProto.tcp ? 18 : 8);
    v.udpChecksumZero = protocol === IpProto.udp && v.hasChecksum && readU16(buf, p + FieldOffset.udpChecksum) === 0;
    return ParseStatus.ok;
  }
  if (protocol !== icmpProto) return ParseStatus.ok;
  if (available < HeaderSize.icmp && !quoted) return ParseStatus.truncated;
  if (available < 2) return quoted ? ParseStatus.ok : ParseStatus.truncated;
  const type = buf[p]!;
  v.icmpType = type;
  v.icmpCode = buf[p + 1]!;
  v.hasChecksum = available >= 4;
  if (available >= 6) v.icmpId = readU16(buf, p + 4);
  const isV6 = icmpProto === IpProto.icmpv6;
  v.isIcmpError = isV6 ? type < 128 : isIcmp4Error(type);
  if (!v.isIcmpError || quoted) return ParseStatus.ok;
  // RFC 7915 5: "the checksum MUST be evaluated before translation". An error's message is rebuilt
  // around its translated quote, so a corrupted one would leave with a fresh, valid checksum. A
  // fragment's checksum covers data not here; fragmented ICMP is refused anyway (RFC 7915 1.2).
  if (!v.moreFragments) {
    const pseudo = isV6 ? pseudoHeaderSum6(buf, v.start + 8, buf, v.start + 24, IpProto.icmpv6, v.end - p) : 0;
    if (!verifyChecksum(buf, p, v.end, pseudo)) return ParseStatus.badIcmpChecksum;
  }

  // RFC 4884: Destination Unreachable and Time Exceeded (and ICMPv4 Parameter Problem) may carry a
  // length attribute; when it is set, an extension structure follows the padded original datagram.
  const innerStart = p + HeaderSize.icmp;
  let innerEnd = v.end;
  const withLength = isV6 ? type === 1 || type === 3 : type === 3 || type === 11 || type === 12;
  if (withLength) {
    const units = buf[p + (isV6 ? Rfc4884.lengthByte6 : Rfc4884.lengthByte4)]!;
    const regionEnd = innerStart + units * (isV6 ? Rfc4884.unit6 : Rfc4884.unit4);
    // A length pointing past the message is ignored: the whole remainder is the datagram.
    if (units !== 0 && regionEnd <= v.end) innerEnd = regionEnd;
  }
  v.innerStart = innerStart;
  v.innerEnd = innerEnd;
  v.extensionEnd = v.end;
  const inner = v.inner;
  if (inner === null) {
    v.innerStatus = ParseStatus.truncated; // a view built without an inner view cannot hold the quote
    return ParseStatus.ok;
  }
  v.innerStatus = isV6
    ? parse6(buf, innerStart, innerEnd - innerStart, inner as Ipv6View, true)
    : parse4(buf, innerStart, innerEnd - innerStart, inner as Ipv4View, true);
  return ParseStatus.ok;
}
