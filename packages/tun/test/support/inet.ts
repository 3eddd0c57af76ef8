// Checks on captured IP packets for the real-device tests: the Internet checksum (RFC 1071) and
// UDP checksums over the IPv4 (RFC 768) and IPv6 (RFC 8200 §8.1) pseudo-headers.

/** The one's-complement sum of the parts, folded and inverted; 0 means a valid checksum inside. */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i += 2) sum += (part[i]! << 8) | (part[i + 1] ?? 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
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
