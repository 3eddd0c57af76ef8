import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GeneveDecodeError, mappingOption } from '@nat64/geneve';
import type { MappingOption } from '@nat64/geneve';
import { bytes } from './support/bytes.js';
import { MAPPING_DATA, MAPPING_VALUE } from './support/vectors.js';

const mapping: fc.Arbitrary<MappingOption> = fc.record({
  protocol: fc.integer({ min: 0, max: 255 }),
  event: fc.constantFrom(1 as const, 2 as const, 3 as const),
  natAddress: fc.integer({ min: 0, max: 0xffff_ffff }),
  natPort: fc.integer({ min: 0, max: 0xffff }),
  clientAddress: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  clientPort: fc.integer({ min: 0, max: 0xffff }),
  creationTimeUs: fc.maxSafeNat(),
});

function decodeError(buf: Uint8Array, offset?: number, length?: number): GeneveDecodeError {
  try {
    mappingOption.decode(buf, offset, length);
  } catch (error) {
    if (error instanceof GeneveDecodeError) return error;
    throw error;
  }
  throw new Error('decoded without error');
}

describe('mapping', () => {
  it('encodes the golden mapping data', () => {
    const buf = new Uint8Array(36);
    expect(mappingOption.encode(MAPPING_VALUE, buf)).toBe(36);
    expect(buf).toEqual(MAPPING_DATA);
    expect(mappingOption.decode(MAPPING_DATA)).toEqual(MAPPING_VALUE);
  });

  it('encodes an ICMP deletion with the largest exact creation time', () => {
    const value: MappingOption = {
      protocol: 1,
      event: 3,
      natAddress: 0xcb007101,
      natPort: 0x0102,
      clientAddress: bytes('0064 ff9b 0000 0000 0000 0000 c000 0201'),
      clientPort: 0x0102,
      creationTimeUs: Number.MAX_SAFE_INTEGER,
    };
    const buf = new Uint8Array(36);
    mappingOption.encode(value, buf);
    expect(buf).toEqual(
      bytes(
        '01 03 00 00', // ICMP, deleted
        'cb 00 71 01', // 203.0.113.1
        '01 02 01 02', // Echo Identifier as both ports
        '00 64 ff 9b 00 00 00 00 00 00 00 00 c0 00 02 01', // 64:ff9b::192.0.2.1
        '00 1f ff ff ff ff ff ff', // 2^53 - 1
      ),
    );
    expect(mappingOption.decode(buf)).toEqual(value);
  });

  it('reports truncation at each field boundary', () => {
    for (const length of [0, 1, 2, 4, 8, 10, 12, 28, 35]) {
      const error = decodeError(MAPPING_DATA, 0, length);
      expect(error.code).toBe('OPTION_TRUNCATED');
      expect(error.offset).toBe(length);
    }
  });

  it('rejects undefined events', () => {
    for (const event of [0, 4, 255]) {
      const data = MAPPING_DATA.slice();
      data[1] = event;
      const error = decodeError(data);
      expect(error.code).toBe('BAD_FIELD');
      expect(error.offset).toBe(1);
    }
  });

  it('rejects a creation time a JS number cannot hold exactly', () => {
    const data = MAPPING_DATA.slice();
    data.set(bytes('00 20 00 00 00 00 00 00'), 28);
    expect(decodeError(data).code).toBe('BAD_FIELD');
  });

  it('ignores data past the defined fields and reserved bits', () => {
    const data = bytes(MAPPING_DATA, 'aa bb cc dd');
    data[2] = 0xff;
    data[3] = 0xff;
    expect(mappingOption.decode(data)).toEqual(MAPPING_VALUE);
  });

  it('refuses out-of-range values', () => {
    const buf = new Uint8Array(36);
    const bad: Partial<Record<keyof MappingOption, unknown>>[] = [
      { protocol: 256 },
      { event: 0 },
      { natAddress: -1 },
      { natPort: 65536 },
      { clientPort: 1.5 },
      { clientAddress: new Uint8Array(4) },
      { creationTimeUs: 2 ** 53 },
    ];
    for (const patch of bad) {
      expect(() => mappingOption.encode({ ...MAPPING_VALUE, ...patch } as MappingOption, buf)).toThrow(RangeError);
    }
    expect(() => mappingOption.encode(MAPPING_VALUE, buf, 1)).toThrow(RangeError);
  });

  it('round-trips arbitrary mappings at arbitrary offsets', () => {
    fc.assert(
      fc.property(mapping, fc.nat({ max: 7 }), (value, offset) => {
        const buf = new Uint8Array(offset + mappingOption.encodingLength(value));
        expect(mappingOption.encode(value, buf, offset)).toBe(buf.length);
        const decoded = mappingOption.decode(buf, offset);
        expect(decoded).toEqual(value);
        const again = new Uint8Array(36);
        mappingOption.encode(decoded, again);
        expect(again).toEqual(buf.subarray(offset));
      }),
    );
  });
});
