import { toHex } from '@nat64/graybox';
import { describe, expect, it } from 'vitest';
import { DropReason, Verdict } from '@nat64/xlat';
import { QUOTED6_REVERSE, checksumOf, errorOutbound, expectPacket, hex, icmp6Error, makeTranslator, run64 } from './support.js';

const CLIENT = '20010db8000000000000000000000005'; // 2001:db8::5
const SERVER = '0064ff9b0000000000000000c6336402'; // 64:ff9b::198.51.100.2
const ROUTER = '20010db8000000000000000000000099'; // 2001:db8::99

/** RFC 7915 5.2, written out from the RFC text: ICMPv6 [type, code] -> ICMPv4 [type, code] or null (dropped). */
const ROWS: readonly [number, number, readonly [number, number] | null][] = [
  [1, 0, [3, 1]], // no route -> host unreachable
  [1, 1, [3, 10]], // administratively prohibited -> host administratively prohibited
  [1, 2, [3, 1]], // beyond scope of source address
  [1, 3, [3, 1]], // address unreachable
  [1, 4, [3, 3]], // port unreachable
  [1, 5, null], // source address failed ingress policy: no counterpart
  [1, 6, null],
  [2, 0, [3, 4]], // packet too big -> fragmentation needed
  [3, 0, [11, 0]], // time exceeded, code copied
  [3, 1, [11, 1]],
  [4, 0, [12, 0]], // erroneous header field -> parameter problem, pointer translated
  [4, 1, [3, 2]], // unrecognized next header -> protocol unreachable
  [4, 2, null], // unrecognized IPv6 option: drop
  [100, 0, null], // unknown error type
];

