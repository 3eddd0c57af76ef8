import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/hex.js';

describe('hex', () => {
  it('decodes hex with whitespace and either case', () => {
    expect(fromHex('45 00\n00 1C')).toEqual(Uint8Array.from([0x45, 0x00, 0x00, 0x1c]));
    expect(fromHex('')).toEqual(new Uint8Array(0));
  });

  it('rejects odd lengths and non-hex characters', () => {
    expect(() => fromHex('abc')).toThrow();
    expect(() => fromHex('zz')).toThrow();
  });

  it('encodes a range as lowercase hex', () => {
    expect(toHex(Uint8Array.from([0xde, 0xad, 0xbe, 0xef]), 1, 3)).toBe('adbe');
  });
});
