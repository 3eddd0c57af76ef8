import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GeneveDecodeError, auditMirrorOption, bypassOption, encodeMessage } from '@nat64/geneve';
import { bytes } from './support/bytes.js';
import { MESSAGE, OFFER_OPTION } from './support/bypass-vectors.js';

function decodeError(fn: () => unknown): GeneveDecodeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof GeneveDecodeError) return error;
    throw error;
  }
  throw new Error('decoded without error');
}

describe('bypass-option', () => {
  it('encodes the golden offer option', () => {
    const buf = new Uint8Array(bypassOption.encodingLength({ message: MESSAGE }));
    expect(bypassOption.encode({ message: MESSAGE }, buf)).toBe(36);
    expect(buf).toEqual(OFFER_OPTION);
    expect(bypassOption.decode(OFFER_OPTION)).toEqual({ message: MESSAGE });
  });

  it('pads with 0 to 3 bytes of 0xff and encodes an empty message as a bare header', () => {
    expect(encodeMessage('')).toEqual(new Uint8Array(0));
    expect(encodeMessage('a')).toEqual(bytes('61 ff ff ff'));
    expect(encodeMessage('ab')).toEqual(bytes('61 62 ff ff'));
    expect(encodeMessage('abc')).toEqual(bytes('61 62 63 ff'));
    expect(encodeMessage('abcd')).toEqual(bytes('61 62 63 64'));
    const buf = new Uint8Array(4);
    expect(bypassOption.encode({ message: '' }, buf)).toBe(4);
    expect(buf).toEqual(bytes('01 62 00 00'));
  });

  it('encodes the audit mirror option as critical type 0x81 with an explanation', () => {
    const buf = new Uint8Array(12);
    expect(auditMirrorOption.encode({ message: 'läuft' }, buf)).toBe(12);
    expect(buf).toEqual(bytes('01 62 81 02', '6c c3 a4 75 66 74 ff ff'));
    expect(auditMirrorOption.decode(buf)).toEqual({ message: 'läuft' });
  });

  it('refuses a message longer than 124 UTF-8 bytes', () => {
    expect(encodeMessage('x'.repeat(124)).length).toBe(124);
    expect(() => encodeMessage('x'.repeat(125))).toThrow(RangeError);
    expect(() => encodeMessage('é'.repeat(63))).toThrow(RangeError);
  });

  it('reports truncation at the option header and inside the data', () => {
    for (const length of [0, 1, 2, 3]) {
      const error = decodeError(() => bypassOption.decode(OFFER_OPTION, 0, length));
      expect(error.code).toBe('OPTION_TRUNCATED');
      expect(error.offset).toBe(length);
    }
    for (const length of [4, 8, 35]) expect(decodeError(() => bypassOption.decode(OFFER_OPTION, 0, length)).code).toBe('OPTION_TRUNCATED');
  });

  it('rejects another class or type, invalid UTF-8, and more than 3 padding bytes', () => {
    expect(decodeError(() => bypassOption.decode(bytes('ff 64 00 00'))).offset).toBe(0);
    expect(decodeError(() => bypassOption.decode(bytes('01 62 81 00'))).offset).toBe(2);
    expect(decodeError(() => auditMirrorOption.decode(bytes('01 62 00 00'))).offset).toBe(2);
    expect(decodeError(() => bypassOption.decode(bytes('01 62 00 01', 'c3 28 ff ff'))).code).toBe('BAD_FIELD');
    const padded = decodeError(() => bypassOption.decode(bytes('01 62 00 02', '61 ff ff ff ff ff ff ff')));
    expect(padded).toMatchObject({ code: 'BAD_FIELD', offset: 5 });
  });

  it('decodes at an offset inside a larger buffer', () => {
    const buf = bytes('aa bb', OFFER_OPTION, 'cc');
    expect(bypassOption.decode(buf, 2, 36)).toEqual({ message: MESSAGE });
    const out = new Uint8Array(40).fill(0xee);
    expect(bypassOption.encode({ message: MESSAGE }, out, 3)).toBe(39);
    expect(out.subarray(3, 39)).toEqual(OFFER_OPTION);
    expect(out[2]).toBe(0xee);
    expect(out[39]).toBe(0xee);
  });

  it('round-trips any message that fits', () => {
    const fits = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((text) => new TextEncoder().encode(text).length <= 124);
    fc.assert(
      fc.property(fits, fc.boolean(), (message, audit) => {
        const codec = audit ? auditMirrorOption : bypassOption;
        const buf = new Uint8Array(codec.encodingLength({ message }));
        expect(codec.encode({ message }, buf)).toBe(buf.length);
        expect(buf.length % 4).toBe(0);
        expect(codec.decode(buf)).toEqual({ message });
        const again = new Uint8Array(buf.length);
        codec.encode(codec.decode(buf), again);
        expect(again).toEqual(buf);
      }),
    );
  });
});
