import { describe, expect, it } from 'vitest';
import { DropReason, Verdict, XlatFlags } from '@nat64/xlat';
import { foldSum, internetChecksum, pseudoHeaderSum4, pseudoHeaderSum6, sumWords } from '@nat64/wire';
import { expectPacket, hex, inbound, makeTranslator, run46 } from './support.js';

// Golden vectors, derived by hand from RFC 7915 4.1 and the transport checksum definitions.
const CLIENT = '20010db8000000000000000000000005'; // 2001:db8::5
const SERVER = '0064ff9b0000000000000000c6336402'; // 64:ff9b::198.51.100.2

/** IPv4 UDP 198.51.100.2#53 -> 192.0.2.2#40000, TTL 64, DF, "abcd". */
const UDP4 = hex('45000020 0000 4000 40 11 4e95 c6336402 c0000202', '0035 9c40 000c b261', '61626364');
/** Its translation to 64:ff9b::198.51.100.2#53 -> 2001:db8::5#1234, hop limit 63. */
const UDP6 = hex('60000000 000c 11 3f', SERVER, CLIENT, '0035 04d2 000c de14', '61626364');

/** ICMPv4 echo reply id 7 seq 1 "abcd" and its ICMPv6 translation with id 0x1234. */
const ECHO4 = hex('45000020 0000 0000 40 01 8ea5 c6336402 c0000202', '0000 3b31 0007 0001', '61626364');
const ECHO6 = hex('60000000 000c 3a 3f', SERVER, CLIENT, '8100 4fc9 1234 0001', '61626364');

/** An IPv4 UDP datagram 198.51.100.2#53 -> 192.0.2.2#40000 with `size` payload bytes (0, 1, 2, ...). */
function bigUdp4(size: number, flags: number, id = 0x4d2): Uint8Array {
  const total = 28 + size;
  const p = new Uint8Array(total);
  p.set(hex('4500', total.toString(16).padStart(4, '0'), id.toString(16).padStart(4, '0'), flags.toString(16).padStart(4, '0'), '4011 0000 c6336402 c0000202'));
  p.set(hex('0035 9c40', (8 + size).toString(16).padStart(4, '0'), '0000'), 20);
  for (let i = 0; i < size; i++) p[28 + i] = i & 0xff;
  const udp = internetChecksum(p, 20, total, pseudoHeaderSum4(0xc6336402, 0xc0000202, 17, 8 + size));
  p[26] = udp >> 8;
  p[27] = udp & 0xff;
  const header = internetChecksum(p, 0, 20);
  p[10] = header >> 8;
  p[11] = header & 0xff;
  return p;
}

/** Reassembles IPv6 fragments (one Fragment header right after the IPv6 header). */
function reassemble(fragments: Uint8Array[]): { data: Uint8Array; ids: Set<number> } {
  const data = new Uint8Array(65536);
  let end = 0;
  const ids = new Set<number>();
  for (const f of fragments) {
    expect(f[6]).toBe(44);
    const offset = ((f[42]! << 8) | f[43]!) & 0xfff8;
    ids.add(((f[44]! << 24) | (f[45]! << 16) | (f[46]! << 8) | f[47]!) >>> 0);
    data.set(f.subarray(48), offset);
    end = Math.max(end, offset + f.length - 48);
  }
  return { data: data.slice(0, end), ids };
}

