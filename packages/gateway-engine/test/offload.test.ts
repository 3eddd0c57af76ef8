// The engine with TUN offload (src/offload.ts), driven with hand-made batches and their virtio-net
// headers, as the native binding would deliver them; the output headers are checked against what the
// kernel needs to split and checksum a segment, and the kernel's completion is replayed to check the
// checksums that come out of it.

import { VNET_HEADER_SIZE, VnetFlag, VnetGso, type RxBatch } from '@nat64/tun';
import { describe, expect, it } from 'vitest';
import { foldSum, sumWords } from '@nat64/wire';
import { BYPASS_VERDICT, BatchClock, SPEC as GATEWAY_SPEC, buildEngine, type BypassHook } from '@nat64/gateway-engine';
import { TCP_ACK, checksumValid6, checksumsValid4, ipv4, ipv6, read16 } from './support/packets.js';
import { CLIENT, POOL4, SERVER, SERVER6, engineSettings } from './support/engine.js';

const SLOT = 65600;

interface Written {
  packet: Uint8Array;
  header: number[];
}

function offloadGateway(options: { coalesce?: boolean; bypass?: BypassHook } = {}) {
  const clock = new BatchClock(() => 5_000_000);
  const settings = engineSettings({ offload: true, coalesce: options.coalesce ?? false });
  const parts = buildEngine(settings, { clock, maxInputSize: SLOT, inputBatchSize: 4, secret: new Uint8Array(64).fill(7) });
  const written: Written[] = [];
  if (options.bypass !== undefined) parts.engine.onBypass(options.bypass);
  parts.engine.setSink({
    writeBatch(buffer, offsets, lengths, count, vnet) {
      for (let i = 0; i < count; i++) {
        const header = vnet === undefined ? [] : [...vnet.subarray(i * VNET_HEADER_SIZE, (i + 1) * VNET_HEADER_SIZE)];
        written.push({ packet: buffer.slice(offsets[i]!, offsets[i]! + lengths[i]!), header });
      }
      return count;
    },
  });
  const rx: RxBatch = {
    buffer: Buffer.alloc(4 * SLOT),
    slotSize: SLOT,
    batchSize: 4,
    lengths: new Uint32Array(4),
    vnet: Buffer.alloc(4 * VNET_HEADER_SIZE),
  };
  return {
    settings,
    engine: parts.engine,
    counter: (name: string) => parts.engine.counters().find((c) => c.name === name)!.value,
    /** Delivers one packet with its virtio-net header; returns what the engine wrote. */
    send(packet: Uint8Array, header: number[] = []): Written[] {
      rx.buffer.set(packet, 0);
      rx.lengths[0] = packet.length;
      rx.vnet!.fill(0);
      rx.vnet!.set(header, 0);
      parts.engine.handleBatch(rx, 1);
      return written.splice(0);
    },
  };
}

/** A virtio-net header: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset (little-endian). */
function header(flags: number, gso: number, hdrLen: number, gsoSize: number, csumStart: number, csumOffset: number): number[] {
  const le = (v: number) => [v & 0xff, v >>> 8];
  return [flags, gso, ...le(hdrLen), ...le(gsoSize), ...le(csumStart), ...le(csumOffset)];
}

/** Puts the pseudo-header sum (only) in the checksum field at `field`, as a sender with offload leaves it. */
function makePartial(packet: Uint8Array, l3: number, field: number): Uint8Array {
  const v4 = packet[0]! >>> 4 === 4;
  const length = packet.length - l3;
  const pseudo = v4 ? sumWords(packet, 12, 20) + packet[9]! + length : sumWords(packet, 8, 40) + packet[6]! + length;
  const value = foldSum(pseudo);
  packet[l3 + field] = value >>> 8;
  packet[l3 + field + 1] = value & 0xff;
  return packet;
}

/** What the kernel does with NEEDS_CSUM (skb_checksum_help): sums from csum_start over the field and stores the complement. */
function complete(packet: Uint8Array, csumStart: number, csumOffset: number): Uint8Array {
  const out = packet.slice();
  const value = ~foldSum(sumWords(out, csumStart, out.length)) & 0xffff;
  out[csumStart + csumOffset] = value >>> 8;
  out[csumStart + csumOffset + 1] = value & 0xff;
  return out;
}

const bulk = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 1) & 0xff);

/** Outer IPv4, UDP, Geneve and Ethernet headers, as NAT64 bypass puts them in front of a client's packet. */
const TUNNEL = 20 + 8 + 8 + 14;

