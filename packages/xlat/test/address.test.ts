import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6, parseIpv6Into } from '../src/address.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('address', () => {
  it('parses dotted quads into unsigned numbers', () => {
    expect(parseIpv4('192.0.2.33')).toBe(0xc0000221);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('0.0.0.0')).toBe(0);
  });

  it('rejects text that is not a dotted quad', () => {
    for (const text of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', 'a.b.c.d', '1..2.3']) {
      expect(parseIpv4(text), text).toBe(-1);
    }
  });

  it('parses IPv6 text with and without "::" and with an embedded dotted quad', () => {
    expect(parseIpv6('2001:db8:1c0:2:21::')).toEqual(bytes(0x20, 0x01, 0x0d, 0xb8, 0x01, 0xc0, 0, 2, 0, 0x21, 0, 0, 0, 0, 0, 0));
    expect(parseIpv6('::')).toEqual(new Uint8Array(16));
    expect(parseIpv6('::1')).toEqual(bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
    expect(parseIpv6('64:ff9b::192.0.2.33')).toEqual(bytes(0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 33));
    expect(parseIpv6('1:2:3:4:5:6:7:8')).toEqual(bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8));
  });

  it('rejects malformed IPv6 text', () => {
    for (const text of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '1:2:3:4:5:6:7::8', '::1.2.3', '1.2.3.4::']) {
      expect(parseIpv6(text), text).toBeNull();
    }
  });

  it('leaves the output untouched when parsing fails', () => {
    const out = new Uint8Array(16).fill(7);
    expect(parseIpv6Into('nonsense', out)).toBe(false);
    expect(out).toEqual(new Uint8Array(16).fill(7));
  });

  it('formats IPv6 in RFC 5952 canonical form', () => {
    expect(formatIpv6(parseIpv6('2001:0db8:0000:0000:0000:0000:0000:0001')!)).toBe('2001:db8::1');
    expect(formatIpv6(parseIpv6('2001:db8:0:1:1:1:1:1')!)).toBe('2001:db8:0:1:1:1:1:1'); // a single zero is not "::"
    expect(formatIpv6(parseIpv6('2001:0:0:1:0:0:0:1')!)).toBe('2001:0:0:1::1'); // the longest run wins
    expect(formatIpv6(parseIpv6('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1'); // the first of equal runs
    expect(formatIpv6(new Uint8Array(16))).toBe('::');
  });

  it('round-trips any address through text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (address) => {
        expect(parseIpv6(formatIpv6(address))).toEqual(address);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (address) => {
        expect(parseIpv4(formatIpv4(address))).toBe(address);
      }),
    );
  });
});