describe('xlat46', () => {
  it('translates UDP, rewriting the destination port and adjusting the checksum', () => {
    const r = run46(makeTranslator(), UDP4, inbound(53, 1234));
    expect(r.verdict).toBe(Verdict.forward);
    expectPacket(r.packets[0], UDP6);
  });

  it('translates an ICMPv4 echo reply, adding the ICMPv6 pseudo-header', () => {
    const r = run46(makeTranslator(), ECHO4, inbound(0, 0, 0x1234));
    expectPacket(r.packets[0], ECHO6);
  });

  it('zeroes the Traffic Class only when configured to', () => {
    const marked = UDP4.slice();
    marked[1] = 0xb8;
    fixHeader(marked);
    expect(run46(makeTranslator(), marked, inbound(53, 1234)).packets[0]!.subarray(0, 2)).toEqual(hex('6b80'));
    expect(run46(makeTranslator({ zeroizeTrafficClass: true }), marked, inbound(53, 1234)).packets[0]!.subarray(0, 2)).toEqual(hex('6000'));
  });

  it('answers TTL 1 with ICMPv4 Time Exceeded from its own address', () => {
    const expiring = hex('45000020 0000 4000 01 11 8d95 c6336402 c0000202', '0035 9c40 000c b261', '61626364');
    const r = run46(makeTranslator(), expiring, inbound(53, 1234));
    expect(r.verdict).toBe(Verdict.icmpError);
    expect(r.reason).toBe(DropReason.ttlExceeded);
    // 192.0.2.1 -> 198.51.100.2, TOS 0xc0 (RFC 1812 4.3.2.5), TTL 64, type 11 code 0, whole packet quoted.
    expectPacket(
      r.packets[0],
      hex('45c0003c 0000 0000 40 01 8dca c0000201 c6336402', '0b00 e155 00000000', '45000020000040000111 8d95 c6336402c0000202 00359c40000cb261 61626364'),
      [0],
    );
  });

  it('does not decrement the TTL of a hairpinned packet a second time', () => {
    const expiring = hex('45000020 0000 4000 01 11 8d95 c6336402 c0000202', '0035 9c40 000c b261', '61626364');
    const r = run46(makeTranslator(), expiring, inbound(53, 1234), XlatFlags.hairpin);
    expect(r.verdict).toBe(Verdict.forward);
    expect(r.packets[0]![7]).toBe(1);
  });

  it('answers DF packets too big for the IPv6 next hop with Fragmentation Needed (RFC 7915 4.1)', () => {
    const t = makeTranslator({ ipv6NextHopMtu: 1280, lowestIpv6Mtu: 1500 });
    const r = run46(t, bigUdp4(1261 - 28, 0x4000), inbound(53, 1234));
    expect(r.verdict).toBe(Verdict.icmpError);
    expect(r.reason).toBe(DropReason.fragmentationNeeded);
    const error = r.packets[0]!;
    expect(error.length).toBe(576);
    expect(error.subarray(20, 22)).toEqual(hex('0304'));
    expect(error.subarray(24, 28)).toEqual(hex('000004ec')); // next-hop MTU 1260
    expect(r.packets).toHaveLength(1);
  });

  it('sends DF packets that fit the next hop whole, whatever lowest-ipv6-mtu says', () => {
    const r = run46(makeTranslator({ lowestIpv6Mtu: 1280, ipv6NextHopMtu: 1500 }), bigUdp4(1400, 0x4000), inbound(53, 1234));
    expect(r.packets).toHaveLength(1);
    expect(r.packets[0]!.length).toBe(1448);
    expect(r.packets[0]![6]).toBe(17);
  });

  it('splits DF-clear packets into fragments that fit lowest-ipv6-mtu and reassemble correctly', () => {
    const size = 3000;
    const r = run46(makeTranslator({ lowestIpv6Mtu: 1280 }), bigUdp4(size, 0, 0xbeef), inbound(53, 1234));
    expect(r.verdict).toBe(Verdict.forward);
    expect(r.packets.map((p) => p.length)).toEqual([1280, 1280, 48 + 8 + size - 2 * 1232]);
    expect(r.packets.map((p) => p[43]! & 1)).toEqual([1, 1, 0]);
    const { data, ids } = reassemble(r.packets);
    expect([...ids]).toEqual([0xbeef]);
    expect(data.length).toBe(8 + size);
    // The UDP checksum of the reassembled datagram verifies against the IPv6 pseudo-header.
    const first = r.packets[0]!;
    const pseudo = pseudoHeaderSum6(first, 8, first, 24, 17, data.length);
    expect(foldSum(sumWords(data, 0, data.length, pseudo))).toBe(0xffff);
    expect(data.subarray(8, 16)).toEqual(hex('0001020304050607'));
  });

  it('rounds fragment data down to a multiple of 8', () => {
    const r = run46(makeTranslator({ lowestIpv6Mtu: 1402 }), bigUdp4(1355, 0), inbound(53, 1234));
    expect(r.packets.map((p) => p.length)).toEqual([1400, 48 + 8 + 1355 - 1352]);
    expect(r.packets[1]!.subarray(42, 44)).toEqual(hex('0548')); // offset 1352 = 169 * 8, M=0
  });

  it('splits at the IPv6 next-hop MTU when it is below lowest-ipv6-mtu', () => {
    const r = run46(makeTranslator({ lowestIpv6Mtu: 1500, ipv6NextHopMtu: 1280 }), bigUdp4(1300, 0), inbound(53, 1234));
    expect(r.packets.map((p) => p.length)).toEqual([1280, 48 + 8 + 1300 - 1232]);
  });

  it('keeps an IPv4 fragment as an IPv6 fragment with the same identification', () => {
    // Non-first fragment: offset 1480 (185 units), MF, ID 0x4d2, 16 bytes of data.
    const fragment = hex('45000024 04d2 20b9 40 11 0000 c6336402 c0000202', '00112233445566778899aabbccddeeff');
    fixHeader(fragment);
    const r = run46(makeTranslator(), fragment, inbound(53, 1234));
    expect(r.packets).toHaveLength(1);
    expectPacket(r.packets[0], hex('60000000 0018 2c 3f', SERVER, CLIENT, '1100 05c9 000004d2', '00112233445566778899aabbccddeeff'));
  });

  it('splits a large IPv4 fragment and keeps M set when more fragments follow', () => {
    const big = bigUdp4(1300, 0x2000); // first fragment, MF
    const r = run46(makeTranslator(), big, inbound(53, 1234));
    expect(r.packets.map((p) => p[43]! & 1)).toEqual([1, 1]);
    expect(r.packets[1]!.subarray(42, 44)).toEqual(hex('04d1')); // offset 1232 (0x4d0), M=1
  });

  it('refuses an unexpired source route with ICMPv4 3/5', () => {
    const lsrr = hex('47000028 0000 4000 40 11 905b c6336402 c0000202', '830704c6 33640100', '0035 9c40 000c b261 61626364');
    const r = run46(makeTranslator(), lsrr, inbound(53, 1234));
    expect(r.verdict).toBe(Verdict.icmpError);
    expect(r.reason).toBe(DropReason.sourceRoute);
    expect(r.packets[0]!.subarray(20, 22)).toEqual(hex('0305'));
  });

  it('translates a packet whose options include a used-up source route', () => {
    const used = hex('47000028 0000 4000 40 11 8c5b c6336402 c0000202', '830708c6 33640100', '0035 9c40 000c b261 61626364');
    expectPacket(run46(makeTranslator(), used, inbound(53, 1234)).packets[0], UDP6);
  });

  it('refuses UDP with checksum zero unless amending is on (RFC 7915 4.5)', () => {
    const zero = UDP4.slice();
    zero[26] = 0;
    zero[27] = 0;
    const refused = run46(makeTranslator(), zero, inbound(53, 1234));
    expect(refused.verdict).toBe(Verdict.icmpError);
    expect(refused.reason).toBe(DropReason.udpChecksumZero);
    expect(refused.packets[0]!.subarray(20, 22)).toEqual(hex('030d'));
    expectPacket(run46(makeTranslator({ amendUdpChecksumZero: true }), zero, inbound(53, 1234)).packets[0], UDP6);
  });

  it('computes an amended checksum over the whole datagram before fragmenting it', () => {
    const zero = bigUdp4(2000, 0);
    zero[26] = 0;
    zero[27] = 0;
    const r = run46(makeTranslator({ amendUdpChecksumZero: true }), zero, inbound(53, 1234));
    const { data } = reassemble(r.packets);
    const first = r.packets[0]!;
    expect(foldSum(sumWords(data, 0, data.length, pseudoHeaderSum6(first, 8, first, 24, 17, data.length)))).toBe(0xffff);
  });

  it('refuses a UDP first fragment with checksum zero even when amending', () => {
    const fragment = bigUdp4(100, 0x2000);
    fragment[26] = 0;
    fragment[27] = 0;
    const r = run46(makeTranslator({ amendUdpChecksumZero: true }), fragment, inbound(53, 1234));
    expect(r.reason).toBe(DropReason.udpChecksumZeroFragment);
    expect(r.packets[0]!.subarray(20, 22)).toEqual(hex('030d'));
  });

  it('drops IGMP, fragmented ICMP and ICMP types without a counterpart', () => {
    const t = makeTranslator();
    const igmp = hex('4500001c 0000 0000 40 02 0000 c6336402 e0000001', '1164ee9b 00000000');
    fixHeader(igmp);
    expect(run46(t, igmp, inbound()).reason).toBe(DropReason.singleHop);
    const timestamp = hex('45000028 0000 0000 40 01 0000 c6336402 c0000202', '0d00 0000 00070001 00000000 00000000 00000000');
    fixHeader(timestamp);
    expect(run46(t, timestamp, inbound()).reason).toBe(DropReason.icmpType);
    const fragmentedEcho = hex('45000024 0001 2000 40 01 0000 c6336402 c0000202', '0800 0000 00070001 0001020304050607');
    fixHeader(fragmentedEcho);
    expect(run46(t, fragmentedEcho, inbound()).reason).toBe(DropReason.fragmentedIcmp);
    expect([t.drops[DropReason.singleHop], t.drops[DropReason.icmpType], t.drops[DropReason.fragmentedIcmp]]).toEqual([1, 1, 1]);
  });
});

function fixHeader(packet: Uint8Array): void {
  packet[10] = 0;
  packet[11] = 0;
  const sum = internetChecksum(packet, 0, (packet[0]! & 15) * 4);
  packet[10] = sum >> 8;
  packet[11] = sum & 0xff;
}