/**
 * A bypass hook that takes every packet and writes it with outer IPv4 and UDP headers (UDP checksum zero,
 * as bypass sends by default) and room for Geneve and Ethernet in between, as the bypass transport does.
 */
const tunnelEverything: BypassHook = {
  mtu: 1400,
  outbound(v, host, out) {
    const at = out.reserve();
    const buf = out.buffer;
    const length = v.end - v.start;
    buf.set(v.buf.subarray(v.start, v.end), at);
    out.commit(length);
    const start = at - TUNNEL;
    buf.fill(0, start, at);
    buf.set(ipv4({ src: '203.0.113.1', dst: '203.0.113.2', protocol: 17, srcPort: 50_000, dstPort: 6081, payload: new Uint8Array(0) }).subarray(0, 28), start);
    const total = TUNNEL + length;
    buf.set([total >>> 8, total & 0xff], start + 2);
    buf.set([0, 0], start + 10);
    const check = ~foldSum(sumWords(buf, start, start + 20)) & 0xffff;
    buf.set([check >>> 8, check & 0xff], start + 10);
    buf.set([(total - 20) >>> 8, (total - 20) & 0xff, 0, 0], start + 24);
    void host;
    out.offsets[out.count - 1] = start;
    out.lengths[out.count - 1] = total;
    return BYPASS_VERDICT.TAKEN;
  },
};