describe('icmp64', () => {
  it('translates an ICMPv6 port unreachable, its quoted packet and inner ports (golden)', () => {
    const error = hex('60000000 003c 3a 40', ROUTER, SERVER, '0104 34cf 00000000', toHex(QUOTED6_REVERSE));
    const r = run64(makeTranslator(), error, errorOutbound());
    expect(r.verdict).toBe(Verdict.forward);
    // 192.0.2.2 -> 198.51.100.2, TTL 63, 3/3, quoting 198.51.100.2#53 -> 192.0.2.2#40000 (TTL 63, ID 0).
    expectPacket(
      r.packets[0],
      hex(
        '4500003c 0000 0000 3f 01 8f89 c0000202 c6336402',
        '0303 e952 00000000',
        '45000020 0000 0000 3f 11 8f95 c6336402 c0000202',
        '0035 9c40 000c b261 61626364',
      ),
      [0],
    );
  });

  for (const [type, code, expected] of ROWS) {
    it(`maps ICMPv6 ${type}/${code} to ${expected === null ? 'a drop' : `ICMPv4 ${expected[0]}/${expected[1]}`}`, () => {
      const rest = type === 2 ? '000005dc' : type === 4 ? '00000006' : '00000000';
      const r = run64(makeTranslator(), icmp6Error(type, code, rest, QUOTED6_REVERSE), errorOutbound());
      if (expected === null) {
        expect(r.verdict).toBe(Verdict.drop);
        expect([DropReason.icmpCode, DropReason.icmpType]).toContain(r.reason);
        expect(r.packets).toHaveLength(0);
        return;
      }
      expect(r.verdict).toBe(Verdict.forward);
      expect([r.packets[0]![20], r.packets[0]![21]]).toEqual(expected);
    });
  }

  // RFC 7915 5.2 Figure 6, written out: IPv6 pointer -> IPv4 pointer (-1: dropped).
  const POINTERS: readonly [number, number][] = [
    [0, 0],
    [1, 1],
    [2, -1],
    [3, -1],
    [4, 2],
    [5, 2],
    [6, 9],
    [7, 8],
    [8, 12],
    [23, 12],
    [24, 16],
    [39, 16],
    [40, -1],
    [0x10000, -1],
  ];
  it('translates Parameter Problem pointers per RFC 7915 Figure 6', () => {
    const t = makeTranslator();
    for (const [from, to] of POINTERS) {
      const r = run64(t, icmp6Error(4, 0, from.toString(16).padStart(8, '0'), QUOTED6_REVERSE), errorOutbound());
      if (to < 0) {
        expect(r.reason, `pointer ${from}`).toBe(DropReason.icmpPointer);
      } else {
        expect(r.packets[0]!.subarray(24, 28), `pointer ${from}`).toEqual(hex(to.toString(16).padStart(2, '0'), '000000'));
      }
    }
  });

  /** Fragmentation Needed MTU for a Packet Too Big carrying `mtu`. */
  function fragNeededMtu(mtu: number, quoted = QUOTED6_REVERSE, config = {}): number {
    const r = run64(makeTranslator(config), icmp6Error(2, 0, mtu.toString(16).padStart(8, '0'), quoted), errorOutbound());
    const p = r.packets[0]!;
    expect(p.subarray(24, 26)).toEqual(hex('0000'));
    return (p[26]! << 8) | p[27]!;
  }

  it('subtracts 20 from the reported MTU (RFC 7915 5.2)', () => {
    expect(fragNeededMtu(1280)).toBe(1260);
    expect(fragNeededMtu(1400)).toBe(1380);
  });

  it('caps the MTU at the IPv4 next hop and the IPv6 next hop minus 20', () => {
    expect(fragNeededMtu(9000)).toBe(1480);
    expect(fragNeededMtu(9000, QUOTED6_REVERSE, { ipv4NextHopMtu: 1400 })).toBe(1400);
  });

  it('subtracts 28 when the packet in error carried a Fragment header', () => {
    const fragment = hex('60000000 0014 2c 3f', SERVER, CLIENT, '1100 0001 00000001', '0035 04d2 000c de14 61626364');
    expect(fragNeededMtu(1400, fragment)).toBe(1372);
  });

  it('translates a quoted fragment into an IPv4 fragment with the same identification', () => {
    const fragment = hex('60000000 0014 2c 3f', SERVER, CLIENT, '1100 0001 00abcdef', '0035 04d2 000c de14 61626364');
    const r = run64(makeTranslator(), icmp6Error(1, 4, '00000000', fragment), errorOutbound());
    const inner = r.packets[0]!.subarray(28);
    expect(inner.subarray(2, 8)).toEqual(hex('0020 cdef 2000')); // total length 32, ID low 16 bits, MF
  });

  it('sets DF on a quoted packet longer than 1260 bytes once translated', () => {
    const big = new Uint8Array(1281);
    big.set(QUOTED6_REVERSE);
    big.set(hex('04d9'), 4); // claims 1241 bytes of payload
    const r = run64(makeTranslator(), icmp6Error(1, 4, '00000000', big.subarray(0, 200)), errorOutbound());
    expect(r.packets[0]!.subarray(28 + 2, 28 + 8)).toEqual(hex('04ed 0000 4000')); // total 1261, DF
  });

  it('cuts the translated error to 576 bytes, keeping the quoted total length', () => {
    const big = new Uint8Array(1232);
    big.set(QUOTED6_REVERSE);
    big.set(hex('04a8'), 4); // payload 1192: the whole 1232-byte packet is quoted
    const r = run64(makeTranslator(), icmp6Error(1, 4, '00000000', big), errorOutbound());
    expect(r.packets[0]!.length).toBe(576);
    expect(r.packets[0]!.subarray(28 + 2, 28 + 4)).toEqual(hex('04bc')); // 1212 = 1192 + 20
  });

  it('gives the ICMPv4 error a checksum that verifies (the parser has verified the incoming one)', () => {
    const r = run64(makeTranslator(), icmp6Error(1, 4, '00000000', QUOTED6_REVERSE), errorOutbound());
    expect(checksumOf(r.packets[0]!, 20, r.packets[0]!.length, 0)).toBe(0);
  });

  it('drops an error quoting an ICMPv6 error, or a quote too short to translate', () => {
    const t = makeTranslator();
    const nested = hex('60000000 0008 3a 3f', SERVER, CLIENT, '0104 0000 00000000');
    expect(run64(t, icmp6Error(1, 4, '00000000', nested), errorOutbound()).reason).toBe(DropReason.icmpNestedError);
    expect(run64(t, icmp6Error(1, 4, '00000000', QUOTED6_REVERSE.subarray(0, 30)), errorOutbound()).reason).toBe(DropReason.icmpBadInner);
  });

  it('moves an RFC 4884 extension after the translated datagram and rescales the length', () => {
    const padded = new Uint8Array(128);
    padded.set(QUOTED6_REVERSE);
    const extension = hex('20000000 0008 0101 00000001');
    const r = run64(makeTranslator(), icmp6Error(3, 0, '00000000', padded, extension), errorOutbound());
    const out = r.packets[0]!;
    expect(out[25]).toBe(32); // 128 bytes in 32-bit words
    expect(out.length).toBe(28 + 128 + 12);
    expect(out.subarray(28 + 128)).toEqual(extension);
  });
});
