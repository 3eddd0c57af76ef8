import { toHex } from '@nat64/graybox';
import { describe, expect, it } from 'vitest';
import { DropReason, Verdict } from '@nat64/xlat';
import { QUOTED4, checksumOf, errorInbound, expectPacket, hex, icmp4Error, inbound, makeTranslator, run46 } from './support.js';

const CLIENT = '20010db8000000000000000000000005'; // 2001:db8::5
const SERVER = '0064ff9b0000000000000000c6336402'; // 64:ff9b::198.51.100.2

/** RFC 7915 4.2, written out from the RFC text: ICMPv4 [type, code] -> ICMPv6 [type, code] or null (dropped). */
const ROWS: readonly [number, number, readonly [number, number] | null][] = [
  [3, 0, [1, 0]], // net unreachable -> no route
  [3, 1, [1, 0]], // host unreachable -> no route
  [3, 2, [4, 1]], // protocol unreachable -> parameter problem, unrecognized next header
  [3, 3, [1, 4]], // port unreachable
  [3, 4, [2, 0]], // fragmentation needed -> packet too big
  [3, 5, [1, 0]], // source route failed
  [3, 6, [1, 0]],
  [3, 7, [1, 0]],
  [3, 8, [1, 0]],
  [3, 9, [1, 1]], // administratively prohibited -> communication prohibited
  [3, 10, [1, 1]],
  [3, 11, [1, 0]],
  [3, 12, [1, 0]],
  [3, 13, [1, 1]],
  [3, 14, null], // host precedence violation: silently drop
  [3, 15, [1, 1]], // precedence cutoff
  [3, 16, null], // unknown code
  [11, 0, [3, 0]], // time exceeded, code copied
  [11, 1, [3, 1]],
  [12, 0, [4, 0]], // parameter problem, pointer translated
  [12, 1, null], // missing required option: drop
  [12, 2, [4, 0]], // bad length
  [4, 0, null], // source quench: obsoleted, drop
  [5, 1, null], // redirect: single hop, drop
];

