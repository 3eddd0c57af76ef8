import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GeneveDecodeError, ethernetHeader, formatMac, isLocalUnicastMac, parseMac, readEtherType } from '@nat64/geneve';
import { bytes } from './support/bytes.js';
import { GATEWAY_MAC, NS_FRAME } from './support/bypass-vectors.js';

describe('ethernet', () => {
  it('encodes and decodes the header of the golden offer frame', () => {
    const value = { destination: bytes('33 33 ff 00 71 05'), source: GATEWAY_MAC, etherType: 0x86dd };
    const buf = new Uint8Array(14);
    expect(ethernetHeader.encode(value, buf)).toBe(14);
    expect(buf).toEqual(NS_FRAME.subarray(0, 14));
    expect(ethernetHeader.decode(NS_FRAME, 0, 14)).toEqual(value);
    expect(readEtherType(NS_FRAME, 0, NS_FRAME.length)).toBe(0x86dd);
  });

  it('reports truncation anywhere in the 14 bytes', () => {
    for (let length = 0; length < 14; length++) {
      expect(readEtherType(NS_FRAME, 0, length)).toBe(-1);
      try {
        ethernetHeader.decode(NS_FRAME, 0, length);
        throw new Error('decoded');
      } catch (error) {
        expect(error).toBeInstanceOf(GeneveDecodeError);
        expect((error as GeneveDecodeError).offset).toBe(length);
      }
    }
  });

  it('formats, parses and classifies MAC addresses', () => {
    expect(formatMac(GATEWAY_MAC)).toBe('b2:55:e1:78:1c:b0');
    expect(parseMac('b2:55:E1:78:1c:b0')).toEqual(GATEWAY_MAC);
    expect(() => parseMac('b2:55:e1:78:1c')).toThrow(RangeError);
    expect(isLocalUnicastMac(GATEWAY_MAC)).toBe(true);
    expect(isLocalUnicastMac(bytes('33 33 00 00 00 01'))).toBe(false);
    expect(isLocalUnicastMac(bytes('00 00 5e 00 53 01'))).toBe(false);
  });

  it('round-trips any header at any offset', () => {
    const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
    fc.assert(
      fc.property(mac, mac, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 8 }), (destination, source, etherType, offset) => {
        const buf = new Uint8Array(offset + 14);
        expect(ethernetHeader.encode({ destination, source, etherType }, buf, offset)).toBe(offset + 14);
        expect(ethernetHeader.decode(buf, offset)).toEqual({ destination, source, etherType });
      }),
    );
  });
});
