// The shape every wire structure's codec shares (the dns-packet trio), with the new offset
// returned by encode instead of a mutable `encode.bytes`.

export interface Codec<T> {
  encodingLength(value: T): number;
  /** Writes `value` at `offset` (default 0) and returns the offset just past it. Throws RangeError on invalid values or too small a buffer. */
  encode(value: T, buf: Uint8Array, offset?: number): number;
  /** Reads a value from `length` bytes at `offset` (defaults: 0, the rest). Throws GeneveDecodeError. */
  decode(buf: Uint8Array, offset?: number, length?: number): T;
}
