// Martian and invalid packets: each is dropped (or refused) before it makes state, and counted under its
// reason; nothing of it is translated.

import { DropReason } from '@nat64/xlat';
import { describe, expect, it } from 'vitest';
import { internetChecksum } from '@nat64/wire';
import { addr4, checksumValid6, fragment6, ipv4, ipv6, read16 } from './support/packets.js';
import { CLIENT, POOL4, SERVER, SERVER6, staticBib, testEngine, type TestEngine } from './support/engine.js';

const udp6 = (overrides: Partial<Parameters<typeof ipv6>[0]> = {}) =>
  ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53, ...overrides });
const udp4 = (overrides: Partial<Parameters<typeof ipv4>[0]> = {}) => ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 53, dstPort: 1, ...overrides });

function rewriteIpv4Checksum(packet: Uint8Array): Uint8Array {
  packet[10] = 0;
  packet[11] = 0;
  const value = internetChecksum(packet, 0, 20);
  packet[10] = value >> 8;
  packet[11] = value & 0xff;
  return packet;
}

/** The IPv4 UDP packet with its checksum field zero ("none", RFC 768). */
function withoutChecksum(packet: Uint8Array): Uint8Array {
  packet[26] = 0;
  packet[27] = 0;
  return packet;
}

/** An IPv6 fragment of `data` bytes at `offset` of datagram `id` (UDP), from the client to the server. */
function piece(offset: number, data: number, more: boolean, id = 0x0102_0304): Uint8Array {
  const packet = ipv6({ src: CLIENT, dst: SERVER6, protocol: 99, payload: new Uint8Array(data).fill(7), fragment: { offset, more, id } });
  packet[40] = 17;
  return packet;
}

/** Opens a UDP session from the client and returns the NAT port it got. */
function openSession(g: TestEngine): number {
  const [out] = g.send(udp6());
  return read16(out!, 20);
}

