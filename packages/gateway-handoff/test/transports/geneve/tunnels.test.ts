import { MappingEvent, type MappingOption } from '@nat64/geneve';
import { Counters } from '@nat64/service';
import { PacketBatch } from '@nat64/xlat';
import { describe, expect, it } from 'vitest';
import { GENEVE_COUNTERS, type GeneveCounterName } from '../../../src/transports/geneve/counters.js';
import { TunnelTable } from '../../../src/transports/geneve/tunnels.js';

const NAT = 0xc6336401; // 198.51.100.1
const HOST = 0xcb007102; // 203.0.113.2
const OTHER = 0xcb007109; // 203.0.113.9

/** A 28-byte inner IPv4/UDP packet 198.51.100.1:40000 -> 203.0.113.2:53, checksums left zero. */
const INNER = Uint8Array.from([
  0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x01, 0xcb, 0x00, 0x71, 0x02, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x08,
  0x00, 0x00,
]);

const CREATED: MappingOption = {
  protocol: 17,
  event: MappingEvent.CREATED,
  natAddress: NAT,
  natPort: 40000,
  clientAddress: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42]),
  clientPort: 5353,
  creationTimeUs: 1_700_000_000_123_456,
};

function setup(): { table: TunnelTable; out: PacketBatch; counters: Counters<GeneveCounterName>; put(): number } {
  const counters = new Counters(GENEVE_COUNTERS);
  const table = new TunnelTable({ optionClass: 0xff64, flowHashSeed: 0, auth: undefined }, counters);
  const out = new PacketBatch({ capacity: 8, maxPacketSize: 1500, headroom: 104 });
  return {
    table,
    out,
    counters,
    put: () => {
      const from = out.count;
      out.buffer.set(INNER, out.reserve());
      out.commit(INNER.length);
      return from;
    },
  };
}

/** RFC 1071: a header or datagram whose checksum is right sums to 0xffff. */
function sums(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += (buf[i]! << 8) | (buf[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

describe('tunnels', () => {
  it('writes outer IPv4, UDP and Geneve headers with the Created option in front of the packet, without moving it', () => {
    const { table, out, put } = setup();
    const tunnel = table.open(NAT, HOST, 0x123456, 0)!;
    table.schedule(tunnel, CREATED, 2);
    const payloadAt = out.reserve();
    const from = put();
    table.encapsulate(out, from, NAT, HOST, 17, 40000);
    const start = out.offsets[from]!;
    const packet = out.buffer.subarray(start, start + out.lengths[from]!);
    // 20 + 8 + 8 + 40 bytes in front of the 28-byte inner packet, which stays where it was.
    expect(payloadAt - start).toBe(76);
    expect(packet.length).toBe(104);
    expect([...packet.subarray(76)]).toEqual([...INNER]);
    // Outer IPv4: total 104, ID 0, DF, TTL 64, UDP, from the NAT address to the host.
    expect([...packet.subarray(0, 10)]).toEqual([0x45, 0x00, 0x00, 0x68, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11]);
    expect([...packet.subarray(12, 20)]).toEqual([0xc6, 0x33, 0x64, 0x01, 0xcb, 0x00, 0x71, 0x02]);
    expect(sums(packet, 0, 20)).toBe(0xffff);
    // UDP: source port from the inner flow hash (49152-65535), destination 6081, length 84.
    const sourcePort = (packet[20]! << 8) | packet[21]!;
    expect(sourcePort).toBeGreaterThanOrEqual(0xc000);
    expect([...packet.subarray(22, 26)]).toEqual([0x17, 0xc1, 0x00, 0x54]);
    const pseudo = 0xc633 + 0x6401 + 0xcb00 + 0x7102 + 17 + 84;
    expect(sums(packet, 20, 104, pseudo)).toBe(0xffff);
    // Geneve (options §10): Opt Len 10 words, data packet, IPv4, VNI 0x123456, then the mapping option.
    expect([...packet.subarray(28, 76)]).toEqual([
      0x0a, 0x00, 0x08, 0x00, 0x12, 0x34, 0x56, 0x00, 0xff, 0x64, 0x01, 0x09, 0x11, 0x01, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x01, 0x9c, 0x40, 0x14, 0xe9, 0x20,
      0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x42, 0x00, 0x06, 0x0a, 0x24, 0x18, 0x20, 0x22, 0x40,
    ]);
  });

  it('puts Created on as many packets as scheduled, then settles the mapping and sends the rest without options', () => {
    const { table, out, put, counters } = setup();
    const tunnel = table.open(NAT, HOST, 7, 0)!;
    table.schedule(tunnel, CREATED, 2);
    const lengths: number[] = [];
    for (let i = 0; i < 3; i++) {
      const from = put();
      table.encapsulate(out, from, NAT, HOST, 17, 40000);
      lengths.push(out.lengths[from]!);
      if (i === 0) expect(table.settled).toEqual([]);
    }
    expect(lengths).toEqual([104, 104, 64]);
    expect(table.settled.map((d) => d.option.natPort)).toEqual([40000]);
    expect(counters.get('createdOptions')).toBe(2);
    expect(counters.get('packetsEncapsulated')).toBe(3);
  });

  it('leaves packets toward hosts without a tunnel, and from other NAT addresses, as they are', () => {
    const { table, out, put } = setup();
    table.open(NAT, HOST, 7, 0);
    for (const [nat, host] of [
      [NAT, OTHER],
      [NAT + 1, HOST],
    ] as const) {
      const at = out.reserve();
      const from = put();
      table.encapsulate(out, from, nat, host, 17, 40000);
      expect(out.offsets[from]).toBe(at);
      expect(out.lengths[from]).toBe(28);
    }
  });

  it('replaces a tunnel whose VNI changed, and closes one so its packets leave plain', () => {
    const { table, out, put } = setup();
    table.open(NAT, HOST, 7, 0);
    table.open(NAT + 1, HOST, 8, 0);
    expect(table.open(NAT, HOST, 9, 0)!.vni).toBe(9);
    expect(table.size).toBe(2);
    expect(table.get(NAT + 1, HOST)!.vni).toBe(8);
    expect(table.close(NAT, HOST)).toBe(true);
    expect(table.close(NAT, HOST)).toBe(false);
    const from = put();
    table.encapsulate(out, from, NAT, HOST, 17, 40000);
    expect(out.lengths[from]).toBe(28);
  });

  it('drops what it cannot encapsulate (no headroom) and counts it, without throwing', () => {
    const counters = new Counters(GENEVE_COUNTERS);
    const table = new TunnelTable({ optionClass: 0xff64, flowHashSeed: 0, auth: undefined }, counters);
    const out = new PacketBatch({ capacity: 4, maxPacketSize: 1500, headroom: 0 });
    table.open(NAT, HOST, 7, 0);
    out.buffer.set(INNER, out.reserve());
    out.commit(INNER.length);
    table.encapsulate(out, 0, NAT, HOST, 17, 40000);
    expect(out.count).toBe(0);
    expect(counters.get('encapsulationFailed')).toBe(1);
  });
});
