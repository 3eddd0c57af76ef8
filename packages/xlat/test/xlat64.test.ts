import { describe, expect, it } from 'vitest';
import { DropReason, Mapping64, Verdict, XlatFlags } from '@nat64/xlat';
import { expectPacket, hex, makeTranslator, outbound, run64 } from './support.js';

// Golden vectors, derived by hand from RFC 7915 5.1 and RFC 768/9293/792/4443 checksums.
const CLIENT = '20010db8000000000000000000000005'; // 2001:db8::5
const SERVER = '0064ff9b0000000000000000c6336402'; // 64:ff9b::198.51.100.2

/** IPv6 UDP 2001:db8::5#1234 -> 64:ff9b::198.51.100.2#53, hop limit 64, "abcd". */
const UDP6 = hex('60000000 000c 11 40', CLIENT, SERVER, '04d2 0035 000c de14', '61626364');
/** Its translation with source 192.0.2.2#40000: TTL 63, DF clear, ID chosen by the translator. */
const UDP4 = hex('45000020 0000 0000 3f 11 8f95 c0000202 c6336402', '9c40 0035 000c b261', '61626364');

/** ICMPv6 echo request id 0x1234 seq 1 "abcd", and its ICMPv4 translation with id 7. */
const ECHO6 = hex('60000000 000c 3a 40', CLIENT, SERVER, '8000 50c9 1234 0001', '61626364');
const ECHO4 = hex('45000020 0000 0000 3f 01 8fa5 c0000202 c6336402', '0800 3331 0007 0001', '61626364');

/** TCP SYN 1234 -> 80 whose checksum is one too high, and its translation (still one too high). */
const TCP6_BAD = hex('60000000 0014 06 40', CLIENT, SERVER, '04d2 0050 01020304 00000000 5002 ffff 4ec8 0000');
const TCP4_BAD = hex('45000028 0000 0000 3f 06 8f98 c0000202 c6336402', '9c40 0050 01020304 00000000 5002 ffff 2315 0000');

/** Returns a copy of an IPv6 packet with `payload` extra zero bytes (payload length adjusted). */
function grow(packet: Uint8Array, extra: number): Uint8Array {
  const out = new Uint8Array(packet.length + extra);
  out.set(packet);
  const payload = packet.length - 40 + extra;
  out[4] = payload >> 8;
  out[5] = payload & 0xff;
  return out;
}