describe('martians', () => {
  it('drops IPv6 packets from ::, ::1, link-local and multicast sources without answer or state', () => {
    const g = testEngine();
    for (const src of ['::', '::1', 'fe80::1', 'ff02::1']) expect(g.send(udp6({ src })), src).toEqual([]);
    expect(g.counter('martianSourceIpv6')).toBe(4);
    expect(g.table.sessionCount).toBe(0);
    expect(g.send(udp6({ src: '2001:db8:1::3' }))).toHaveLength(1);
  });

  it('refuses IPv4-embedded 0/8, 127/8, multicast and 255.255.255.255 destinations under any prefix with ICMPv6 1/1', () => {
    const destinations: Record<string, string[]> = {
      '2001:db8:64::/96': ['2001:db8:64::1:2', '2001:db8:64::7f00:1', '2001:db8:64::e000:1', '2001:db8:64::efff:fffa', '2001:db8:64::ffff:ffff'],
      '2001:db8:64::/64': ['2001:db8:64:0:7f:0:100:0', '2001:db8:64:0:ff:ffff:ff00:0'],
      '64:ff9b::/32': ['64:ff9b:7f00:1::'],
      '64:ff9b::/96': ['64:ff9b::7f00:1', '64:ff9b::ffff:ffff'],
    };
    for (const [prefix, list] of Object.entries(destinations)) {
      const g = testEngine({ prefix });
      for (const dst of list) {
        const out = g.send(udp6({ dst }));
        expect(out, `${prefix} ${dst}`).toHaveLength(1);
        expect([out[0]![0]! >> 4, out[0]![40], out[0]![41]], `${prefix} ${dst}`).toEqual([6, 1, 1]);
      }
      expect(g.counter('martianDestination')).toBe(list.length);
      expect(g.counter('forwarded64')).toBe(0);
      expect(g.table.sessionCount).toBe(0);
    }
  });

  it('drops IPv4 packets from 0/8, 127/8, multicast and 255.255.255.255, even to a live mapping, without answer', () => {
    const g = testEngine();
    const natPort = openSession(g);
    for (const src of ['0.1.2.3', '127.0.0.1', '224.0.0.5', '255.255.255.255']) {
      expect(g.send(udp4({ src, dstPort: natPort })), src).toEqual([]);
      // Not even Time Exceeded: RFC 1812 4.3.2.7 forbids errors to such sources.
      expect(g.send(udp4({ src, dstPort: natPort, ttl: 1 })), src).toEqual([]);
    }
    expect(g.counter('martianSourceIpv4')).toBe(8);
    expect(g.counter('forwarded46')).toBe(0);
    expect(g.send(udp4({ dstPort: natPort }))).toHaveLength(1);
  });

  it('drops IPv4 packets from outside that claim a pool4 source', () => {
    const g = testEngine();
    const natPort = openSession(g);
    expect(g.send(udp4({ src: POOL4, dstPort: natPort }))).toEqual([]);
    expect(g.counter('sourceInPool4')).toBe(1);
    // Hairpinning still works: its inner IPv4 packet comes from a pool4 address by design.
    const h = testEngine({ staticBib: [staticBib('udp', '2001:db8:1::7', POOL4, 7000)] });
    expect(h.send(udp6({ dst: '2001:db8:64::c633:6401', dstPort: 7000 }))).toHaveLength(1);
    expect(h.counter('hairpinned')).toBe(1);
  });

  it('still translates an ICMPv4 error from 127.0.0.1 for troubleshooting (RFC 7915 4.1), not one from multicast', () => {
    const g = testEngine();
    const [out] = g.send(udp6());
    const error = (src: string) => ipv4({ src, dst: POOL4, protocol: 1, icmp: { type: 3, code: 1, rest: 0 }, payload: out! });
    const [translated] = g.send(error('127.0.0.1'));
    expect([translated![0]! >> 4, translated![40], translated![41]]).toEqual([6, 1, 0]);
    expect(g.send(error('224.0.0.9'))).toEqual([]);
    expect(g.counter('martianSourceIpv4')).toBe(1);
  });

  it('drops ICMPv6 and ICMPv4 errors whose checksum does not verify, whose translation would carry a fresh one', () => {
    const g = testEngine();
    const [out] = g.send(udp6());
    const [reply6] = g.send(udp4({ dstPort: read16(out!, 20) }));
    const error6 = ipv6({ src: CLIENT, dst: SERVER6, protocol: 58, icmp: { type: 1, code: 4, rest: 0 }, payload: reply6! });
    const error4 = ipv4({ src: SERVER, dst: POOL4, protocol: 1, icmp: { type: 3, code: 3, rest: 0 }, payload: out! });
    expect(g.send(error6.slice())).toHaveLength(1);
    expect(g.send(error4.slice())).toHaveLength(1);
    error6[error6.length - 1]! ^= 0x10;
    error4[error4.length - 1]! ^= 0x10;
    expect(g.send(error6, error4)).toEqual([]);
    expect(g.translator.drops[DropReason.badIcmpChecksum]).toBe(2);
    expect(g.counter('icmpErrorsTranslated')).toBe(2);
  });

  it('drops IPv6 UDP with checksum zero (RFC 8200 8.1) without answer or state', () => {
    const g = testEngine();
    const zero = udp6();
    zero.set([0, 0], 46);
    expect(g.send(zero)).toEqual([]);
    expect(g.translator.drops[DropReason.udpChecksumZeroIpv6]).toBe(1);
    expect(g.table.sessionCount).toBe(0);
  });

  it('computes the checksum of an unfragmented IPv4 UDP datagram without one, and drops a fragmented one silently (RFC 6146 3.4)', () => {
    const g = testEngine();
    const natPort = openSession(g);
    const [reply] = g.send(withoutChecksum(udp4({ dstPort: natPort })));
    expect(checksumValid6(reply!)).toBe(true);
    expect(g.counter('udpChecksumsComputed')).toBe(1);
    const first = withoutChecksum(udp4({ dstPort: natPort, payload: new Uint8Array(16) }));
    first[6] = 0x20; // MF
    expect(g.send(rewriteIpv4Checksum(first))).toEqual([]);
    expect(g.counter('udpZeroChecksumFragments')).toBe(1);
  });

  it('refuses a non-last IPv6 fragment whose data is not a multiple of 8 bytes with ICMPv6 4/0 at Payload Length', () => {
    const g = testEngine();
    const [error] = g.send(piece(0, 21, true));
    expect([error![40], error![41], read16(error!, 46)]).toEqual([4, 0, 4]);
    expect(g.counter('badFragmentLength')).toBe(1);
    expect(g.table.sessionCount).toBe(0);
    expect(g.send(piece(8, 21, false))).toEqual([]); // the last may end anywhere: held for its first
  });

  it('refuses an IPv6 fragment that would reassemble past 65,535 bytes with ICMPv6 4/0 at Fragment Offset', () => {
    const g = testEngine();
    const [error] = g.send(piece(65_528, 8, false));
    expect([error![40], error![41], read16(error!, 46)]).toEqual([4, 0, 42]);
    expect(g.counter('fragmentTooLong')).toBe(1);
    expect(g.counter('fragmentsHeld')).toBe(0);
  });

  it('drops a datagram whose fragments overlap: the overlapping fragment and all that follow (RFC 5722)', () => {
    const g = testEngine();
    const whole = udp6({ payload: new Uint8Array(64).fill(3) });
    const [first, second] = fragment6(whole, 32, 0x0bad_0001);
    expect(g.send(first!)).toHaveLength(1);
    const overlapping = piece(24, 16, true, 0x0bad_0001);
    expect(g.send(overlapping)).toEqual([]);
    expect(g.send(second!)).toEqual([]);
    expect(g.counter('fragmentOverlap')).toBe(2);
    // Another datagram of the same flow is not affected.
    const [first2, second2] = fragment6(whole, 32, 0x0bad_0002);
    expect(g.send(second2!, first2!)).toHaveLength(2);
  });

  it('drops the first fragment when it overlaps fragments held for it, and the held ones with it', () => {
    const g = testEngine();
    expect(g.send(piece(16, 16, false, 7))).toEqual([]);
    expect(g.counter('fragmentsHeld')).toBe(1);
    const whole = udp6({ payload: new Uint8Array(64).fill(3) });
    const [first] = fragment6(whole, 32, 7);
    expect(g.send(first!)).toEqual([]);
    expect(g.counter('fragmentOverlap')).toBe(1);
    expect(g.counter('forwarded64')).toBe(0);
    const discarded = g.fragments.counterSnapshot().find((c) => c.name === 'fragmentsDiscarded')!.value;
    expect(discarded).toBe(2);
  });

  it('still passes fragments in any order that cover a datagram once', () => {
    const g = testEngine();
    const whole = udp6({ payload: new Uint8Array(64).fill(3) });
    const [first, second] = fragment6(whole, 32, 0x1234);
    const out = g.send(second!, first!);
    expect(out.map((p) => addr4(p, 12))).toEqual([POOL4, POOL4]);
    expect(g.counter('fragmentOverlap')).toBe(0);
  });
});
