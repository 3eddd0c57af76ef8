// 64-bit times on the wire, and the range checks encoders run before writing (big-endian fields
// are @nat64/wire's). Callers check bounds first.

import { readU32, writeU32 } from '@nat64/wire';

const TWO_POW_32 = 0x1_0000_0000;
/** A time's high word above this cannot be held exactly in a JS number (2^53). */
const MAX_EXACT_TIME_HIGH = 0x1f_ffff;

/** Joins two 32-bit words into a bigint, for views that keep 64-bit fields as numbers. */
export function joinU64(high: number, low: number): bigint {
  return (BigInt(high) << 32n) | BigInt(low);
}

/** True when the 64-bit time at `offset` fits a JS number exactly (below 2^53 µs, year 2255). */
export function isExactTime(buf: Uint8Array, offset: number): boolean {
  return readU32(buf, offset) <= MAX_EXACT_TIME_HIGH;
}

/** The 64-bit time at `offset`; exact only when isExactTime() holds. */
export function readTime(buf: Uint8Array, offset: number): number {
  return readU32(buf, offset) * TWO_POW_32 + readU32(buf, offset + 4);
}

export function writeTime(buf: Uint8Array, offset: number, value: number): void {
  writeU32(buf, offset, Math.floor(value / TWO_POW_32));
  writeU32(buf, offset + 4, value >>> 0);
}

export function zero(buf: Uint8Array, start: number, end: number): void {
  buf.fill(0, start, end);
}

/** Throws unless `value` is an integer in [0, max]: encoders never let a field wrap silently. */
export function checkUint(value: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${String(value)}`);
  }
}

export function checkU64(value: bigint, name: string): void {
  if (typeof value !== 'bigint' || BigInt.asUintN(64, value) !== value) {
    throw new RangeError(`${name} must be a bigint from 0 to 2^64-1, got ${String(value)}`);
  }
}

export function checkTime(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a safe integer of microseconds >= 0, got ${String(value)}`);
  }
}

/** Throws unless `buf` holds `length` octets from `offset`. */
export function checkRoom(buf: Uint8Array, offset: number, length: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > buf.length) {
    throw new RangeError(`${what} needs ${length} octets at offset ${offset}, buffer has ${buf.length}`);
  }
}

/** Octets available to a decoder: `length` if given, never past the end of `buf`. */
export function availableFrom(buf: Uint8Array, offset: number, length: number | undefined): number {
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`offset must be an integer >= 0, got ${offset}`);
  const rest = Math.max(0, buf.length - offset);
  return length === undefined ? rest : Math.max(0, Math.min(length, rest));
}
