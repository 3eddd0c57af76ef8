import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GeneveDecodeError, authOption } from '@nat64/geneve';
import { importAuthKey, sealTag, verifyTag } from '../src/auth.js';
import { bytes } from './support/bytes.js';
import { AUTH_SECRET, DATA_TAG, GENEVE_AUTH, INNER } from './support/vectors.js';

const key = importAuthKey(AUTH_SECRET);
/** The golden data packet with auth: Geneve header and options, then the inner packet. */
const packet = bytes(GENEVE_AUTH, INNER);
const TAG_OFFSET = 16;

describe('auth', () => {
  it('encodes and decodes the golden auth data', () => {
    const buf = new Uint8Array(20);
    expect(authOption.encode({ keyId: 1, tag: DATA_TAG }, buf)).toBe(20);
    expect(buf).toEqual(bytes('01 00 00 00', DATA_TAG));
    expect(authOption.decode(buf)).toEqual({ keyId: 1, tag: DATA_TAG });
  });

  it('reports truncation at each field boundary', () => {
    for (const length of [0, 1, 4, 19]) {
      let error: unknown;
      try {
        authOption.decode(bytes('01 00 00 00', DATA_TAG), 0, length);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(GeneveDecodeError);
      expect((error as GeneveDecodeError).code).toBe('OPTION_TRUNCATED');
      expect((error as GeneveDecodeError).offset).toBe(length);
    }
  });

  it('refuses a bad key id, a tag of the wrong size and a short key', () => {
    const buf = new Uint8Array(20);
    expect(() => authOption.encode({ keyId: 256, tag: DATA_TAG }, buf)).toThrow(RangeError);
    expect(() => authOption.encode({ keyId: 1, tag: new Uint8Array(32) }, buf)).toThrow(RangeError);
    expect(() => importAuthKey(new Uint8Array(15))).toThrow(RangeError);
  });

  it('round-trips arbitrary auth data at arbitrary offsets', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat({ max: 7 }), (keyId, tag, offset) => {
        const buf = new Uint8Array(offset + authOption.encodingLength({ keyId, tag }));
        expect(authOption.encode({ keyId, tag }, buf, offset)).toBe(buf.length);
        expect(authOption.decode(buf, offset)).toEqual({ keyId, tag });
      }),
    );
  });

  it('seals the golden tag over the packet with the tag field zeroed', () => {
    const buf = packet.slice();
    buf.fill(0x55, TAG_OFFSET, TAG_OFFSET + 16); // whatever was there must not count
    sealTag(key, buf, 0, buf.length, TAG_OFFSET);
    expect(buf).toEqual(packet);
  });

  it('verifies the golden packet without writing to it', () => {
    const buf = packet.slice();
    expect(verifyTag(key, buf, 0, buf.length, TAG_OFFSET)).toBe(true);
    expect(buf).toEqual(packet);
  });

  it('fails verification when any covered byte changes, or under another key', () => {
    fc.assert(
      fc.property(fc.nat({ max: packet.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, flip) => {
        const buf = packet.slice();
        buf[index] = buf[index]! ^ flip;
        expect(verifyTag(key, buf, 0, buf.length, TAG_OFFSET)).toBe(false);
      }),
    );
    const other = importAuthKey(new Uint8Array(32).fill(7));
    expect(verifyTag(other, packet, 0, packet.length, TAG_OFFSET)).toBe(false);
  });
});
