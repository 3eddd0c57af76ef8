import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatEndpoint4, formatEndpoint6, formatIpv4, formatIpv6, parseIpv4 } from '@nat64/service';

function ipv6(...groups: number[]): Uint8Array {
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

describe('addresses', () => {
  it('formats IPv4 numbers as dotted quads', () => {
    expect(formatIpv4(0xc0000207)).toBe('192.0.2.7');
    expect(formatIpv4(0)).toBe('0.0.0.0');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
  });

  it('formats IPv6 in RFC 5952 canonical form', () => {
    expect(formatIpv6(ipv6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x17))).toBe('2001:db8::17');
    expect(formatIpv6(ipv6(0, 0, 0, 0, 0, 0, 0, 0))).toBe('::');
    expect(formatIpv6(ipv6(0, 0, 0, 0, 0, 0, 0, 1))).toBe('::1');
    expect(formatIpv6(ipv6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1))).toBe('2001:db8:0:1:1:1:1:1'); // one zero group stays
    expect(formatIpv6(ipv6(0x2001, 0, 0, 1, 0, 0, 0, 1))).toBe('2001:0:0:1::1'); // longest run wins
    expect(formatIpv6(ipv6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1))).toBe('2001:db8::1:0:0:1'); // first of equal runs
    expect(formatIpv6(ipv6(0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x207))).toBe('64:ff9b::c000:207');
    expect(formatIpv6(ipv6(0xfe80, 0, 0, 0, 0, 0, 0, 0))).toBe('fe80::');
  });

  it('agrees with the URL parser on random addresses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (bytes, sparse) => {
        if (sparse) for (let i = 0; i < 16; i += 3) bytes[i] = 0;
        const text = formatIpv6(bytes);
        // The WHATWG URL parser serializes IPv6 hosts canonically too.
        expect(`[${text}]`).toBe(new URL(`http://[${text}]/`).hostname);
      }),
    );
  });

  it('formats endpoints the way the connection log shows them', () => {
    expect(formatEndpoint4(0xc0000207, 3719)).toBe('192.0.2.7:3719');
    expect(formatEndpoint6(ipv6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x17), 53186)).toBe('[2001:db8::17]:53186');
  });

  it('parses dotted quads strictly', () => {
    expect(parseIpv4('192.0.2.7')).toBe(0xc0000207);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['192.0.2', '192.0.2.256', '192.0.02.7', '1.2.3.4.5', '', 'a.b.c.d', '1..2.3']) {
      expect(parseIpv4(bad)).toBe(-1);
    }
  });
});