describe('engine with TUN offload', () => {
  it('translates a 60 KiB TCP segment from IPv6 whole, with a TCPv4 segmentation header and the new pseudo-header sum', () => {
    const g = offloadGateway();
    expect(g.settings.tun.offload).toBe(true);
    const [syn] = g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 40_000, dstPort: 80 }));
    expect(syn!.header).toEqual(new Array(VNET_HEADER_SIZE).fill(0));
    const segment = makePartial(
      ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 40_000, dstPort: 80, tcpFlags: TCP_ACK, payload: bulk(60_000) }),
      40,
      16,
    );
    const out = g.send(segment, header(VnetFlag.NEEDS_CSUM, VnetGso.TCPV6 | VnetGso.ECN, 60, 1440, 40, 16));
    expect(out).toHaveLength(1);
    const { packet, header: written } = out[0]!;
    expect(packet.length).toBe(20 + 20 + 60_000);
    expect(read16(packet, 2)).toBe(packet.length);
    expect(written).toEqual(header(VnetFlag.NEEDS_CSUM, VnetGso.TCPV4 | VnetGso.ECN, 40, 1440, 20, 16));
    // Completed as the kernel completes it, every checksum verifies.
    expect(checksumsValid4(complete(packet, 20, 16))).toBe(true);
    expect(g.counter('offloaded')).toBe(1);
  });

  it('translates a TCP segment from IPv4 whole, with a TCPv6 segmentation header, whatever the next-hop MTU', () => {
    const g = offloadGateway();
    const [syn] = g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 40_001, dstPort: 80 }));
    const port = read16(syn!.packet, 20);
    expect(g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 6, srcPort: 80, dstPort: port, tcpFlags: 0x12 }))).toHaveLength(1);
    g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 40_001, dstPort: 80, tcpFlags: TCP_ACK }));
    const segment = makePartial(
      ipv4({ src: SERVER, dst: POOL4, protocol: 6, srcPort: 80, dstPort: port, tcpFlags: TCP_ACK, payload: bulk(30_000), dontFragment: true }),
      20,
      16,
    );
    const out = g.send(segment, header(VnetFlag.NEEDS_CSUM, VnetGso.TCPV4, 40, 1448, 20, 16));
    expect(out).toHaveLength(1);
    const { packet, header: written } = out[0]!;
    expect(packet.length).toBe(40 + 20 + 30_000);
    expect(written).toEqual(header(VnetFlag.NEEDS_CSUM, VnetGso.TCPV6, 60, 1448, 40, 16));
    expect(checksumValid6(complete(packet, 40, 16))).toBe(true);
  });

  it('passes a partial checksum on when the translation stays one packet', () => {
    const g = offloadGateway();
    const datagram = makePartial(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_002, dstPort: 53, payload: bulk(300) }), 40, 6);
    const out = g.send(datagram, header(VnetFlag.NEEDS_CSUM, VnetGso.NONE, 0, 0, 40, 6));
    expect(out).toHaveLength(1);
    expect(out[0]!.header).toEqual(header(VnetFlag.NEEDS_CSUM, VnetGso.NONE, 28, 0, 20, 6));
    expect(checksumsValid4(complete(out[0]!.packet, 20, 6))).toBe(true);
    expect(g.counter('offloaded')).toBe(0);
  });

  it('completes a partial checksum on arrival when the translation is fragmented', () => {
    const g = offloadGateway();
    const [first] = g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_004, dstPort: 53 }));
    const port = read16(first!.packet, 20);
    // 1400 bytes without DF: translated into IPv6 fragments that fit 1280 (RFC 7915 4.1, lowest-ipv6-mtu).
    const datagram = makePartial(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 53, dstPort: port, payload: bulk(1372) }), 20, 6);
    const fragments = g.send(datagram, header(VnetFlag.NEEDS_CSUM, VnetGso.NONE, 0, 0, 20, 6));
    expect(fragments.length).toBe(2);
    for (const f of fragments) expect(f.header).toEqual(new Array(VNET_HEADER_SIZE).fill(0));
    // Reassembled, the datagram's checksum verifies.
    const body = new Uint8Array(fragments.reduce((n, f) => n + f.packet.length - 48, 0));
    let at = 0;
    for (const f of fragments) {
      body.set(f.packet.subarray(48), at);
      at += f.packet.length - 48;
    }
    const pseudo = sumWords(fragments[0]!.packet, 8, 40) + 17 + body.length;
    expect(foldSum(sumWords(body, 0, body.length, pseudo))).toBe(0xffff);
  });

  it('tunnels a packet with a partial checksum (bypass) with its inner checksum completed: inside the tunnel it is payload', () => {
    const g = offloadGateway({ bypass: tunnelEverything });
    const datagram = makePartial(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_003, dstPort: 53, payload: bulk(300) }), 40, 6);
    const out = g.send(datagram, header(VnetFlag.NEEDS_CSUM, VnetGso.NONE, 0, 0, 40, 6));
    expect(out).toHaveLength(1);
    // A complete packet, as a receiving socket delivers its payload without completing anything in it; the outer checksum stays zero.
    expect(out[0]!.header).toEqual(header(0, VnetGso.NONE, 0, 0, 0, 0));
    expect(read16(out[0]!.packet, 26)).toBe(0);
    expect(checksumValid6(out[0]!.packet.subarray(TUNNEL))).toBe(true);
    expect(g.counter('bypassed')).toBe(1);
  });

  it("with coalescing, completes a tunnelled packet's inner checksum and leaves the outer UDP checksum partial, so trains can form", () => {
    const g = offloadGateway({ bypass: tunnelEverything, coalesce: true });
    const partial = makePartial(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_004, dstPort: 53, payload: bulk(300) }), 40, 6);
    const complete6 = ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 40_005, dstPort: 80, tcpFlags: TCP_ACK, payload: bulk(500) });
    for (const [packet, vnet] of [
      [partial, header(VnetFlag.NEEDS_CSUM, VnetGso.NONE, 0, 0, 40, 6)],
      [complete6, []],
    ] as const) {
      const out = g.send(packet, [...vnet]);
      expect(out).toHaveLength(1);
      const written = out[0]!.packet;
      expect(out[0]!.header).toEqual(header(VnetFlag.NEEDS_CSUM, VnetGso.NONE, 28, 0, 20, 6));
      // The inner packet is whole and right as it is; the outer checksum is right once the kernel completes it.
      expect(checksumValid6(written.subarray(TUNNEL))).toBe(true);
      expect(checksumsValid4(complete(written, 20, 6))).toBe(true);
    }
  });

  it('completes a partial checksum of a datagram to a reserved port before its local handler reads it', () => {
    const g = offloadGateway();
    const seen: boolean[] = [];
    g.engine.onLocal(GATEWAY_SPEC.GENEVE_PORT, (v) => seen.push(checksumsValid4(v.buf.slice(v.start, v.end))));
    const datagram = makePartial(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 6081, dstPort: GATEWAY_SPEC.GENEVE_PORT, payload: bulk(100) }), 20, 6);
    expect(g.send(datagram, header(VnetFlag.NEEDS_CSUM, VnetGso.NONE, 0, 0, 20, 6))).toHaveLength(0);
    expect(seen).toEqual([true]);
  });

  it('drops and counts what it cannot honour: UDP segmentation, a checksum field past the packet', () => {
    const g = offloadGateway();
    const datagram = ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_003, dstPort: 53, payload: bulk(3000) });
    expect(g.send(datagram, header(VnetFlag.NEEDS_CSUM, 3, 48, 1000, 40, 6))).toEqual([]);
    expect(g.send(datagram, header(VnetFlag.NEEDS_CSUM, VnetGso.NONE, 0, 0, 40, 6000))).toEqual([]);
    expect(g.counter('offloadRefused')).toBe(2);
  });
});
