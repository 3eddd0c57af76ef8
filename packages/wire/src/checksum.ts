// The Internet checksum (RFC 1071): one's-complement sums over 16-bit words, the IPv4 and IPv6
// pseudo-headers, and incremental update (RFC 1624 eqn. 3) so that a rewritten checksum stays
// exactly as right or as wrong as it arrived.
//
// Sums are kept unfolded (plain JS numbers, exact below 2^53) and folded only at the end; a 64 KiB
// message sums to below 2^32, where folding takes two steps.

/**
 * Adds the big-endian 16-bit words of buf[start, end) to `sum` and returns the unfolded result.
 * An odd final byte counts as the high byte of a word padded with zero (RFC 1071 section 1).
 */
export function sumWords(buf: Uint8Array, start: number, end: number, sum = 0): number {
  const last = end - ((end - start) & 1);
  let i = start;
  for (; i < last; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/** Folds an unfolded sum into 16 bits with end-around carry. */
export function foldSum(sum: number): number {
  while (sum > 0xffff_ffff) sum = (sum % 0x1_0000) + Math.floor(sum / 0x1_0000);
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum & 0xffff) + (sum >>> 16);
}

/** The checksum field value for a message whose words (checksum field zeroed) sum to `sum`. */
export function finishChecksum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/**
 * A UDP checksum as transmitted: a computed zero is sent as 0xFFFF, because zero on the wire
 * means "no checksum" (RFC 768; RFC 8200 section 8.1).
 */
export function finishUdpChecksum(sum: number): number {
  return finishChecksum(sum) || 0xffff;
}

/** Checksum of buf[start, end) with an optional pseudo-header sum; the checksum field must be zero. */
export function internetChecksum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  return finishChecksum(sumWords(buf, start, end, initial));
}

/** True when buf[start, end), checksum field included, verifies (sums to 0xffff). */
export function verifyChecksum(buf: Uint8Array, start: number, end: number, initial = 0): boolean {
  return foldSum(sumWords(buf, start, end, initial)) === 0xffff;
}

/** Sum of an IPv4 address given as an unsigned 32-bit number. */
export function sumIpv4Address(address: number): number {
  return (address >>> 16) + (address & 0xffff);
}

/** Sum of the 16-byte IPv6 address at buf[offset]. */
export function sumIpv6Address(buf: Uint8Array, offset: number): number {
  return sumWords(buf, offset, offset + 16);
}

/**
 * IPv4 pseudo-header sum (RFC 768, RFC 9293 section 3.1): source, destination, zero, protocol and
 * the 16-bit upper-layer length.
 */
export function pseudoHeaderSum4(src: number, dst: number, protocol: number, length: number): number {
  return sumIpv4Address(src) + sumIpv4Address(dst) + protocol + length;
}

/**
 * IPv6 pseudo-header sum (RFC 8200 section 8.1): source, destination (16 bytes each at the given
 * offsets), the 32-bit upper-layer length, three zero bytes and the next header value.
 */
export function pseudoHeaderSum6(srcBuf: Uint8Array, srcOffset: number, dstBuf: Uint8Array, dstOffset: number, nextHeader: number, length: number): number {
  return sumIpv6Address(srcBuf, srcOffset) + sumIpv6Address(dstBuf, dstOffset) + (length >>> 16) + (length & 0xffff) + nextHeader;
}

/**
 * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for any number of changed words: `removed` is the
 * unfolded sum of the old words m, `added` the unfolded sum of the new words m'. The result is
 * off by exactly what `checksum` was off by.
 */
export function updateChecksum(checksum: number, removed: number, added: number): number {
  return ~foldSum((~checksum & 0xffff) + (~foldSum(removed) & 0xffff) + foldSum(added)) & 0xffff;
}
