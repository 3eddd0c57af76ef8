// TxCoalescer against a model of the kernel's segmentation (support/segment.ts): what the kernel
// makes of the coalesced batch must be, byte for byte and in each flow's order, the packets that went
// in. The same check runs through the real kernel in linux-tun.test.ts.
import { describe, expect, it } from 'vitest';
import { TxCoalescer, type CoalesceOptions } from '../src/coalesce.js';
import { VNET_HEADER_SIZE, VnetGso } from '../src/vnet.js';
import { fillChecksums, segment } from './support/segment.js';

const SLOT = 70_000;
const SRC4 = [192, 0, 2, 2];
const DST4 = [203, 0, 113, 9];
const SRC6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const DST6 = [0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];

interface Options {
  port?: number;
  id?: number;
  ttl?: number;
  seq?: number;
  flags?: number;
  fragment?: boolean;
}

function transport(protocol: number, payload: number, fill: number, o: Options): Uint8Array {
  const l4 = new Uint8Array((protocol === 17 ? 8 : 20) + payload).fill(fill);
  l4.set([(o.port ?? 5000) >> 8, (o.port ?? 5000) & 0xff, 0, 9]);
  if (protocol === 17) {
    l4.set([l4.length >> 8, l4.length & 0xff, 0, 0], 4);
  } else {
    const seq = o.seq ?? 1000;
    l4.set([seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff, 0, 0, 3, 0xe8, 0x50, o.flags ?? 0x10, 2, 0, 0, 0, 0, 0], 4);
  }
  return l4;
}

function v4(protocol: number, payload: number, fill: number, o: Options = {}): Uint8Array {
  const l4 = transport(protocol, payload, fill, o);
  const p = new Uint8Array(20 + l4.length);
  const id = o.id ?? 1;
  p.set([0x45, 0, p.length >> 8, p.length & 0xff, id >> 8, id & 0xff, o.fragment === true ? 0x20 : 0, 0, o.ttl ?? 64, protocol, 0, 0, ...SRC4, ...DST4]);
  p.set(l4, 20);
  return fillChecksums(p);
}

function v6(protocol: number, payload: number, fill: number, o: Options = {}): Uint8Array {
  const l4 = transport(protocol, payload, fill, o);
  const p = new Uint8Array(40 + l4.length);
  p.set([0x60, 0, 0, 0, l4.length >> 8, l4.length & 0xff, protocol, o.ttl ?? 64, ...SRC6, ...DST6]);
  p.set(l4, 40);
  return fillChecksums(p);
}

/** Runs packets through a coalescer and the kernel model; returns the packets written and what comes out. */
function run(packets: Uint8Array[], options: CoalesceOptions = {}, vnet: Uint8Array | null = null) {
  const buffer = new Uint8Array(SLOT * packets.length);
  const offsets = new Uint32Array(packets.length);
  const lengths = new Uint32Array(packets.length);
  packets.forEach((p, i) => {
    buffer.set(p, i * SLOT);
    offsets[i] = i * SLOT;
    lengths[i] = p.length;
  });
  const coalescer = new TxCoalescer(packets.length, options);
  const count = coalescer.coalesce(buffer, offsets, lengths, packets.length, vnet, SLOT);
  const written = Array.from({ length: count }, (_, i) => ({
    packet: buffer.slice(coalescer.offsets[i]!, coalescer.offsets[i]! + coalescer.lengths[i]!),
    header: coalescer.vnet.slice(i * VNET_HEADER_SIZE, (i + 1) * VNET_HEADER_SIZE),
  }));
  const out = written.flatMap((w) => segment(w.packet, w.header));
  return { count, written, out, counters: coalescer.counters };
}

const flowKey = (p: Uint8Array) => `${p[0]! >> 4}/${p[0]! >> 4 === 4 ? p[9] : p[6]}/${p[0]! >> 4 === 4 ? (p[20]! << 8) | p[21]! : (p[40]! << 8) | p[41]!}`;

function perFlow(packets: Uint8Array[]): Record<string, string[]> {
  const flows: Record<string, string[]> = {};
  for (const p of packets) {
    const key = flowKey(p);
    flows[key] = [...(flows[key] ?? []), Buffer.from(p).toString('hex')];
  }
  return flows;
}

