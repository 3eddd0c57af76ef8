import { describe, expect, it } from 'vitest';
import { FragmentFault, Ipv6View, ParseStatus, fragmentFaultPointer, ipv6FragmentFault, isMartianIpv4, isMartianIpv6Source, parseIpv6 } from '@nat64/xlat';
import { ipv4TextToUint32, ipv6TextToBytes } from '@nat64/wire';
import { hex } from './support.js';

const SRC6 = '20010db8000000000000000000000005'; // 2001:db8::5
const DST6 = '0064ff9b0000000000000000c6336402'; // 64:ff9b::198.51.100.2

/** An IPv6 packet with a Fragment header (offset in bytes, M) carrying `data` bytes, optionally after a Destination Options header. */
function fragment(offset: number, more: boolean, data: number, withOptions = false): Uint8Array {
  const options = withOptions ? '2c00 0104 00000000' : '';
  const payload = (withOptions ? 8 : 0) + 8 + data;
  const word = (offset & 0xfff8) | (more ? 1 : 0);
  return hex(
    `60000000 ${payload.toString(16).padStart(4, '0')} ${withOptions ? '3c' : '2c'} 40`,
    SRC6,
    DST6,
    options,
    `11 00 ${word.toString(16).padStart(4, '0')} 01020304`,
    'ab'.repeat(data),
  );
}

function fault(packet: Uint8Array): number {
  const v = new Ipv6View();
  expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
  return ipv6FragmentFault(v);
}

describe('martians', () => {
  it('knows the IPv4 addresses no packet comes from: 0/8, 127/8, multicast and the limited broadcast', () => {
    for (const text of ['0.0.0.0', '0.1.2.3', '127.0.0.1', '127.255.255.254', '224.0.0.1', '239.255.255.255', '255.255.255.255']) {
      expect(isMartianIpv4(ipv4TextToUint32(text)), text).toBe(true);
    }
    for (const text of ['1.0.0.0', '126.255.255.255', '128.0.0.0', '198.51.100.1', '223.255.255.255', '240.0.0.1', '255.255.255.254']) {
      expect(isMartianIpv4(ipv4TextToUint32(text)), text).toBe(false);
    }
  });

  it('knows the IPv6 sources a router never forwards: ::, ::1, link-local and multicast', () => {
    for (const text of ['::', '::1', 'fe80::1', 'febf:ffff::1', 'ff02::1', 'ff0e::1234']) {
      expect(isMartianIpv6Source(ipv6TextToBytes(text)!, 0), text).toBe(true);
    }
    for (const text of ['::2', '::ffff:192.0.2.1', '2001:db8::5', 'fec0::1', 'fe7f::1', 'fc00::1', '100::1']) {
      expect(isMartianIpv6Source(ipv6TextToBytes(text)!, 0), text).toBe(false);
    }
    const buffer = new Uint8Array(20);
    buffer.set(ipv6TextToBytes('fe80::9')!, 4);
    expect(isMartianIpv6Source(buffer, 4)).toBe(true);
  });

  it('finds nothing wrong with sound fragments and unfragmented packets', () => {
    expect(fault(fragment(0, true, 16))).toBe(FragmentFault.none);
    expect(fault(fragment(16, false, 13))).toBe(FragmentFault.none); // the last may end anywhere
    expect(fault(fragment(0, false, 13))).toBe(FragmentFault.none); // atomic
    expect(fault(fragment(65_528, false, 7))).toBe(FragmentFault.none); // ends exactly at 65,535
    expect(fault(hex('60000000 0008 11 40', SRC6, DST6, '04d20035 0008 0000'))).toBe(FragmentFault.none);
  });

  it('finds a non-last fragment whose data is not a multiple of 8 bytes (RFC 8200 4.5), pointing at Payload Length', () => {
    const packet = fragment(8, true, 13);
    expect(fault(packet)).toBe(FragmentFault.length);
    const v = new Ipv6View();
    parseIpv6(packet, 0, packet.length, v);
    expect(fragmentFaultPointer(v, FragmentFault.length)).toBe(4);
  });

  it('finds a fragment that would reassemble past 65,535 bytes (RFC 8200 4.5), pointing at its Fragment Offset', () => {
    expect(fault(fragment(65_528, false, 8))).toBe(FragmentFault.tooLong);
    expect(fault(fragment(65_520, true, 16))).toBe(FragmentFault.tooLong);
    // The extension headers before the Fragment header count toward the reassembled payload.
    const withOptions = fragment(65_520, false, 15, true);
    expect(fault(withOptions)).toBe(FragmentFault.tooLong);
    const v = new Ipv6View();
    parseIpv6(withOptions, 0, withOptions.length, v);
    expect(fragmentFaultPointer(v, FragmentFault.tooLong)).toBe(40 + 8 + 2);
    expect(fault(fragment(65_520, false, 7, true))).toBe(FragmentFault.none);
  });
});
