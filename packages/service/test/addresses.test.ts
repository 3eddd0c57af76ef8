import { describe, expect, it } from 'vitest';
import { formatEndpoint4, formatEndpoint6 } from '@nat64/service';

function ipv6(...groups: number[]): Uint8Array {
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

describe('addresses', () => {
  it('formats endpoints the way the connection log shows them', () => {
    expect(formatEndpoint4(0xc0000207, 3719)).toBe('192.0.2.7:3719');
    expect(formatEndpoint6(ipv6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x17), 53186)).toBe('[2001:db8::17]:53186');
    expect(formatEndpoint6(Uint8Array.from([9, 9, ...ipv6(0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x207)]), 80, 2)).toBe('[64:ff9b::c000:207]:80');
  });
});
