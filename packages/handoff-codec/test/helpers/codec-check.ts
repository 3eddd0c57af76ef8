// One check for every codec, after dns-packet's: encodingLength agrees with encode, decode(encode(x))
// equals x, re-encoding the decoded value gives identical bytes, and encoding at a non-zero offset
// inside a larger buffer writes the same bytes there and nothing around them.
import { expect } from 'vitest';
import type { Codec } from '@nat64/handoff-codec';

const HEADROOM = 7;
const TAILROOM = 5;
const FILL = 0xa5;

/** Runs the checks and returns the encoded bytes. */
export function checkCodec<T>(codec: Codec<T>, value: T): Uint8Array {
  const length = codec.encodingLength(value);
  const bytes = new Uint8Array(length);
  expect(codec.encode(value, bytes, 0)).toBe(length);

  const decoded = codec.decode(bytes, 0, length);
  expect(decoded).toEqual(value);
  expect(codec.encodingLength(decoded)).toBe(length);
  const again = new Uint8Array(length);
  codec.encode(decoded, again, 0);
  expect(again).toEqual(bytes);

  const big = new Uint8Array(HEADROOM + length + TAILROOM).fill(FILL);
  expect(codec.encode(value, big, HEADROOM)).toBe(HEADROOM + length);
  expect(big.subarray(HEADROOM, HEADROOM + length)).toEqual(bytes);
  expect([...big.subarray(0, HEADROOM), ...big.subarray(HEADROOM + length)].every((b) => b === FILL)).toBe(true);
  expect(codec.decode(big, HEADROOM, length)).toEqual(value);
  return bytes;
}
