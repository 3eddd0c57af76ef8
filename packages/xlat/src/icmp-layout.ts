// Size arithmetic for translated ICMP errors: how much of the translated quoted datagram fits,
// its RFC 4884 padding, and whether the extension structure survives (RFC 7915 4.2 / 5.2 "ICMP
// Error Payload"), plus the RFC 1191 plateau guess for a Fragmentation Needed without an MTU.

import { MTU_PLATEAUS, MinMtu, Rfc4884 } from './constants.js';
import type { IcmpLayout } from './state.js';

/**
 * Fills `layout` for an error of at most `max` bytes with `headers` bytes of IP + ICMP header, a
 * translated quoted datagram of `translated` bytes and an RFC 4884 extension of `extension`
 * bytes (0 = none). Priorities, highest first: the headers and the first 128 datagram bytes, the
 * extension (kept whole or dropped whole, RFC 7915 4.2 "MUST be adjusted"), then the rest of the
 * datagram. With an extension the datagram field is a whole number of `unit`s (4 for ICMPv4, 8
 * for ICMPv6) and at least 128 bytes, zero-padded when shorter (RFC 4884 section 4).
 */
export function layoutIcmpError(layout: IcmpLayout, translated: number, extension: number, max: number, headers: number, unit: number): void {
  const min = Rfc4884.minDatagram;
  if (extension > 0 && headers + min + extension <= max) {
    let padded = translated < min ? min : translated - (translated % unit);
    if (headers + padded + extension > max) padded = Math.floor((max - headers - extension) / unit) * unit;
    layout.padded = padded;
    layout.datagram = Math.min(translated, padded);
    layout.extension = extension;
    return;
  }
  layout.datagram = Math.min(translated, max - headers);
  layout.padded = layout.datagram;
  layout.extension = 0;
}

/**
 * RFC 1191 section 5 (cited by RFC 7915 4.2): when a router reports MTU 0, guess the greatest
 * plateau below the Total Length of the packet in error.
 */
export function plateauBelow(totalLength: number): number {
  for (const plateau of MTU_PLATEAUS) if (plateau < totalLength) return plateau;
  return MinMtu.ipv4;
}
