import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HandoffDecodeError, HeaderFlag, type MessageType, datagram } from '@nat64/handoff-codec';
import type { Created, HandoffMessage } from '@nat64/handoff-codec';
import { messageArb } from './helpers/arbitraries.js';
import { checkCodec } from './helpers/codec-check.js';
import { toHex } from './helpers/hex.js';
import { VECTORS, clientQuery, created, hello, query } from './helpers/vectors.js';

function decodeError(run: () => unknown): HandoffDecodeError {
  try {
    run();
  } catch (error) {
    if (error instanceof HandoffDecodeError) return error;
    throw error;
  }
  throw new Error('decoded without an error');
}

describe('datagram', () => {
  describe.each(VECTORS)('$name golden vector', (vector) => {
    it('encodes to the golden bytes', () => {
      const buf = new Uint8Array(vector.bytes.length);
      expect(datagram.encode(vector.value, buf, 0)).toBe(vector.bytes.length);
      expect(toHex(buf)).toBe(toHex(vector.bytes));
      expect(datagram.encodingLength(vector.value)).toBe(vector.bytes.length);
    });

    it('decodes the golden bytes to the value', () => {
      expect(datagram.decode(vector.bytes)).toEqual(vector.value);
    });

    it('passes the codec check', () => {
      checkCodec(datagram, vector.value);
    });

    it('has a field table that covers every octet once', () => {
      let next = 0;
      for (const [start, size] of vector.fields) {
        expect(start).toBe(next);
        next = start + size;
      }
      expect(next).toBe(vector.bytes.length);
    });

    it.each(vector.fields.map((field, index) => ({ index, start: field[0], size: field[1], structure: field[2] })))(
      'rejects every cut inside field $index (octets $start+$size) as truncated at $start',
      ({ start, size, structure }) => {
        for (let cut = start; cut < start + size; cut++) {
          const error = decodeError(() => datagram.decode(vector.bytes.slice(0, cut)));
          expect({ cut, code: error.code, offset: error.offset, message: error.message }).toEqual({
            cut,
            code: 'TRUNCATED',
            offset: start,
            message: `Cannot decode ${structure} (truncated)`,
          });
        }
      },
    );
  });

  it('round-trips any message, at any offset', () => {
    fc.assert(
      fc.property(messageArb, (message) => {
        checkCodec(datagram, message);
      }),
      { numRuns: 300 },
    );
  });

  it('reports truncation at the same offsets inside a larger buffer', () => {
    const buf = new Uint8Array(10 + created.bytes.length);
    buf.set(created.bytes, 10);
    // 81 octets end one octet into entry 1's client address, which starts at octet 80.
    const error = decodeError(() => datagram.decode(buf, 10, 81));
    expect([error.code, error.offset, error.message]).toEqual(['TRUNCATED', 10 + 80, 'Cannot decode CREATED entry 1 (truncated)']);
  });

  it('accepts and ignores HELLO, QUERY and CLIENT-QUERY padding beyond the minimum', () => {
    for (const vector of [hello, query, clientQuery]) {
      const padded = new Uint8Array(vector.bytes.length + 12);
      padded.set(vector.bytes);
      padded[3] = padded.length; // Length field, low octet
      padded[padded.length - 1] = 0xff; // padding is ignored, even when not zero
      expect(datagram.decode(padded)).toEqual(vector.value);
    }
  });

  it('ignores reserved fields and decodes unknown flag bits as they are', () => {
    const bytes = created.bytes.slice();
    bytes[4] = 0x40; // an unknown header flag
    bytes[6] = 0xff; // header reserved
    bytes[31] = 0xff; // body reserved
    expect(datagram.decode(bytes)).toEqual({ ...created.value, flags: 0x4000 });
  });

  it('encodes nothing it cannot represent', () => {
    const buf = new Uint8Array(200);
    const base = created.value as Created;
    const entry = base.entries[0]!;
    const bad: [string, HandoffMessage][] = [
      ['sequence', { ...base, sequence: 2 ** 32 }],
      ['epoch', { ...base, epoch: 2n ** 64n }],
      ['cookie', { ...base, cookie: -1n }],
      ['flags', { ...base, flags: HeaderFlag.AUTHENTICATED }],
      ['entries', { ...base, entries: [] }],
      ['natPort', { ...base, entries: [{ ...entry, natPort: 65536 }] }],
      ['time', { ...base, entries: [{ ...entry, time: 2 ** 53 }] }],
      ['clientAddress', { ...base, entries: [{ ...entry, clientAddress: new Uint8Array(4) }] }],
      ['type', { ...base, type: 10 as typeof MessageType.CREATED }],
      ['tag', { ...base, tag: new Uint8Array(8) }],
      ['octets', { ...base, entries: Array.from({ length: 1700 }, () => entry) }],
    ];
    for (const [field, message] of bad) {
      expect(() => datagram.encode(message, buf, 0), field).toThrow(RangeError);
    }
    expect(() => datagram.encode(base, new Uint8Array(111), 0)).toThrow(RangeError);
    expect(() => datagram.encode(base, buf, 100)).toThrow(RangeError);
  });
});
