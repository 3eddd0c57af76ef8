import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToIpv6Text, ipv4TextToUint32, ipv6TextIntoBytes, ipv6TextToBytes, uint32ToIpv4Text } from '../src/address.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('address', () => {
  it('parses dotted quads into unsigned numbers', () => {
    expect(ipv4TextToUint32('192.0.2.33')).toBe(0xc0000221);
    expect(ipv4TextToUint32('255.255.255.255')).toBe(0xffffffff);
    expect(ipv4TextToUint32('0.0.0.0')).toBe(0);
  });

  it('rejects text that is not a dotted quad', () => {
    for (const text of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', 'a.b.c.d', '1..2.3']) {
      expect(ipv4TextToUint32(text), text).toBe(-1);
    }
  });

  it('parses IPv6 text with and without "::" and with an embedded dotted quad', () => {
    expect(ipv6TextToBytes('2001:db8:1c0:2:21::')).toEqual(bytes(0x20, 0x01, 0x0d, 0xb8, 0x01, 0xc0, 0, 2, 0, 0x21, 0, 0, 0, 0, 0, 0));
    expect(ipv6TextToBytes('::')).toEqual(new Uint8Array(16));
    expect(ipv6TextToBytes('::1')).toEqual(bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
    expect(ipv6TextToBytes('64:ff9b::192.0.2.33')).toEqual(bytes(0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 33));
    expect(ipv6TextToBytes('1:2:3:4:5:6:7:8')).toEqual(bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8));
  });

  it('rejects malformed IPv6 text', () => {
    for (const text of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '1:2:3:4:5:6:7::8', '::1.2.3', '1.2.3.4::']) {
      expect(ipv6TextToBytes(text), text).toBeNull();
    }
  });

  it('leaves the output untouched when parsing fails', () => {
    const out = new Uint8Array(16).fill(7);
    expect(ipv6TextIntoBytes('nonsense', out)).toBe(false);
    expect(out).toEqual(new Uint8Array(16).fill(7));
  });

  it('formats IPv6 in RFC 5952 canonical form', () => {
    expect(bytesToIpv6Text(ipv6TextToBytes('2001:0db8:0000:0000:0000:0000:0000:0001')!)).toBe('2001:db8::1');
    expect(bytesToIpv6Text(ipv6TextToBytes('2001:db8:0:1:1:1:1:1')!)).toBe('2001:db8:0:1:1:1:1:1'); // a single zero is not "::"
    expect(bytesToIpv6Text(ipv6TextToBytes('2001:0:0:1:0:0:0:1')!)).toBe('2001:0:0:1::1'); // the longest run wins
    expect(bytesToIpv6Text(ipv6TextToBytes('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1'); // the first of equal runs
    expect(bytesToIpv6Text(new Uint8Array(16))).toBe('::');
  });

  it('round-trips any address through text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (address) => {
        expect(ipv6TextToBytes(bytesToIpv6Text(address))).toEqual(address);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (address) => {
        expect(ipv4TextToUint32(uint32ToIpv4Text(address))).toBe(address);
      }),
    );
  });

  it('agrees with the URL parser on the canonical text of random addresses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (address, sparse) => {
        if (sparse) for (let i = 0; i < 16; i += 3) address[i] = 0;
        const text = bytesToIpv6Text(address);
        // The WHATWG URL parser serializes IPv6 hosts canonically too.
        expect(`[${text}]`).toBe(new URL(`http://[${text}]/`).hostname);
      }),
    );
  });

  it('formats the address at an offset', () => {
    const buf = new Uint8Array(20);
    buf[4] = 0x20;
    buf[5] = 0x01;
    buf[19] = 1;
    expect(bytesToIpv6Text(buf, 4)).toBe('2001::1');
    expect(ipv6TextIntoBytes('2001:db8::2', buf, 4)).toBe(true);
    expect(bytesToIpv6Text(buf, 4)).toBe('2001:db8::2');
  });

  it('rejects anything that is not a strict dotted quad, as the URL parser would not canonicalize it to itself', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 16 }), (text) => {
        const value = ipv4TextToUint32(text);
        if (value >= 0) expect(uint32ToIpv4Text(value)).toBe(text);
      }),
    );
    for (const text of [' 1.2.3.4', '1.2.3.4 ', '0x1.2.3.4', '1.2.3.4/32', '1e2.0.0.1']) expect(ipv4TextToUint32(text), text).toBe(-1);
    for (const text of ['[::1]', '::1%eth0', 'fe80::1%1', ' ::1', '::ffff:1.2.3.04', '1:2:3:4:5:6:1.2.3.4:8']) expect(ipv6TextToBytes(text), text).toBeNull();
  });
});
