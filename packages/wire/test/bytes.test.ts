import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readU16, readU32, readU64, writeU16, writeU32, writeU64 } from '../src/bytes.js';
import { GENEVE_PORT, HANDOFF_PORT } from '../src/ports.js';

describe('bytes', () => {
  it('writes and reads big-endian fields at any offset', () => {
    const buf = new Uint8Array(16);
    writeU16(buf, 1, 0x1234);
    writeU32(buf, 3, 0xc0000221);
    writeU64(buf, 7, 0x0102030405060708n);
    expect([...buf]).toEqual([0, 0x12, 0x34, 0xc0, 0x00, 0x02, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0]);
    expect(readU16(buf, 1)).toBe(0x1234);
    expect(readU32(buf, 3)).toBe(0xc0000221);
    expect(readU64(buf, 7)).toBe(0x0102030405060708n);
  });

  it('round-trips every value, keeping only the field width of what is written', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff_ffff }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (a, b, c) => {
        const buf = new Uint8Array(14);
        writeU16(buf, 0, a);
        writeU32(buf, 2, b);
        writeU64(buf, 6, c);
        expect([readU16(buf, 0), readU32(buf, 2), readU64(buf, 6)]).toEqual([a, b, c]);
        writeU16(buf, 0, a + 0x10000);
        expect(readU16(buf, 0)).toBe(a);
      }),
    );
  });
});

describe('ports', () => {
  it('are the assigned numbers', () => {
    expect(GENEVE_PORT).toBe(6081);
    expect(HANDOFF_PORT).toBe(62863);
  });
});
