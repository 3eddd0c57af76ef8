import { describe, expect, it } from 'vitest';
import {
  DROP_REASONS,
  DROP_REASON_COUNT,
  DropReason,
  Ipv6View,
  Mapping64,
  PacketBatch,
  Translator,
  Verdict,
  XlatError,
  dropReasonName,
  parseIpv6,
} from '@nat64/xlat';
import { hex, makeTranslator, outbound } from './support.js';

const UDP6 = hex('60000000 000c 11 40 20010db8000000000000000000000005 0064ff9b0000000000000000c6336402', '04d2 0035 000c de14', '61626364');

describe('translator', () => {
  it('applies the documented defaults', () => {
    const t = makeTranslator();
    expect(t.config).toMatchObject({
      lowestIpv6Mtu: 1280,
      ipv6NextHopMtu: 1500,
      ipv4NextHopMtu: 1500,
      zeroizeTrafficClass: false,
      overrideTos: false,
      amendUdpChecksumZero: false,
      ipv4Address: 0xc0000201,
    });
    expect(t.config.ipv6Address).toEqual(hex('20010db8000000000000000000000001'));
  });

  it('rejects invalid settings before any packet is seen', () => {
    const base = { ipv6Address: '2001:db8::1', ipv4Address: '192.0.2.1' };
    const bad = [
      { ...base, ipv6Address: '192.0.2.1' },
      { ...base, ipv4Address: '2001:db8::1' },
      { ...base, lowestIpv6Mtu: 1279 },
      { ...base, ipv4NextHopMtu: 67 },
      { ...base, ipv6NextHopMtu: 70000 },
      { ...base, tos: 256 },
      { ...base, icmpErrorRate: { perSecond: -1, burst: 1 } },
    ];
    for (const config of bad) expect(() => new Translator(config), JSON.stringify(config)).toThrow(XlatError);
  });

  it('has one named, explained reason per counter', () => {
    expect(DROP_REASONS).toHaveLength(DROP_REASON_COUNT);
    const names = DROP_REASONS.map(([name]) => name);
    expect(new Set(names).size).toBe(names.length);
    for (const [name, explanation] of DROP_REASONS) {
      expect(DropReason[name as keyof typeof DropReason]).toBe(names.indexOf(name));
      expect(explanation.length).toBeGreaterThan(10);
    }
    expect(dropReasonName(DropReason.batchFull)).toBe('batchFull');
    expect(dropReasonName(999)).toBe('unknown(999)');
  });

  it('counts a full batch and an oversized result as drops', () => {
    const t = makeTranslator();
    const v = new Ipv6View();
    parseIpv6(UDP6, 0, UDP6.length, v);
    const full = new PacketBatch({ capacity: 1, maxPacketSize: 1280 });
    full.reserve();
    full.commit(1);
    expect(t.toIpv4(v, outbound(), full)).toBe(Verdict.drop);
    expect(t.reason).toBe(DropReason.batchFull);
    expect(t.drops[DropReason.batchFull]).toBe(1);
    expect(full.count).toBe(1);
  });

  it('writes behind the headroom of each slot and leaves the headroom alone', () => {
    const t = makeTranslator();
    const v = new Ipv6View();
    parseIpv6(UDP6, 0, UDP6.length, v);
    const out = new PacketBatch({ capacity: 2, maxPacketSize: 1280, headroom: 128 });
    out.buffer.fill(0xee);
    expect(t.toIpv4(v, outbound(40000, 53), out)).toBe(Verdict.forward);
    expect(t.toIpv4(v, outbound(40001, 53), out)).toBe(Verdict.forward);
    expect([...out.offsets]).toEqual([128, 128 + 1408]);
    expect(out.buffer.subarray(0, 128).every((b) => b === 0xee)).toBe(true);
    expect(out.buffer.subarray(1408, 1408 + 128).every((b) => b === 0xee)).toBe(true);
    expect(out.packet(1)[0]).toBe(0x45);
  });

  it('reuses the same view, mapping and batch for many packets', () => {
    const t = makeTranslator();
    const v = new Ipv6View();
    const m = new Mapping64();
    const out = new PacketBatch({ capacity: 4, maxPacketSize: 1280 });
    for (let i = 0; i < 10; i++) {
      out.reset();
      parseIpv6(UDP6, 0, UDP6.length, v);
      m.src = 0xc0000202;
      m.dst = 0xc6336402;
      m.srcPort = 40000 + i;
      m.dstPort = 53;
      expect(t.toIpv4(v, m, out)).toBe(Verdict.forward);
      expect(out.count).toBe(1);
      expect((out.packet(0)[20]! << 8) | out.packet(0)[21]!).toBe(40000 + i);
    }
    expect(t.drops.reduce((a, b) => a + b, 0)).toBe(0);
  });
});
