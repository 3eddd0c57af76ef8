// The engine with tun.coalesce on a FakeTun: a batch of translated datagrams of one flow leaves as one
// UDP GSO packet whose segments are, but for the IPv4 Identification the kernel numbers, what the
// engine writes without coalescing; other flows and other packets are not held back.
import { FakeTun, VnetGso } from '@nat64/tun';
import { describe, expect, it } from 'vitest';
import { BatchClock, buildEngine } from '@nat64/gateway-engine';
import { loadGatewayConfig } from '../src/config.js';
import { testGateway, CLIENT, PREFIX, SERVER6, POOL4 } from './support/gateway.js';
import { checksumsValid4, ipv6, read16 } from '../../../packages/gateway-engine/test/support/packets.js';

function datagrams(count: number, size: number, srcPort = 40000) {
  return Array.from({ length: count }, (_, i) => ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort, dstPort: 9, payload: new Uint8Array(size).fill(i) }));
}

/** The packets and virtio-net headers the gateway wrote for one batch. */
function sendBatch(settings: Record<string, unknown>, packets: Uint8Array[]) {
  const gw = testGateway({ 'tun.offload': true, ...settings });
  // The flow's session first, so that the batch is all forwarding.
  gw.send(packets[0]!);
  gw.tun.inject(packets);
  gw.tun.flush();
  const headers = gw.tun.writtenHeaders.slice();
  return { gw, written: gw.tun.takeWritten(), headers };
}

/** Splits a UDP GSO IPv4 packet as the kernel would (lengths, Identification counted up; checksums as the stack makes them). */
function udpSegments4(packet: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const id = read16(packet, 4);
  for (let at = 28, k = 0; at < packet.length; at += size, k++) {
    const end = Math.min(at + size, packet.length);
    const s = new Uint8Array(28 + end - at);
    s.set(packet.subarray(0, 28));
    s.set(packet.subarray(at, end), 28);
    s[2] = s.length >> 8;
    s[3] = s.length & 0xff;
    s[4] = ((id + k) >> 8) & 0xff;
    s[5] = (id + k) & 0xff;
    s[24] = (s.length - 20) >> 8;
    s[25] = (s.length - 20) & 0xff;
    out.push(s);
  }
  return out;
}

/** The bytes that must agree: all but the IPv4 Identification, the header checksum and the UDP checksum. */
const comparable = (p: Uint8Array) => [...p.subarray(0, 4), ...p.subarray(6, 10), ...p.subarray(12, 26), ...p.subarray(28)];

describe('engine coalescing (tun.coalesce)', () => {
  it('writes one flow of a batch as one UDP GSO packet made of the datagrams it writes without coalescing', () => {
    const packets = datagrams(8, 36);
    const plain = sendBatch({}, packets);
    const coalesced = sendBatch({ 'tun.coalesce': true }, packets);
    expect(plain.written).toHaveLength(8);
    expect(coalesced.written).toHaveLength(1);
    const header = coalesced.headers[0]!;
    expect(header[1]).toBe(VnetGso.UDP_L4);
    expect(header[4]! | (header[5]! << 8)).toBe(36);
    const segments = udpSegments4(coalesced.written[0]!, 36);
    expect(segments.map(comparable)).toEqual(plain.written.map(comparable));
    expect(plain.written.every(checksumsValid4)).toBe(true);
    expect(coalesced.gw.counter('coalescedTrains')).toBe(1);
    expect(coalesced.gw.counter('coalescedPackets')).toBe(7);
    expect(coalesced.gw.counter('forwarded64')).toBe(9);
  });

  it('coalesces each flow of an interleaved batch apart and leaves a lone packet alone', () => {
    const a = datagrams(4, 64, 40001);
    const b = datagrams(4, 64, 40002);
    const lone = datagrams(1, 64, 40003);
    const packets = [a[0]!, b[0]!, a[1]!, b[1]!, lone[0]!, a[2]!, b[2]!, a[3]!, b[3]!];
    const gw = testGateway({ 'tun.offload': true, 'tun.coalesce': true });
    gw.send(a[0]!, b[0]!, lone[0]!);
    gw.tun.inject(packets);
    gw.tun.flush();
    const headers = gw.tun.writtenHeaders.map((h) => h[1]);
    const written = gw.tun.takeWritten();
    expect(headers).toEqual([VnetGso.UDP_L4, VnetGso.UDP_L4, VnetGso.NONE]);
    expect(written.map((p) => p.length)).toEqual([28 + 4 * 64, 28 + 4 * 64, 28 + 64]);
    expect(written.every((p) => p[16] === 203 && p[12] === Number(POOL4.split('.')[0]))).toBe(true);
  });

  it('writes UDP packets alone on a device without USO, and needs tun.offload', () => {
    const config = loadGatewayConfig({ flags: { prefix: PREFIX, pool4: [POOL4], logLevel: 'silent', 'tun.offload': true, 'tun.coalesce': true } });
    const parts = buildEngine(config, { clock: new BatchClock(() => 5_000_000), maxInputSize: 65600, inputBatchSize: 64 });
    const tun = new FakeTun({ offload: true, udpSegmentation: false });
    parts.engine.attach(tun);
    tun.inject(datagrams(4, 64));
    tun.flush();
    expect(tun.takeWritten()).toHaveLength(4);
    expect(() => testGateway({ 'tun.coalesce': true })).toThrow(/tun.coalesce.*needs tun.offload/);
  });
});
