// Test helpers: literal bytes written as hex, and Internet checksum checks (RFC 1071, through
// @nat64/wire, which is tested against a plain reference) for the checksums inside golden vectors.

import { foldSum, sumWords } from '@nat64/wire';

/** Joins hex strings (whitespace ignored) and byte arrays into one Uint8Array. */
export function bytes(...parts: (string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((part) => {
    if (part instanceof Uint8Array) return part;
    const hex = part.replace(/\s+/g, '');
    if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new Error(`bad hex: ${part}`);
    return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
  });
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** The 16-bit one's-complement sum of `data`, carries folded, not complemented. */
export function onesComplementSum(data: Uint8Array): number {
  return foldSum(sumWords(data, 0, data.length));
}

/** Whether an IPv4 header (with its checksum field) sums to all ones, i.e. verifies. */
export function ipv4HeaderVerifies(header: Uint8Array): boolean {
  return onesComplementSum(header) === 0xffff;
}

/** Whether the UDP datagram (with checksum) verifies under the IPv4 pseudo-header (RFC 768). */
export function udp4Verifies(source: Uint8Array, destination: Uint8Array, udp: Uint8Array): boolean {
  const pseudo = bytes(source, destination, '00 11', new Uint8Array([udp.length >> 8, udp.length & 0xff]));
  return onesComplementSum(bytes(pseudo, udp)) === 0xffff;
}

/** Whether the UDP datagram (with checksum) verifies under the IPv6 pseudo-header (RFC 8200 §8.1). */
export function udp6Verifies(source: Uint8Array, destination: Uint8Array, udp: Uint8Array): boolean {
  const length = new Uint8Array([0, 0, udp.length >> 8, udp.length & 0xff]);
  const pseudo = bytes(source, destination, length, '00 00 00 11');
  return onesComplementSum(bytes(pseudo, udp)) === 0xffff;
}