describe('xlat64', () => {
  it('translates UDP, rewriting the source port and adjusting the checksum', () => {
    const r = run64(makeTranslator(), UDP6, outbound(40000, 53));
    expect(r.verdict).toBe(Verdict.forward);
    expect(r.packets).toHaveLength(1);
    expectPacket(r.packets[0], UDP4, [0]);
  });

  it('translates an ICMPv6 echo request into an ICMPv4 one without the pseudo-header', () => {
    const r = run64(makeTranslator(), ECHO6, outbound(0, 0, 7));
    expect(r.verdict).toBe(Verdict.forward);
    expectPacket(r.packets[0], ECHO4, [0]);
  });

  it('translates an echo reply into type 0', () => {
    const reply = ECHO6.slice();
    reply[40] = 129; // echo reply
    reply[42] = 0x4f; // checksum 0x50c9 - 0x0100
    const r = run64(makeTranslator(), reply, outbound(0, 0, 7));
    expect(r.packets[0]![20]).toBe(0);
    expect(r.packets[0]!.subarray(22, 24)).toEqual(hex('3b31')); // type 0 instead of 8: 0x3331 + 0x0800
  });

  it('keeps a wrong TCP checksum exactly as wrong', () => {
    const r = run64(makeTranslator(), TCP6_BAD, outbound(40000, 80));
    expectPacket(r.packets[0], TCP4_BAD, [0]);
  });

  it('leaves DF clear up to 1260 bytes of IPv4 and sets it above (RFC 7915 5.1)', () => {
    const t = makeTranslator({ ipv4NextHopMtu: 1500 });
    const at1260 = run64(t, grow(UDP6, 1260 - 32), outbound(40000, 53));
    expect(at1260.packets[0]!.length).toBe(1260);
    expect(at1260.packets[0]![6]! & 0x40).toBe(0);
    const at1261 = run64(t, grow(UDP6, 1261 - 32), outbound(40000, 53));
    expect(at1261.packets[0]!.length).toBe(1261);
    expect(at1261.packets[0]![6]! & 0x40).toBe(0x40);
  });

  it('copies fragment fields: low 16 bits of the ID, MF and offset, DF clear (RFC 7915 5.1.1)', () => {
    // Non-first fragment: offset 185 (1480 bytes), M=1, ID 0xdeadbeef, next header UDP, 8 data bytes.
    const fragment = hex('60000000 0010 2c 40', CLIENT, SERVER, '1100 05c9 deadbeef', '0102030405060708');
    const r = run64(makeTranslator(), fragment, outbound(40000, 53));
    // ID 0xbeef, MF + offset 185 (0x20b9), data untouched (no transport header in this fragment).
    expectPacket(r.packets[0], hex('4500001c beef 20b9 3f 11 aff0 c0000202 c6336402', '0102030405060708'));
  });

  it('removes an atomic Fragment header and keeps its ID', () => {
    const atomic = hex('60000000 0014 2c 40', CLIENT, SERVER, '1100 0000 00001234', '04d2 0035 000c de14', '61626364');
    const r = run64(makeTranslator(), atomic, outbound(40000, 53));
    const expected = UDP4.slice();
    expected.set(hex('1234 0000'), 4);
    expected.set(hex('7d61'), 10); // header checksum with ID 0x1234
    expectPacket(r.packets[0], expected);
  });

  it('passes an unknown transport protocol through untouched', () => {
    const dccp = hex('60000000 0008 21 40', CLIENT, SERVER, '07d00fa0 0500abcd');
    const r = run64(makeTranslator(), dccp, outbound());
    expect(r.verdict).toBe(Verdict.forward);
    expect(r.packets[0]![9]).toBe(33);
    expect(r.packets[0]!.subarray(20)).toEqual(hex('07d00fa0 0500abcd'));
  });

  it('drops IPv6 UDP with a zero checksum, which RFC 8200 8.1 makes invalid, without an answer', () => {
    const zero = UDP6.slice();
    zero[46] = 0;
    zero[47] = 0;
    const t = makeTranslator();
    const r = run64(t, zero, outbound(40000, 53));
    expect(r).toMatchObject({ verdict: Verdict.drop, reason: DropReason.udpChecksumZeroIpv6, packets: [] });
    expect(t.drops[DropReason.udpChecksumZeroIpv6]).toBe(1);
  });

  it('drops a zero UDP checksum before answering for the hop limit', () => {
    const zero = UDP6.slice();
    zero.set([0, 0], 46);
    zero[7] = 1;
    expect(run64(makeTranslator(), zero, outbound(40000, 53))).toMatchObject({ verdict: Verdict.drop, packets: [] });
  });

  it('answers hop limit 1 with ICMPv6 Time Exceeded from its own address', () => {
    const expiring = UDP6.slice();
    expiring[7] = 1;
    const r = run64(makeTranslator(), expiring, outbound(40000, 53));
    expect(r.verdict).toBe(Verdict.icmpError);
    expect(r.reason).toBe(DropReason.ttlExceeded);
    // 2001:db8::1 -> 2001:db8::5, hop limit 64, type 3 code 0, quoting the whole packet.
    expectPacket(
      r.packets[0],
      hex('60000000 003c 3a 40 20010db8000000000000000000000001', CLIENT, '0300 3021 00000000', '60000000000c1101', CLIENT, SERVER, '04d20035000cde1461626364'),
    );
  });

  it('answers a packet too big for the IPv4 next hop with Packet Too Big (RFC 7915 5.1.1)', () => {
    const t = makeTranslator({ ipv4NextHopMtu: 1400 });
    const r = run64(t, grow(UDP6, 1421 - 52), outbound(40000, 53));
    expect(r.verdict).toBe(Verdict.icmpError);
    expect(r.reason).toBe(DropReason.packetTooBig);
    const error = r.packets[0]!;
    expect(error.length).toBe(1280); // quoted up to the IPv6 minimum MTU
    expect(error.subarray(40, 41)).toEqual(hex('02'));
    expect(error.subarray(44, 48)).toEqual(hex('0000058c')); // 1400 + 20
  });

  it('reports at least 1280 in Packet Too Big even behind a tiny IPv4 link', () => {
    const t = makeTranslator({ ipv4NextHopMtu: 1000 });
    const r = run64(t, grow(UDP6, 1281 - 52), outbound(40000, 53));
    expect(r.packets[0]!.subarray(44, 48)).toEqual(hex('00000500'));
  });

  it('lets packets of at most 1280 bytes through DF-clear even when the IPv4 link is smaller', () => {
    const t = makeTranslator({ ipv4NextHopMtu: 1000 });
    const r = run64(t, grow(UDP6, 1280 - 52), outbound(40000, 53));
    expect(r.verdict).toBe(Verdict.forward);
    expect(r.packets[0]![6]! & 0x40).toBe(0);
  });

  it('skips the IPv4 next-hop MTU check for a hairpinned packet', () => {
    const t = makeTranslator({ ipv4NextHopMtu: 1400 });
    const r = run64(t, grow(UDP6, 1421 - 52), outbound(40000, 53), XlatFlags.hairpin);
    expect(r.verdict).toBe(Verdict.forward);
    expect(r.packets[0]!.length).toBe(1401);
  });

  it('answers a Routing header with Segments Left 2 with Parameter Problem pointing at it', () => {
    const routed = hex('60000000 0024 2b 40', CLIENT, SERVER, '1102 0002 00000000', CLIENT, '04d20035000cde14 61626364');
    const r = run64(makeTranslator(), routed, outbound(40000, 53));
    expect(r.verdict).toBe(Verdict.icmpError);
    expect(r.reason).toBe(DropReason.segmentsLeft);
    expect(r.packets[0]!.subarray(40, 42)).toEqual(hex('0400')); // erroneous header field
    expect(r.packets[0]!.subarray(44, 48)).toEqual(hex('0000002b')); // pointer 43: 40 + 3
  });

  it('answers an extension header after the Fragment header with Destination Unreachable 1/1', () => {
    const packet = hex('60000000 001c 2c 40', CLIENT, SERVER, '3c00 0001 00000000', '1100 0104 00000000', '04d20035000cde14 61626364');
    const r = run64(makeTranslator(), packet, outbound(40000, 53));
    expect(r.verdict).toBe(Verdict.icmpError);
    expect(r.reason).toBe(DropReason.extensionAfterFragment);
    expect(r.packets[0]!.subarray(40, 42)).toEqual(hex('0101'));
  });

  it('drops fragmented ICMPv6 and informational types without a counterpart', () => {
    const t = makeTranslator();
    const fragmented = hex('60000000 0014 2c 40', CLIENT, SERVER, '3a00 0001 00000001', '8000 0000 1234 0001', '61626364');
    expect(run64(t, fragmented, outbound()).reason).toBe(DropReason.fragmentedIcmp);
    const neighborSolicitation = hex('60000000 0008 3a ff', CLIENT, SERVER, '8700 0000 00000000');
    const r = run64(t, neighborSolicitation, outbound());
    expect(r.verdict).toBe(Verdict.drop);
    expect(r.reason).toBe(DropReason.icmpType);
    expect(r.packets).toHaveLength(0);
    expect(t.drops[DropReason.icmpType]).toBe(1);
    expect(t.drops[DropReason.fragmentedIcmp]).toBe(1);
  });

  it('copies the Traffic Class into the TOS unless overridden', () => {
    const marked = UDP6.slice();
    marked[0] = 0x6b;
    marked[1] = 0x80; // traffic class 0xb8
    expect(run64(makeTranslator(), marked, outbound(40000, 53)).packets[0]![1]).toBe(0xb8);
    expect(run64(makeTranslator({ overrideTos: true, tos: 0x10 }), marked, outbound(40000, 53)).packets[0]![1]).toBe(0x10);
  });

  it('uses the mapping as given, whatever the packet addresses', () => {
    const m = new Mapping64();
    m.src = 0x0a000001;
    m.dst = 0x0a000002;
    m.srcPort = 1234;
    m.dstPort = 53;
    const r = run64(makeTranslator(), UDP6, m);
    expect(r.packets[0]!.subarray(12, 20)).toEqual(hex('0a000001 0a000002'));
  });
});
