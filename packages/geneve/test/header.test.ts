import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GeneveDecodeError, geneveHeader } from '@nat64/geneve';
import type { GeneveHeader } from '@nat64/geneve';
import { header } from './support/arbitraries.js';
import { bytes } from './support/bytes.js';
import { GENEVE_MAPPING, GENEVE_PLAIN, MAPPING_DATA, VNI } from './support/vectors.js';

function decodeError(fn: () => unknown): GeneveDecodeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof GeneveDecodeError) return error;
    throw error;
  }
  throw new Error('decoded without error');
}

const plain: GeneveHeader = { oam: false, protocolType: 0x0800, vni: VNI, options: [] };
const withMapping: GeneveHeader = { ...plain, options: [{ optionClass: 0xff64, type: 1, data: MAPPING_DATA }] };

describe('header', () => {
  it('encodes a header without options as 8 golden bytes', () => {
    const buf = new Uint8Array(8);
    expect(geneveHeader.encode(plain, buf, 0)).toBe(8);
    expect(buf).toEqual(GENEVE_PLAIN);
    expect(geneveHeader.decode(GENEVE_PLAIN)).toEqual(plain);
  });

  it('encodes a header with the mapping option as golden bytes', () => {
    const buf = new Uint8Array(geneveHeader.encodingLength(withMapping));
    expect(geneveHeader.encode(withMapping, buf)).toBe(48);
    expect(buf).toEqual(GENEVE_MAPPING);
    expect(geneveHeader.decode(GENEVE_MAPPING)).toEqual(withMapping);
  });

  it('sets C exactly when an option is critical, and O for control packets', () => {
    const value: GeneveHeader = {
      oam: true,
      protocolType: 0x88b5,
      vni: 1,
      options: [
        { optionClass: 0x0102, type: 0x05, data: new Uint8Array(0) },
        { optionClass: 0x0103, type: 0x85, data: bytes('aa bb cc dd') },
      ],
    };
    const buf = new Uint8Array(geneveHeader.encodingLength(value));
    geneveHeader.encode(value, buf);
    expect(buf).toEqual(
      bytes(
        '03 c0 88 b5', // Opt Len 3 words, O and C set, Protocol Type 0x88B5
        '00 00 01 00', // VNI 1, Reserved
        '01 02 05 00', // class 0x0102, type 5, no data
        '01 03 85 01', // class 0x0103, type 0x85 (critical), 1 word
        'aa bb cc dd',
      ),
    );
    value.options = value.options.slice(0, 1);
    geneveHeader.encode(value, buf);
    expect(buf[1]).toBe(0x80);
  });

  it('ignores reserved bits, R bits and the C bit when decoding', () => {
    const packet = bytes(
      '02 7f 08 00', // Opt Len 2, C set without a critical option, all reserved flag bits set
      '12 34 56 ff', // Reserved octet 0xff
      'ff 64 01 e1', // R bits all set, Length 1
      '01 02 03 04',
    );
    expect(geneveHeader.decode(packet)).toEqual({
      oam: false,
      protocolType: 0x0800,
      vni: VNI,
      options: [{ optionClass: 0xff64, type: 1, data: bytes('01 02 03 04') }],
    });
  });

  it('decodes a critical option whose C bit is clear', () => {
    const packet = bytes('01 00 08 00', '00 00 01 00', 'ff 00 80 00');
    expect(geneveHeader.decode(packet).options).toEqual([{ optionClass: 0xff00, type: 0x80, data: new Uint8Array(0) }]);
  });

  it('reports truncation at each field boundary of the fixed header', () => {
    for (let length = 0; length < 8; length++) {
      const error = decodeError(() => geneveHeader.decode(GENEVE_PLAIN, 0, length));
      expect(error.code).toBe('HEADER_TRUNCATED');
      expect(error.offset).toBe(length);
      expect(error.message).toBe('Cannot decode Geneve header (truncated)');
    }
  });

  it('reports truncation at each option boundary as options beyond the packet', () => {
    for (let length = 8; length < GENEVE_MAPPING.length; length += 4) {
      const error = decodeError(() => geneveHeader.decode(GENEVE_MAPPING, 0, length));
      expect(error.code).toBe('OPTIONS_TRUNCATED');
    }
  });

  it('rejects every version other than 0', () => {
    for (const first of [0x40, 0x80, 0xc0]) {
      const error = decodeError(() => geneveHeader.decode(bytes([first.toString(16), '00 08 00 00 00 00 00'].join(' '))));
      expect(error.code).toBe('BAD_VERSION');
      expect(error.offset).toBe(0);
    }
  });

  it('rejects an Opt Len that reaches past the packet', () => {
    const error = decodeError(() => geneveHeader.decode(bytes('01 00 08 00 00 00 00 00', '00 00 00')));
    expect(error.code).toBe('OPTIONS_TRUNCATED');
  });

  it('rejects an option whose length reaches past Opt Len, at its length field', () => {
    const packet = bytes('02 00 08 00 00 00 00 00', 'ff 64 01 00', 'ff 64 01 01', 'aa bb cc dd');
    const error = decodeError(() => geneveHeader.decode(packet, 0, 16));
    expect(error.code).toBe('OPTION_OVERRUN');
    expect(error.offset).toBe(15);
    expect(error.message).toBe('Cannot decode Geneve option (length beyond Opt Len)');
  });

  it('decodes within an explicit length at a non-zero offset', () => {
    const buf = bytes('ff ff ff', GENEVE_PLAIN, 'ee ee');
    expect(geneveHeader.decode(buf, 3, 8)).toEqual(plain);
    expect(() => geneveHeader.decode(buf, 3, 20)).toThrow(RangeError);
  });

  it('refuses options totalling more than 252 bytes', () => {
    const big = { optionClass: 1, type: 1, data: new Uint8Array(124) };
    const value: GeneveHeader = { ...plain, options: [big, big] }; // 256 bytes
    expect(() => geneveHeader.encode(value, new Uint8Array(300))).toThrow(/252/);
    const fits: GeneveHeader = { ...plain, options: [big, { ...big, data: new Uint8Array(120) }] }; // 252 bytes
    const buf = new Uint8Array(260);
    expect(geneveHeader.encode(fits, buf)).toBe(260);
    expect(buf[0]).toBe(63);
  });

  it('refuses option data over 124 bytes or not a multiple of 4', () => {
    const buf = new Uint8Array(300);
    expect(() => geneveHeader.encode({ ...plain, options: [{ optionClass: 1, type: 1, data: new Uint8Array(128) }] }, buf)).toThrow(RangeError);
    expect(() => geneveHeader.encode({ ...plain, options: [{ optionClass: 1, type: 1, data: new Uint8Array(6) }] }, buf)).toThrow(RangeError);
  });

  it('refuses out-of-range header fields and too small a buffer', () => {
    const buf = new Uint8Array(8);
    expect(() => geneveHeader.encode({ ...plain, vni: 0x100_0000 }, buf)).toThrow(RangeError);
    expect(() => geneveHeader.encode({ ...plain, protocolType: -1 }, buf)).toThrow(RangeError);
    expect(() => geneveHeader.encode(plain, buf, 1)).toThrow(RangeError);
  });

  it('round-trips arbitrary headers at arbitrary offsets, and re-encodes identically', () => {
    fc.assert(
      fc.property(header, fc.nat({ max: 9 }), (value, offset) => {
        const length = geneveHeader.encodingLength(value);
        const buf = new Uint8Array(offset + length + 3).fill(0xa5);
        expect(geneveHeader.encode(value, buf, offset)).toBe(offset + length);
        expect(buf.subarray(0, offset).every((b) => b === 0xa5)).toBe(true);
        expect(buf.subarray(offset + length).every((b) => b === 0xa5)).toBe(true);
        const decoded = geneveHeader.decode(buf, offset, length);
        expect(decoded).toEqual(value);
        const again = new Uint8Array(length);
        geneveHeader.encode(decoded, again);
        expect(again).toEqual(buf.subarray(offset, offset + length));
      }),
    );
  });
});
