// The shape every wire structure's codec shares (the dns-packet trio), with the new offset
// returned by encode instead of a mutable `encode.bytes`.

export interface Codec<T> {
  /** Octets encode() writes for `value`. */
  encodingLength(value: T): number;
  /** Writes `value` at `offset` (default 0) and returns the offset after it. Throws RangeError for a
   * value that does not fit its fields or a buffer without room (the buffer may then hold part of it). */
  encode(value: T, buf: Uint8Array, offset?: number): number;
  /** Reads a value from `length` octets at `offset` (defaults: 0 and the rest of the buffer). Throws
   * the protocol's decode error on malformed input. */
  decode(buf: Uint8Array, offset?: number, length?: number): T;
}
