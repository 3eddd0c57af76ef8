// The range checks encoders run before writing (byte copies and big-endian fields are
// @nat64/wire's).

export const TWO_POW_32 = 0x1_0000_0000;

/** Joins a 64-bit field's words; exact only when high <= 0x1FFFFF, which callers check. */
export function joinU64(high: number, low: number): number {
  return high * TWO_POW_32 + low;
}

export function checkUint(value: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${field} must be an integer in 0..${max}, got ${value}`);
  }
}

export function checkBytes(value: Uint8Array, length: number, field: string): void {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new RangeError(`${field} must be a Uint8Array of ${length} bytes`);
  }
}

export function checkRoom(buf: Uint8Array, offset: number, length: number, structure: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > buf.length) {
    throw new RangeError(`${structure} needs ${length} bytes at offset ${offset} of a ${buf.length}-byte buffer`);
  }
}

/** Bytes available to a decoder from `offset`, capped by an explicit `length`. */
export function availableFrom(buf: Uint8Array, offset: number, length: number | undefined): number {
  const rest = buf.length - offset;
  if (!Number.isInteger(offset) || offset < 0 || rest < 0) {
    throw new RangeError(`offset ${offset} lies outside a ${buf.length}-byte buffer`);
  }
  if (length === undefined) return rest;
  if (!Number.isInteger(length) || length < 0 || length > rest) {
    throw new RangeError(`length ${length} at offset ${offset} exceeds a ${buf.length}-byte buffer`);
  }
  return length;
}
