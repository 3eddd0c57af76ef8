import { describe, expect, it } from 'vitest';
import { Ipv4View, Ipv6View, PacketBatch, ParseStatus, Verdict, parseIpv4, parseIpv6 } from '@nat64/xlat';
import { expectPacket, hex, makeTranslator } from './support.js';

const CLIENT = '20010db8000000000000000000000005'; // 2001:db8::5
const SERVER = '0064ff9b0000000000000000c6336402'; // 64:ff9b::198.51.100.2
const UDP6 = hex('60000000 000c 11 40', CLIENT, SERVER, '04d2 0035 000c de14', '61626364');
const UDP4 = hex('45000020 0000 4000 40 11 4e95 c6336402 c0000202', '0035 9c40 000c b261', '61626364');

function view6(packet: Uint8Array): Ipv6View {
  const v = new Ipv6View();
  expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
  return v;
}

function view4(packet: Uint8Array): Ipv4View {
  const v = new Ipv4View();
  expect(parseIpv4(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
  return v;
}

describe('icmp-error', () => {
  it('builds an ICMPv6 Destination Unreachable from the translator address (golden)', () => {
    const out = new PacketBatch({ capacity: 2, maxPacketSize: 1500 });
    expect(makeTranslator().icmp6Error(view6(UDP6), 1, 3, 0, out)).toBe(Verdict.icmpError);
    // 2001:db8::1 -> 2001:db8::5, hop limit 64, 1/3, the 52-byte packet quoted whole.
    expectPacket(
      out.packet(0),
      hex(
        '60000000 003c 3a 40 20010db8000000000000000000000001',
        CLIENT,
        '0103 31df 00000000',
        '60000000000c1140',
        CLIENT,
        SERVER,
        '04d20035000cde14 61626364',
      ),
    );
  });

  it('builds an ICMPv4 port unreachable from the translator address (golden)', () => {
    const out = new PacketBatch({ capacity: 2, maxPacketSize: 1500 });
    expect(makeTranslator().icmp4Error(view4(UDP4), 3, 3, 0, out)).toBe(Verdict.icmpError);
    // 192.0.2.1 -> 198.51.100.2, TOS 0xc0, TTL 64, 3/3, the 32-byte packet quoted whole.
    expectPacket(
      out.packet(0),
      hex(
        '45c0003c 0000 0000 40 01 8dca c0000201 c6336402',
        '0303 e952 00000000',
        '45000020 0000 4000 40 11 4e95 c6336402 c0000202 0035 9c40 000c b261 61626364',
      ),
      [0],
    );
  });

  it('puts the next-hop MTU of a Fragmentation Needed in the low 16 bits and a pointer in the first byte', () => {
    const t = makeTranslator();
    const out = new PacketBatch({ capacity: 2, maxPacketSize: 1500 });
    t.icmp4Error(view4(UDP4), 3, 4, 1260, out);
    t.icmp4Error(view4(UDP4), 12, 0, 9, out);
    expect(out.packet(0).subarray(24, 28)).toEqual(hex('000004ec'));
    expect(out.packet(1).subarray(24, 28)).toEqual(hex('09000000'));
  });

  it('quotes at most 576 bytes in ICMPv4 and 1280 in ICMPv6', () => {
    const t = makeTranslator();
    const big4 = new Uint8Array(1500);
    big4.set(hex('450005dc 0000 4000 40 11 0000 c6336402 c0000202'));
    const sum = 0xffff - ((0x4500 + 0x05dc + 0x4000 + 0x4011 + 0xc633 + 0x6402 + 0xc000 + 0x0202) % 0xffff);
    big4[10] = sum >> 8;
    big4[11] = sum & 0xff;
    big4.set(hex('0035 9c40 05c8 0000'), 20);
    const big6 = new Uint8Array(1500);
    big6.set(hex('60000000 05b4 11 40', CLIENT, SERVER, '04d2 0035 05b4 0000'));
    const out = new PacketBatch({ capacity: 2, maxPacketSize: 1500 });
    t.icmp4Error(view4(big4), 3, 13, 0, out);
    t.icmp6Error(view6(big6), 1, 1, 0, out);
    expect(out.packet(0).length).toBe(576);
    expect(out.packet(1).length).toBe(1280);
  });

  it('sends no error about an ICMP error, a non-first fragment or a multicast destination', () => {
    const t = makeTranslator();
    const out = new PacketBatch({ capacity: 4, maxPacketSize: 1500 });
    const error6 = hex('60000000 0008 3a 40', CLIENT, SERVER, '0104 0000 00000000');
    const v = new Ipv6View();
    parseIpv6(error6, 0, error6.length, v);
    expect(t.icmp6Error(v, 1, 1, 0, out)).toBe(Verdict.drop);
    const multicast6 = UDP6.slice();
    multicast6.set(hex('ff020000000000000000000000000001'), 24);
    expect(t.icmp6Error(view6(multicast6), 1, 4, 0, out)).toBe(Verdict.drop);
    expect(t.icmp6Error(view6(multicast6), 2, 0, 1280, out)).toBe(Verdict.icmpError); // Packet Too Big is exempt
    const fragment4 = hex('4500001c 0001 00b9 40 11 0000 c6336402 c0000202 0001020304050607');
    const sum = 0xffff - ((0x4500 + 0x001c + 0x0001 + 0x00b9 + 0x4011 + 0xc633 + 0x6402 + 0xc000 + 0x0202) % 0xffff);
    fragment4[10] = sum >> 8;
    fragment4[11] = sum & 0xff;
    expect(t.icmp4Error(view4(fragment4), 3, 3, 0, out)).toBe(Verdict.drop);
    expect(out.count).toBe(1);
  });

  it('stops at the rate limit and refills with time', () => {
    let now = 0;
    const t = makeTranslator({ icmpErrorRate: { perSecond: 10, burst: 2 }, now: () => now });
    const out = new PacketBatch({ capacity: 8, maxPacketSize: 1500 });
    const v = view4(UDP4);
    expect([1, 2, 3].map(() => t.icmp4Error(v, 3, 3, 0, out))).toEqual([Verdict.icmpError, Verdict.icmpError, Verdict.drop]);
    now = 99; // 0.99 tokens
    expect(t.icmp4Error(v, 3, 3, 0, out)).toBe(Verdict.drop);
    now = 101;
    expect(t.icmp4Error(v, 3, 3, 0, out)).toBe(Verdict.icmpError);
    expect([t.icmpErrorsSent, t.icmpErrorsSuppressed]).toEqual([3, 2]);
  });

  it('sends nothing when the batch is full', () => {
    const out = new PacketBatch({ capacity: 1, maxPacketSize: 1500 });
    const t = makeTranslator();
    expect(t.icmp4Error(view4(UDP4), 3, 3, 0, out)).toBe(Verdict.icmpError);
    expect(t.icmp4Error(view4(UDP4), 3, 3, 0, out)).toBe(Verdict.drop);
  });
});
