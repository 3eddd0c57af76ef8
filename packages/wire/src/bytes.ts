// Big-endian integer access on plain Uint8Arrays. Byte-wise access keeps hot paths free of DataView
// allocations and works on any Uint8Array view. Callers check bounds first: an index past the end
// reads as undefined, which these coerce to 0.

export function readU16(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 8) | buf[offset + 1]!;
}

export function readU32(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

export function writeU16(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 8;
  buf[offset + 1] = value;
}

export function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = value >>> 16;
  buf[offset + 2] = value >>> 8;
  buf[offset + 3] = value;
}

/** A 64-bit field as a bigint (allocates: for codecs, not the packet path). */
export function readU64(buf: Uint8Array, offset: number): bigint {
  return (BigInt(readU32(buf, offset)) << 32n) | BigInt(readU32(buf, offset + 4));
}

export function writeU64(buf: Uint8Array, offset: number, value: bigint): void {
  writeU32(buf, offset, Number(value >> 32n));
  writeU32(buf, offset + 4, Number(value & 0xffff_ffffn));
}

/**
 * Below this many bytes a plain loop beats `set(subarray())`, which allocates a view: the translator's
 * bound, as it had it. A caller whose packets sit just above it (a tunnel's) passes its own.
 */
const LOOP_COPY_MAX = 64;

/**
 * Copies src[start, end) to dst at `at`. Runs of at most `loopMax` bytes are copied by hand so that
 * small packets cost no allocation; longer runs go through the native copy (one short-lived view).
 */
export function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number, loopMax = LOOP_COPY_MAX): void {
  const n = end - start;
  if (n <= loopMax) {
    for (let i = 0; i < n; i++) dst[at + i] = src[start + i]!;
    return;
  }
  dst.set(src.subarray(start, end), at);
}

/** Zero-fills dst[start, end). */
export function zeroBytes(dst: Uint8Array, start: number, end: number): void {
  if (end - start <= LOOP_COPY_MAX) {
    for (let i = start; i < end; i++) dst[i] = 0;
    return;
  }
  dst.fill(0, start, end);
}
