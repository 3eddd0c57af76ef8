// Writers for the headers the translator emits: IPv4 (RFC 791 3.1), IPv6 (RFC 8200 3) and the
// Fragment header (RFC 8200 4.5).

import { internetChecksum, writeU16, writeU32 } from '@nat64/wire';
import { HeaderSize } from './constants.js';

/**
 * Writes a 20-byte IPv4 header (no options) with a valid header checksum. Callers pass addresses
 * as int32 (`address | 0`): an unsigned value above 2^31 is a heap number, and passing one to a
 * function that is not inlined allocates a box per call.
 */
export function writeIpv4Header(
  o: Uint8Array,
  at: number,
  tos: number,
  totalLength: number,
  id: number,
  flagsAndOffset: number,
  ttl: number,
  protocol: number,
  src: number,
  dst: number,
): void {
  o[at] = 0x45;
  o[at + 1] = tos;
  writeU16(o, at + 2, totalLength);
  writeU16(o, at + 4, id);
  writeU16(o, at + 6, flagsAndOffset);
  o[at + 8] = ttl;
  o[at + 9] = protocol;
  o[at + 10] = 0;
  o[at + 11] = 0;
  writeU32(o, at + 12, src);
  writeU32(o, at + 16, dst);
  writeU16(o, at + 10, internetChecksum(o, at, at + HeaderSize.ipv4));
}

/** Writes a 40-byte IPv6 header with flow label 0 (RFC 7915 4.1). */
export function writeIpv6Header(
  o: Uint8Array,
  at: number,
  trafficClass: number,
  payloadLength: number,
  nextHeader: number,
  hopLimit: number,
  src: Uint8Array,
  srcOffset: number,
  dst: Uint8Array,
  dstOffset: number,
): void {
  o[at] = 0x60 | (trafficClass >>> 4);
  o[at + 1] = (trafficClass & 0x0f) << 4;
  o[at + 2] = 0;
  o[at + 3] = 0;
  writeU16(o, at + 4, payloadLength);
  o[at + 6] = nextHeader;
  o[at + 7] = hopLimit;
  for (let i = 0; i < 16; i++) {
    o[at + 8 + i] = src[srcOffset + i]!;
    o[at + 24 + i] = dst[dstOffset + i]!;
  }
}

/** Writes an 8-byte Fragment header; `offsetBytes` is a multiple of 8. */
export function writeFragmentHeader(o: Uint8Array, at: number, nextHeader: number, offsetBytes: number, more: boolean, id: number): void {
  o[at] = nextHeader;
  o[at + 1] = 0;
  writeU16(o, at + 2, (offsetBytes & 0xfff8) | (more ? 1 : 0));
  writeU32(o, at + 4, id);
}

/** Writes an ICMP or ICMPv6 header with a zero checksum (filled in once the message is whole); `rest` is its second word. */
export function writeIcmpHeader(o: Uint8Array, at: number, type: number, code: number, rest: number): void {
  o[at] = type;
  o[at + 1] = code;
  writeU16(o, at + 2, 0);
  writeU32(o, at + 4, rest);
}
