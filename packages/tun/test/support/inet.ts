// Checks on captured IP packets for the real-device tests: the Internet checksum (RFC 1071) and
// UDP checksums over the IPv4 (RFC 768) and IPv6 (RFC 8200 §8.1) pseudo-headers.

import { finishChecksum, sumWords } from '@nat64/wire';

/** The one's-complement sum of the parts, folded and inverted; 0 means a valid checksum inside. */
export function internetChecksum(...parts: Uint8Array[]): number {
  return finishChecksum(parts.reduce((sum, part) => sumWords(part, 0, part.length, sum), 0));
}

/** Whether the UDP checksum of an IPv4 packet with a 20-byte header verifies. */
export function udp4ChecksumValid(packet: Buffer): boolean {
  const udp = packet.subarray(20);
  const pseudo = Buffer.concat([packet.subarray(12, 20), Buffer.from([0, 17]), udp.subarray(4, 6)]);
  return internetChecksum(pseudo, udp) === 0;
}

/** Whether the UDP checksum of an IPv6 packet without extension headers verifies. */
export function udp6ChecksumValid(packet: Buffer): boolean {
  const udp = packet.subarray(40);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(udp.length);
  const pseudo = Buffer.concat([packet.subarray(8, 40), length, Buffer.from([0, 0, 0, 17])]);
  return internetChecksum(pseudo, udp) === 0;
}