describe('icmp46', () => {
  it('translates an ICMPv4 port unreachable, its quoted packet and inner ports (golden)', () => {
    const error = hex('4500003c 0000 0000 40 01 8e89 c6336402 c0000202', '0303 e952 00000000', toHex(QUOTED4));
    const m = errorInbound();
    m.src.set(hex(SERVER));
    const r = run46(makeTranslator(), error, m);
    expect(r.verdict).toBe(Verdict.forward);
    // 64:ff9b::198.51.100.2 -> 2001:db8::5, hop limit 63, 1/4, the quote as the IPv6 client sent it.
    expectPacket(
      r.packets[0],
      hex('60000000 003c 3a 3f', SERVER, CLIENT, '0104 3563 00000000', '60000000 000c 11 3f', CLIENT, SERVER, '04d2 0035 000c de14 61626364'),
    );
  });

  for (const [type, code, expected] of ROWS) {
    it(`maps ICMPv4 ${type}/${code} to ${expected === null ? 'a drop' : `ICMPv6 ${expected[0]}/${expected[1]}`}`, () => {
      const rest = type === 3 && code === 4 ? '000005dc' : type === 12 ? '08000000' : '00000000';
      const r = run46(makeTranslator(), icmp4Error(type, code, rest, QUOTED4), errorInbound());
      if (expected === null) {
        expect(r.verdict).toBe(Verdict.drop);
        expect([DropReason.icmpCode, DropReason.icmpType]).toContain(r.reason);
        expect(r.packets).toHaveLength(0);
        return;
      }
      expect(r.verdict).toBe(Verdict.forward);
      expect([r.packets[0]![40], r.packets[0]![41]]).toEqual(expected);
      if (type === 3 && code === 2) expect(r.packets[0]!.subarray(44, 48)).toEqual(hex('00000006')); // pointer at Next Header
    });
  }

  // RFC 7915 4.2 Figure 3, written out: IPv4 pointer -> IPv6 pointer (-1: dropped).
  const POINTERS: readonly [number, number][] = [
    [0, 0],
    [1, 1],
    [2, 4],
    [3, 4],
    [4, -1],
    [5, -1],
    [6, -1],
    [7, -1],
    [8, 7],
    [9, 6],
    [10, -1],
    [11, -1],
    [12, 8],
    [13, 8],
    [14, 8],
    [15, 8],
    [16, 24],
    [17, 24],
    [18, 24],
    [19, 24],
    [20, -1],
    [255, -1],
  ];
  it('translates Parameter Problem pointers per RFC 7915 Figure 3', () => {
    const t = makeTranslator();
    for (const [from, to] of POINTERS) {
      const rest = `${from.toString(16).padStart(2, '0')}000000`;
      const r = run46(t, icmp4Error(12, 0, rest, QUOTED4), errorInbound());
      if (to < 0) {
        expect(r.reason, `pointer ${from}`).toBe(DropReason.icmpPointer);
      } else {
        expect(r.packets[0]!.subarray(44, 48), `pointer ${from}`).toEqual(hex(to.toString(16).padStart(8, '0')));
      }
    }
  });

  /** Packet Too Big MTU for a Fragmentation Needed carrying `mtu`, with the given next-hop MTUs. */
  function ptbMtu(mtu: number, quoted = QUOTED4, config = {}): number {
    const r = run46(makeTranslator(config), icmp4Error(3, 4, `0000${mtu.toString(16).padStart(4, '0')}`, quoted), errorInbound());
    const p = r.packets[0]!;
    return ((p[44]! << 24) | (p[45]! << 16) | (p[46]! << 8) | p[47]!) >>> 0;
  }

  it('adds 20 to the reported MTU (RFC 7915 4.2)', () => {
    expect(ptbMtu(1400)).toBe(1420);
    expect(ptbMtu(1480)).toBe(1500);
  });

  it('caps the MTU at the IPv6 next hop and the IPv4 next hop plus 20', () => {
    expect(ptbMtu(1400, QUOTED4, { ipv6NextHopMtu: 1350 })).toBe(1350);
    expect(ptbMtu(1400, QUOTED4, { ipv4NextHopMtu: 1300 })).toBe(1320);
  });

  it('never reports less than 1280', () => {
    expect(ptbMtu(1259)).toBe(1280);
    expect(ptbMtu(576)).toBe(1280);
  });

  it('guesses from the RFC 1191 plateaus when the router reports MTU 0', () => {
    // The quoted packet claims 4000 bytes: the plateau below is 2002, plus 20, capped by 1500.
    const claims4000 = QUOTED4.slice();
    claims4000.set(hex('0fa0'), 2);
    expect(ptbMtu(0, claims4000, { ipv6NextHopMtu: 9000, ipv4NextHopMtu: 9000 })).toBe(2022);
    expect(ptbMtu(0, claims4000)).toBe(1500);
  });

  it('drops an ICMPv4 error quoting another ICMP error', () => {
    const inner = hex('4500001c 0000 0000 3f 01 0000 c0000202 c6336402', '0303 fcfc 00000000');
    const r = run46(makeTranslator(), icmp4Error(3, 1, '00000000', inner), errorInbound());
    expect(r.reason).toBe(DropReason.icmpNestedError);
  });

  it('drops an ICMPv4 error whose quote is shorter than an IPv4 header', () => {
    const r = run46(makeTranslator(), icmp4Error(3, 1, '00000000', QUOTED4.subarray(0, 12)), errorInbound());
    expect(r.reason).toBe(DropReason.icmpBadInner);
  });

  it('gives the ICMPv6 error a checksum that verifies (the parser has verified the incoming one)', () => {
    const out = run46(makeTranslator(), icmp4Error(3, 3, '00000000', QUOTED4), errorInbound()).packets[0]!;
    const pseudo = sumRange(out, 8, 40) + 58 + (out.length - 40);
    expect(checksumOf(out, 40, out.length, pseudo)).toBe(0);
  });

  it('drops the RFC 4884 extension when the ICMPv6 type has no length field', () => {
    const padded = new Uint8Array(128);
    padded.set(QUOTED4);
    const r = run46(makeTranslator(), icmp4Error(3, 4, '000005dc', padded, hex('20000000 0008 0101 00000001')), errorInbound());
    expect(r.packets[0]![40]).toBe(2);
    expect(r.packets[0]!.length).toBe(48 + 52); // the 52-byte translated datagram alone, padding dropped
  });

  it('keeps an RFC 4884 extension with Time Exceeded and sets the ICMPv6 length', () => {
    const padded = new Uint8Array(128);
    padded.set(QUOTED4);
    const extension = hex('20000000 0008 0101 00000001');
    const r = run46(makeTranslator(), icmp4Error(11, 0, '00000000', padded, extension), errorInbound());
    const out = r.packets[0]!;
    // The 32-byte datagram (the rest is padding) becomes 52 bytes, padded again to 128 (16 units).
    expect(out[44]).toBe(16);
    expect(out.length).toBe(48 + 128 + 12);
    expect(out.subarray(48 + 52, 48 + 128)).toEqual(new Uint8Array(76));
    expect(out.subarray(48 + 128)).toEqual(extension);
  });

  it('translates the inner ICMP echo of an error with the inner identifier', () => {
    const echo = hex('4500001c 0000 0000 3f 01 8f99 c0000202 c6336402', '0800 f7f7 0007 0001');
    const m = errorInbound();
    m.innerIcmpId = 0x1234;
    const r = run46(makeTranslator(), icmp4Error(11, 0, '00000000', echo), m);
    const inner = r.packets[0]!.subarray(48);
    expect(inner[6]).toBe(58);
    expect(inner.subarray(40, 48)).toEqual(hex('8000', hex4(innerEchoChecksum(inner)), '1234 0001'));
  });

  it('does not answer a refused ICMPv4 error with another error', () => {
    const expiring = icmp4Error(3, 3, '00000000', QUOTED4);
    expiring[8] = 1;
    expiring[10] = 0;
    expiring[11] = 0;
    const sum = checksumOf(expiring, 0, 20, 0);
    expiring[10] = sum >> 8;
    expiring[11] = sum & 0xff;
    const r = run46(makeTranslator(), expiring, inbound());
    expect(r.verdict).toBe(Verdict.drop);
    expect(r.reason).toBe(DropReason.ttlExceeded);
    expect(r.packets).toHaveLength(0);
  });
});

function sumRange(p: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  return sum;
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, '0');
}

/** The checksum an ICMPv6 echo request 8 bytes long, id 0x1234 seq 1, must carry inside `inner`. */
function innerEchoChecksum(inner: Uint8Array): number {
  const message = hex('8000 0000 1234 0001');
  return checksumOf(message, 0, 8, sumRange(inner, 8, 40) + 58 + 8);
}