describe('coalesce', () => {
  it('makes one UDP GSO packet of a flow whose segmentation gives back every datagram', () => {
    const packets = Array.from({ length: 10 }, (_, i) => v4(17, i === 9 ? 7 : 36, i, { id: 40 + i }));
    const { count, written, out, counters } = run(packets);
    expect(count).toBe(1);
    expect([...written[0]!.header]).toEqual([1, VnetGso.UDP_L4, 28, 0, 36, 0, 20, 0, 6, 0]);
    expect(written[0]!.packet.length).toBe(28 + 9 * 36 + 7);
    expect(out).toEqual(packets);
    expect(counters).toEqual({ trains: 1, joined: 9, badChecksum: 0 });
  });

  it('keeps each flow in order when flows of both IP versions and protocols interleave', () => {
    const flows = [
      Array.from({ length: 6 }, (_, i) => v4(17, 1372, i, { port: 1, id: 7 + i })),
      Array.from({ length: 6 }, (_, i) => v6(17, 16, i, { port: 2 })),
      Array.from({ length: 6 }, (_, i) => v4(6, 1360, i, { port: 3, id: 900 + i, seq: 1 + i * 1360 })),
      Array.from({ length: 6 }, (_, i) => v6(6, 1340, i, { port: 4, seq: 0xfffffa00 + i * 1340, flags: i === 5 ? 0x18 : 0x10 })),
    ];
    const packets = flows.flatMap((_, i) => flows.map((f) => f[i]!)).filter(Boolean);
    const { count, written, out } = run(packets);
    expect(count).toBe(4);
    expect(written.map((w) => w.header[1])).toEqual([VnetGso.UDP_L4, VnetGso.UDP_L4, VnetGso.TCPV4, VnetGso.TCPV6]);
    expect(perFlow(out)).toEqual(perFlow(packets));
  });

  it('ends a train at a shorter datagram and starts the next one after it', () => {
    const sizes = [100, 100, 50, 100, 100];
    const packets = sizes.map((size, i) => v6(17, size, i));
    const { count, out } = run(packets);
    expect(count).toBe(2);
    expect(out).toEqual(packets);
  });

  it('leaves alone a datagram whose checksum is wrong, and lets nothing of its flow overtake it', () => {
    const packets = Array.from({ length: 5 }, (_, i) => v4(17, 64, i, { id: i }));
    packets[2]![30] = packets[2]![30]! ^ 0xff;
    const { count, out, counters } = run(packets);
    expect(counters.badChecksum).toBe(1);
    expect(count).toBe(3);
    // The broken one leaves as it came, not repaired.
    expect(out).toEqual(packets);
  });

  it('does not join packets whose headers differ in what segmentation copies (TTL), nor fragments', () => {
    const packets = [
      v4(17, 64, 1, { id: 1 }),
      v4(17, 64, 2, { id: 2, ttl: 63 }),
      v4(17, 64, 3, { id: 3, fragment: true }),
      v4(17, 64, 4, { id: 4, fragment: true }),
    ];
    const { count, out } = run(packets);
    expect(count).toBe(4);
    expect(out).toEqual(packets);
  });

  it('joins TCP segments only in sequence, never a SYN or FIN, and moves PSH to the end of the train', () => {
    const packets = [
      v4(6, 500, 1, { id: 1, seq: 100 }),
      v4(6, 500, 2, { id: 2, seq: 600 }),
      v4(6, 500, 3, { id: 3, seq: 5000 }),
      v4(6, 500, 4, { id: 4, seq: 5500, flags: 0x18 }),
      v4(6, 500, 5, { id: 5, seq: 6000 }),
      v4(6, 500, 6, { id: 6, seq: 6500, flags: 0x11 }),
      v4(6, 500, 7, { id: 7, seq: 7000 }),
    ];
    const { count, out } = run(packets);
    // [100, 600], [5000, 5500 PSH], [6000], [6500 FIN], [7000]
    expect(count).toBe(5);
    expect(out).toEqual(packets);
  });

  it('stops a UDP train at 64 segments and a packet at 65,535 bytes', () => {
    const small = Array.from({ length: 70 }, (_, i) => v6(17, 8, i));
    expect(run(small).count).toBe(2);
    expect(run(small).out).toEqual(small);
    const large = Array.from({ length: 60 }, (_, i) => v4(17, 1472, i, { id: i }));
    const { count, written, out } = run(large);
    expect(written.every((w) => w.packet.length <= 65535)).toBe(true);
    expect(count).toBe(2);
    expect(out).toEqual(large);
  });

  it('writes UDP alone without USO, and keeps a partial checksum request as the header asked', () => {
    const packets = Array.from({ length: 4 }, (_, i) => v4(17, 64, i, { id: i }));
    expect(run(packets, { udp: false }).count).toBe(4);
    const partial = packets.map((p) => {
      const q = p.slice();
      // Only the pseudo-header sum in the field, as offload.ts leaves it.
      let s = 0xc000 + 0x0202 + 0xcb00 + 0x7109 + 17 + (q.length - 20);
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      q[26] = s >> 8;
      q[27] = s & 0xff;
      return q;
    });
    const vnet = new Uint8Array(4 * VNET_HEADER_SIZE);
    for (let i = 0; i < 4; i++) vnet.set([1, 0, 0, 0, 0, 0, 20, 0, 6, 0], i * VNET_HEADER_SIZE);
    const { count, out } = run(partial, {}, vnet);
    expect(count).toBe(1);
    expect(out).toEqual(packets);
  });
});
