// The Internet checksum (RFC 1071) for the outer IPv4 header and UDP (RFC 768; RFC 8200 §8.1).
// Sums are kept unfolded in a JS number: 65535-byte datagrams sum to below 2^32, far from 2^53.

/** Adds the 16-bit big-endian words of buf[start, end) to `sum`; an odd last byte is padded with zero. */
export function sumWords(buf: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  // Eight bytes per turn: fewer loop checks, and the sum stays far below 2^53.
  const blocksEnd = end - ((end - start) & 7);
  for (; i < blocksEnd; i += 8) {
    sum += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!) + ((buf[i + 4]! << 8) | buf[i + 5]!) + ((buf[i + 6]! << 8) | buf[i + 7]!);
  }
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/** Folds carries into 16 bits and complements: the value to store in a checksum field. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x1_0000) + Math.floor(sum / 0x1_0000);
  return ~sum & 0xffff;
}

/**
 * A UDP checksum as transmitted: a computed zero is sent as 0xFFFF, because zero on the wire
 * means "no checksum" (RFC 768; RFC 8200 §8.1).
 */
export function finishUdpChecksum(sum: number): number {
  return finishChecksum(sum) || 0xffff;
}
