import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { datagram, signDatagram, verifyDatagram } from '@nat64/handoff-codec';
import { toHex } from './helpers/hex.js';
import { TAG_KEY, created, hello, taggedHello } from './helpers/vectors.js';

function signed(bytes: Uint8Array, key: Uint8Array = TAG_KEY): Uint8Array {
  const buf = new Uint8Array(bytes.length + 16);
  buf.set(bytes);
  expect(signDatagram(buf, 0, bytes.length, key)).toBe(buf.length);
  return buf;
}

describe('auth', () => {
  it('signs to the golden tagged HELLO, whose tag was computed independently', () => {
    expect(toHex(signed(hello.bytes))).toBe(toHex(taggedHello.bytes));
    expect(verifyDatagram(taggedHello.bytes, 0, taggedHello.bytes.length, TAG_KEY)).toBe(true);
  });

  it('verifies what it signs, also inside a larger buffer and with a KeyObject', () => {
    const buf = new Uint8Array(5 + created.bytes.length + 16 + 5);
    buf.set(created.bytes, 5);
    const key = createSecretKey(TAG_KEY);
    const end = signDatagram(buf, 5, created.bytes.length, key);
    expect(end).toBe(5 + created.bytes.length + 16);
    expect(verifyDatagram(buf, 5, end - 5, key)).toBe(true);
    expect(verifyDatagram(buf, 5, end - 5, TAG_KEY)).toBe(true);
    expect(datagram.decode(buf, 5, end - 5)).toEqual({ ...created.value, tag: buf.slice(end - 16, end) });
  });

  it('detects a change of any bit in any octet, tag included', () => {
    const bytes = signed(created.bytes);
    for (let at = 0; at < bytes.length; at++) {
      for (const bit of [0x01, 0x80]) {
        const tampered = bytes.slice();
        tampered[at]! ^= bit;
        expect(verifyDatagram(tampered, 0, tampered.length, TAG_KEY), `octet ${at} bit ${bit}`).toBe(false);
      }
    }
  });

  it('rejects another key, an untagged datagram, and a length that is not the Length field', () => {
    const bytes = signed(created.bytes);
    const other = TAG_KEY.slice();
    other[0] = 0xff;
    expect(verifyDatagram(bytes, 0, bytes.length, other)).toBe(false);
    expect(verifyDatagram(created.bytes, 0, created.bytes.length, TAG_KEY)).toBe(false);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(verifyDatagram(longer, 0, longer.length, TAG_KEY)).toBe(false);
    expect(verifyDatagram(bytes, 0, bytes.length - 1, TAG_KEY)).toBe(false);
    expect(verifyDatagram(bytes, 0, 20, TAG_KEY)).toBe(false);
    expect(verifyDatagram(bytes, 0, bytes.length + 10, TAG_KEY)).toBe(false);
  });

  it('refuses to sign twice, without room, or with a short key', () => {
    const bytes = signed(created.bytes);
    const again = new Uint8Array(bytes.length + 16);
    again.set(bytes);
    expect(() => signDatagram(again, 0, bytes.length, TAG_KEY)).toThrow(/already tagged/);
    expect(() => signDatagram(created.bytes.slice(), 0, created.bytes.length, TAG_KEY)).toThrow(RangeError);
    const roomy = new Uint8Array(200);
    roomy.set(created.bytes);
    expect(() => signDatagram(roomy, 0, 100, TAG_KEY)).toThrow(/Length field/);
    expect(() => signDatagram(roomy, 0, created.bytes.length, new Uint8Array(15))).toThrow(/at least 16/);
    expect(() => verifyDatagram(bytes, 0, bytes.length, new Uint8Array(15))).toThrow(/at least 16/);
  });
});
