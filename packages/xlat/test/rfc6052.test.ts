import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToIpv6Text, ipv4TextToUint32, ipv6TextToBytes } from '@nat64/wire';
import { XlatError } from '../src/errors.js';
import { RFC6052_LENGTHS, Rfc6052Prefix, isNonGlobalIpv4 } from '../src/rfc6052.js';

/** RFC 6052 section 2.4, the table of IPv4-embedded IPv6 addresses of 192.0.2.33. */
const EXAMPLES: readonly [prefix: string, address: string][] = [
  ['2001:db8::/32', '2001:db8:c000:221::'],
  ['2001:db8:100::/40', '2001:db8:1c0:2:21::'],
  ['2001:db8:122::/48', '2001:db8:122:c000:2:2100::'],
  ['2001:db8:122:300::/56', '2001:db8:122:3c0:0:221::'],
  ['2001:db8:122:344::/64', '2001:db8:122:344:c0:2:2100:0'],
  ['2001:db8:122:344::/96', '2001:db8:122:344::192.0.2.33'],
  ['64:ff9b::/96', '64:ff9b::192.0.2.33'], // the Well-Known Prefix, RFC 6052 2.1
];
const IPV4 = 0xc0000221; // 192.0.2.33

describe('rfc6052', () => {
  for (const [prefixText, addressText] of EXAMPLES) {
    it(`embeds 192.0.2.33 under ${prefixText} as ${addressText}`, () => {
      const out = new Uint8Array(20);
      expect(Rfc6052Prefix.parse(prefixText).embed(IPV4, out, 2)).toBe(18);
      expect(out.subarray(2, 18)).toEqual(ipv6TextToBytes(addressText));
    });

    it(`extracts 192.0.2.33 from ${addressText} under ${prefixText}`, () => {
      expect(Rfc6052Prefix.parse(prefixText).extract(ipv6TextToBytes(addressText)!, 0)).toBe(IPV4);
    });
  }

  it('round-trips every IPv4 address under every allowed length', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...RFC6052_LENGTHS),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (length, random, ipv4) => {
          const bytes = new Uint8Array(16);
          bytes.set(random.subarray(0, length / 8));
          bytes[8] = 0; // u octet
          const prefix = new Rfc6052Prefix(bytes, length);
          const address = new Uint8Array(16);
          prefix.embed(ipv4, address, 0);
          expect(address[8]).toBe(0);
          expect(prefix.extract(address, 0)).toBe(ipv4);
        },
      ),
    );
  });

  it('refuses addresses outside the prefix', () => {
    expect(Rfc6052Prefix.parse('64:ff9b::/96').extract(ipv6TextToBytes('64:ff9c::192.0.2.33')!, 0)).toBe(-1);
    expect(Rfc6052Prefix.parse('2001:db8:100::/40').extract(ipv6TextToBytes('2001:db8:200:2:21::')!, 0)).toBe(-1);
  });

  it('refuses an address whose u octet (bits 64-71) is not zero', () => {
    // 2001:db8:1c0:2:21:: with byte 8 set: 2001:db8:1c0:2:ff21::
    expect(Rfc6052Prefix.parse('2001:db8:100::/40').extract(ipv6TextToBytes('2001:db8:1c0:2:ff21::')!, 0)).toBe(-1);
  });

  it('refuses an address whose suffix is not zero', () => {
    expect(Rfc6052Prefix.parse('2001:db8:100::/40').extract(ipv6TextToBytes('2001:db8:1c0:2:21::1')!, 0)).toBe(-1);
    expect(Rfc6052Prefix.parse('2001:db8:122:344::/64').extract(ipv6TextToBytes('2001:db8:122:344:c0:2:2100:1')!, 0)).toBe(-1);
  });

  it('rejects lengths RFC 6052 does not allow', () => {
    for (const text of ['2001:db8::/33', '2001:db8::/128', '64:ff9b::/0']) {
      expect(() => Rfc6052Prefix.parse(text), text).toThrow(XlatError);
    }
  });

  it('rejects a prefix with host bits or a set u octet', () => {
    expect(() => Rfc6052Prefix.parse('2001:db8::1/32')).toThrow(/host bits/);
    expect(() => Rfc6052Prefix.parse('2001:db8:0:0:100::/96')).toThrow(/u octet/);
  });

  it('reports where prefix text is malformed', () => {
    const attempt = (text: string): XlatError => {
      try {
        Rfc6052Prefix.parse(text);
      } catch (error) {
        return error as XlatError;
      }
      throw new Error('no error');
    };
    expect(attempt('64:ff9b::')).toMatchObject({ code: 'badPrefix', offset: 9 });
    expect(attempt('64:ff9b::/x')).toMatchObject({ code: 'badPrefix', offset: 10 });
    expect(attempt('zz::/96')).toMatchObject({ code: 'badPrefix', offset: 0 });
  });

  it('prints itself back as prefix text', () => {
    expect(String(Rfc6052Prefix.parse('2001:DB8:0100::/40'))).toBe('2001:db8:100::/40');
    expect(bytesToIpv6Text(Rfc6052Prefix.parse('64:ff9b::/96').bytes)).toBe('64:ff9b::');
  });

  it('classifies IPv4 addresses by the special-purpose registry', () => {
    const nonGlobal = [
      '0.0.0.0',
      '0.1.2.3',
      '10.0.0.1',
      '100.64.0.1',
      '100.127.255.255',
      '127.0.0.1',
      '169.254.1.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.0.0.1',
      '192.0.0.8',
      '192.0.0.170',
      '192.0.2.33',
      '192.168.1.1',
      '198.18.0.1',
      '198.19.255.255',
      '198.51.100.2',
      '203.0.113.8',
      '224.0.0.1',
      '239.255.255.255',
      '240.0.0.1',
      '255.255.255.255',
    ];
    const global = [
      '1.1.1.1',
      '8.8.8.8',
      '100.63.255.255',
      '100.128.0.0',
      '172.15.255.255',
      '172.32.0.0',
      '192.0.0.9',
      '192.0.0.10',
      '192.0.1.1',
      '192.31.196.1',
      '192.52.193.1',
      '192.88.99.1',
      '192.175.48.1',
      '198.17.255.255',
      '198.20.0.0',
      '223.255.255.255',
    ];
    for (const text of nonGlobal) expect(isNonGlobalIpv4(ipv4TextToUint32(text)), text).toBe(true);
    for (const text of global) expect(isNonGlobalIpv4(ipv4TextToUint32(text)), text).toBe(false);
  });
});
