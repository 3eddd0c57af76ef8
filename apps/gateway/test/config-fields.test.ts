import { describe, expect, it } from 'vitest';
import { parseIpv4Address, parseIpv6Address, parsePool4, parsePrefix, parseStaticBib } from '../src/config-fields.js';

describe('config-fields', () => {
  it('accepts every prefix length RFC 6052 allows and canonicalises the text', () => {
    for (const length of [32, 40, 48, 56, 64, 96]) expect(parsePrefix(`2001:db8::/${length}`, 'prefix').length).toBe(length);
    expect(parsePrefix('2001:0DB8:0064::/96', 'prefix').text).toBe('2001:db8:64::/96');
    expect(() => parsePrefix('198.51.100.0/24', 'prefix')).toThrow(/must be an IPv6 prefix/);
    expect(() => parsePrefix('nonsense', 'prefix')).toThrow(/is not an IPv6 prefix/);
  });

  it('reads addresses strictly, naming the setting when one is not an address', () => {
    expect(parseIpv4Address('198.51.100.1', 'translation.ipv4Address')).toBe(0xc6336401);
    for (const text of ['198.51.100', '198.51.100.01', '198.51.100.256', '2001:db8::1']) {
      expect(() => parseIpv4Address(text, 'translation.ipv4Address')).toThrow(`translation.ipv4Address: "${text}" is not an IPv4 address`);
    }
    expect(Buffer.from(parseIpv6Address('2001:db8::198.51.100.1', 'translation.ipv6Address')).toString('hex')).toBe('20010db80000000000000000c6336401');
    for (const text of ['2001:db8::1::2', 'fe80::1%eth0', '198.51.100.1']) {
      expect(() => parseIpv6Address(text, 'translation.ipv6Address')).toThrow(`translation.ipv6Address: "${text}" is not an IPv6 address`);
    }
  });

  it('reads pool4 entries with per-protocol ranges, and bare addresses with the default ranges', () => {
    expect(parsePool4('198.51.100.1', 'pool4[0]').ports.tcp).toEqual({ first: 1024, last: 65535 });
    const entry = parsePool4({ address: '198.51.100.2', icmp: '7', udp: '1-3000' }, 'pool4[1]');
    expect(entry).toEqual({ address: 0xc6336402, ports: { tcp: { first: 1024, last: 65535 }, udp: { first: 1, last: 3000 }, icmp: { first: 7, last: 7 } } });
    expect(() => parsePool4({ address: '198.51.100.2', tcp: '0-10' }, 'pool4[1]')).toThrow(/pool4\[1\]\.tcp: "0-10" must lie within 1-65535/);
    expect(() => parsePool4({ address: '198.51.100.2', udp: '9-8' }, 'pool4[1]')).toThrow(/lowest first/);
    expect(() => parsePool4('198.51.100', 'pool4[2]')).toThrow(/pool4\[2\]\.address: "198.51.100" is not an IPv4 address/);
  });

  it('reads static BIB entries of every protocol, ICMP with identifiers for ports', () => {
    const pool = [parsePool4('192.0.2.2', 'pool4[0]')];
    const entry = parseStaticBib({ protocol: 'icmp', ipv6: '[2001:db8::5]:1', ipv4: '192.0.2.2:1' }, 'staticBib[0]', pool, []);
    expect(entry).toMatchObject({ protocol: 'icmp', ipv6Port: 1, ipv4: 0xc0000202, ipv4Port: 1 });
    expect(entry.ipv6).toEqual(Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]));
    expect(() => parseStaticBib({ protocol: 'sctp', ipv6: '[2001:db8::5]:1', ipv4: '192.0.2.2:1' }, 'staticBib[1]', pool, [])).toThrow(
      /staticBib\[1\]\.protocol: expected one of tcp, udp, icmp/,
    );
    expect(() => parseStaticBib({ ipv6: '[2001:db8::5]:1', ipv4: '192.0.2.2:70000' }, 'staticBib[2]', pool, [])).toThrow(/not an endpoint/);
  });
});
