import { describe, expect, it } from 'vitest';
import { fieldAt, fieldMap } from '../src/fields.js';
import { fromHex } from '../src/hex.js';

// ICMPv4 3/3 (192.0.2.1 -> 198.51.100.2) quoting UDP 198.51.100.2#53 -> 192.0.2.2#40000.
const ERROR4 = fromHex(
  '45c0003c00000000400100 00c0000201c6336402' + '0303e95200000000' + '45000020000040004011 4e95c6336402c0000202' + '00359c40000cb261' + '61626364',
);
// IPv6 first fragment with a Hop-by-Hop header, then UDP.
const FRAGMENT6 = fromHex(
  '6000000000 1c 0040' +
    '20010db8000000000000000000000005' +
    '0064ff9b0000000000000000c6336402' +
    '2c00010400000000' +
    '1100000100000001' +
    '04d20035000cde14' +
    '61626364',
);

describe('fields', () => {
  it('names IPv4 header, ICMP and quoted packet fields', () => {
    const fields = fieldMap(ERROR4);
    expect(fieldAt(fields, 1)).toBe('IPv4 TOS');
    expect(fieldAt(fields, 10)).toBe('IPv4 header checksum');
    expect(fieldAt(fields, 22)).toBe('ICMPv4 checksum');
    expect(fieldAt(fields, 28 + 8)).toBe('quoted IPv4 TTL');
    expect(fieldAt(fields, 48 + 2)).toBe('quoted UDP destination port');
    expect(fieldAt(fields, 58)).toBe('payload');
  });

  it('names IPv6 extension and Fragment header fields', () => {
    const fields = fieldMap(FRAGMENT6);
    expect(fieldAt(fields, 7)).toBe('IPv6 hop limit');
    expect(fieldAt(fields, 20)).toBe('IPv6 source address');
    expect(fieldAt(fields, 44)).toBe('hop-by-hop header');
    expect(fieldAt(fields, 50)).toBe('fragment offset/M');
    expect(fieldAt(fields, 52)).toBe('fragment identification');
    expect(fieldAt(fields, 62)).toBe('UDP checksum');
  });

  it('does not read past a truncated packet', () => {
    expect(fieldMap(ERROR4.subarray(0, 30)).every((f) => f.end <= 30)).toBe(true);
  });
});
