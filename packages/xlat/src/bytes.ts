// Byte copying on plain Uint8Arrays without allocating on the packet path (big-endian fields are
// @nat64/wire's). Callers bounds-check before calling; these helpers do not.

/** Below this many bytes a plain loop beats `set(subarray())`, which allocates a view. */
const LOOP_COPY_MAX = 64;

/**
 * Copies src[start, end) to dst at `at`. Short runs are copied by hand so that small packets cost
 * no allocation; longer runs go through the native copy (one short-lived view object).
 */
export function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): void {
  const n = end - start;
  if (n <= LOOP_COPY_MAX) {
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
