// The Internet checksum (RFC 1071): one's-complement sums over 16-bit words, the IPv4 and IPv6
// pseudo-headers, and incremental update (RFC 1624 eqn. 3) so that a translated transport
// checksum stays exactly as right or as wrong as it arrived.
//
// Sums are kept unfolded (plain JS numbers, exact below 2^53) and folded only at the end; every
// message we sum is at most 64 KiB, so an unfolded sum stays far below 2^32.

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

/** Folds an unfolded sum (below 2^32) into 16 bits with end-around carry. */
export function fold(sum: number): number {
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum & 0xffff) + (sum >>> 16);
}

/** The checksum field value for a message whose words (checksum field zeroed) sum to `sum`. */
export function finish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/** Checksum of buf[start, end) with an optional pseudo-header sum; the checksum field must be zero. */
export function checksum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  return finish(sumWords(buf, start, end, initial));
}

/** True when buf[start, end), checksum field included, verifies (sums to 0xffff). */
export function verify(buf: Uint8Array, start: number, end: number, initial = 0): boolean {
  return fold(sumWords(buf, start, end, initial)) === 0xffff;
}

/** Sum of an IPv4 address given as an unsigned 32-bit number. */
export function sumIpv4(address: number): number {
  return (address >>> 16) + (address & 0xffff);
}

/** Sum of the 16-byte IPv6 address at buf[offset]. */
export function sumIpv6(buf: Uint8Array, offset: number): number {
  return sumWords(buf, offset, offset + 16);
}

/**
 * IPv4 pseudo-header sum (RFC 9293 3.1, RFC 768): source, destination, zero, protocol and the
 * 16-bit upper-layer length.
 */
export function pseudoSum4(src: number, dst: number, protocol: number, length: number): number {
  return sumIpv4(src) + sumIpv4(dst) + protocol + length;
}

/**
 * IPv6 pseudo-header sum (RFC 8200 8.1): source, destination (16 bytes each at the given offsets),
 * the 32-bit upper-layer length, three zero bytes and the next header value.
 */
export function pseudoSum6(
  srcBuf: Uint8Array,
  srcOffset: number,
  dstBuf: Uint8Array,
  dstOffset: number,
  nextHeader: number,
  length: number,
): number {
  return sumIpv6(srcBuf, srcOffset) + sumIpv6(dstBuf, dstOffset) + (length >>> 16) + (length & 0xffff) + nextHeader;
}

/**
 * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for any number of changed words: `removed` is the
 * unfolded sum of the old words m, `added` the unfolded sum of the new words m'. The result is
 * off by exactly what `checksum` was off by.
 */
export function update(checksum: number, removed: number, added: number): number {
  return ~fold((~checksum & 0xffff) + (~fold(removed) & 0xffff) + fold(added)) & 0xffff;
}
