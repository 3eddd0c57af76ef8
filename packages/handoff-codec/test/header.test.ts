import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { header } from '@nat64/handoff-codec';
import type { HandoffHeader } from '@nat64/handoff-codec';
import { checkCodec } from './helpers/codec-check.js';
import { hex, toHex } from './helpers/hex.js';

const GOLDEN = hex(`
  01 03 0048          # version 1, type 3 CREATED, length 72
  8000 0000           # flags A, reserved
  0123456789abcdef    # epoch
  8899aabbccddeeff    # cookie
  fffffffe            # sequence
`);

const VALUE: HandoffHeader = {
  version: 1,
  type: 3,
  length: 72,
  flags: 0x8000,
  epoch: 0x0123456789abcdefn,
  cookie: 0x8899aabbccddeeffn,
  sequence: 0xfffffffe,
};

const FIELDS = [
  [0, 1],
  [1, 1],
  [2, 2],
  [4, 2],
  [6, 2],
  [8, 8],
  [16, 8],
  [24, 4],
] as const;

describe('header', () => {
  it('encodes to the golden bytes and decodes them back', () => {
    expect(toHex(checkCodec(header, VALUE))).toBe(toHex(GOLDEN));
  });

  it('reads every field as it is, judging nothing', () => {
    const odd = { ...VALUE, version: 7, type: 200, length: 3, flags: 0xffff };
    checkCodec(header, odd);
  });

  it('round-trips any header', () => {
    const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    const arb = fc.record({
      version: fc.integer({ min: 0, max: 255 }),
      type: fc.integer({ min: 0, max: 255 }),
      length: fc.integer({ min: 0, max: 0xffff }),
      flags: fc.integer({ min: 0, max: 0xffff }),
      epoch: u64,
      cookie: u64,
      sequence: fc.integer({ min: 0, max: 0xffff_ffff }),
    });
    fc.assert(fc.property(arb, (value) => void checkCodec(header, value)));
  });

  it.each(FIELDS.map(([start, size]) => ({ start, size })))('rejects cuts inside octets $start+$size as truncated at $start', ({ start, size }) => {
    for (let cut = start; cut < start + size; cut++) {
      expect(() => header.decode(GOLDEN, 0, cut)).toThrow(
        expect.objectContaining({ code: 'TRUNCATED', offset: start, message: 'Cannot decode header (truncated)' }),
      );
    }
  });

  it('writes the reserved field as zero', () => {
    const buf = new Uint8Array(28).fill(0xff);
    header.encode(VALUE, buf, 0);
    expect(toHex(buf.subarray(6, 8))).toBe('0000');
  });
});
