import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { finishChecksum, finishUdpChecksum, sumWords } from '../src/checksum.js';
import { bytes, onesComplementSum } from './support/bytes.js';

describe('checksum', () => {
  it('computes the RFC 1071 section 3 example', () => {
    // Words 0001 f203 f4f5 f6f7 sum to 0x2ddf0, folded 0xddf2, complemented 0x220d.
    expect(finishChecksum(sumWords(bytes('00 01 f2 03 f4 f5 f6 f7'), 0, 8, 0))).toBe(0x220d);
  });

  it('pads an odd last byte with zero', () => {
    expect(sumWords(bytes('12 34 56'), 0, 3, 0)).toBe(0x1234 + 0x5600);
  });

  it('sends a computed zero UDP checksum as all ones', () => {
    expect(finishChecksum(0xffff)).toBe(0);
    expect(finishUdpChecksum(0xffff)).toBe(0xffff);
  });

  it('agrees with a plain one\'s-complement sum on arbitrary data and sub-ranges', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), fc.nat(), (data, a, b) => {
        const start = data.length === 0 ? 0 : a % data.length;
        const end = start + (data.length === 0 ? 0 : b % (data.length - start + 1));
        const expected = ~onesComplementSum(data.subarray(start, end)) & 0xffff;
        expect(finishChecksum(sumWords(data, start, end, 0))).toBe(expected);
      }),
    );
  });
});
