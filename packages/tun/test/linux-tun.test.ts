// Real TUN devices, driven by a child Node process inside a network namespace this file makes
// and always deletes: what the shared suite (device.test.ts) does not cover, namely real UDP through
// the stack, TAP, offload with partial checksums, queues and threads, process lifetime and open
// failures. Runs as root only; otherwise it prints why and skips.
//
//   vitest (host namespace)
//     └─ ip netns exec nat64-tun-test-<pid>-<random> node test/fixtures/tun-child.mjs <scenario>
//          dgram socket 192.0.2.1 / 2001:db8::1
//             │ send to 192.0.2.2 / 2001:db8::2        ▲ crafted replies from .2
//             ▼                                         │
//          tunX (openTun) ── rx batches ──▶ child ── writeBatch / writePacket ──┘
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteNamespace, realDeviceUnavailableReason, runScenario, assertBuilt } from './support/netns.js';
import { internetChecksum, udp4ChecksumValid, udp6ChecksumValid } from './support/inet.js';

const unavailable = realDeviceUnavailableReason();
if (unavailable) console.log(`linux-tun tests skipped: ${unavailable}`);

type Counters = Record<string, number>;

interface RoundTrip {
  name: string;
  mtu: number;
  sourcePort: number;
  destinationPort: number;
  payloads: string[];
  seen: string[];
  written: number;
  writtenSingle: boolean;
  replies: { payload: string; address: string; port: number }[];
  counters: Counters;
}

interface Flows {
  flows: number;
  received: [string[], string[]];
}

interface OpenOutcome {
  code?: string;
  message?: string;
  operation?: string;
  opened?: boolean;
}

const hex = (text: string) => Buffer.from(text, 'hex');
const version = (packet: Buffer) => packet[0]! >> 4;

function expectEveryFlowOnce(result: Flows): void {
  const all = [...result.received[0], ...result.received[1]].sort();
  const expected = Array.from({ length: result.flows }, (_, i) => `flow ${i}`).sort();
  expect(all).toEqual(expected);
  // Distinct flows hash to both queues.
  expect(result.received[0].length).toBeGreaterThan(0);
  expect(result.received[1].length).toBeGreaterThan(0);
}

describe.skipIf(unavailable)('linux-tun', { timeout: 30_000 }, () => {
  let namespace = '';

  beforeAll(() => {
    assertBuilt();
    namespace = createNamespace();
  });

  afterAll(() => {
    if (namespace) deleteNamespace(namespace);
  });

  it('reads the IPv4 UDP datagrams routed into it and writes replies the stack accepts', async () => {
    const result = await runScenario<RoundTrip>(namespace, 'udp4');
    expect(result.name).toBe('tuntest0');
    expect(result.mtu).toBe(1400);
    const ipv4 = result.seen.map(hex).filter((packet) => version(packet) === 4);
    expect(ipv4).toHaveLength(result.payloads.length);
    ipv4.forEach((packet, index) => {
      const payload = Buffer.from(result.payloads[index]!);
      expect(packet.length).toBe(20 + 8 + payload.length);
      expect([...packet.subarray(0, 2)]).toEqual([0x45, 0x00]); // version 4, IHL 5; DSCP/ECN 0
      expect(packet.readUInt16BE(2)).toBe(packet.length); // total length
      expect([packet[8], packet[9]]).toEqual([64, 17]); // Linux default TTL; protocol UDP
      expect(internetChecksum(packet.subarray(0, 20))).toBe(0);
      expect([...packet.subarray(12, 20)]).toEqual([0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02]);
      expect(packet.readUInt16BE(20)).toBe(result.sourcePort);
      expect(packet.readUInt16BE(22)).toBe(result.destinationPort);
      expect(packet.readUInt16BE(24)).toBe(8 + payload.length);
      expect(udp4ChecksumValid(packet)).toBe(true);
      expect(packet.subarray(28)).toEqual(payload);
    });
    expect(result.written).toBe(2);
    expect(result.writtenSingle).toBe(true);
    expect(result.replies).toEqual(
      ['one', 'two', 'three'].map((word) => ({ payload: `udp4 reply ${word}`, address: '192.0.2.2', port: result.destinationPort })),
    );
    expect(result.counters.rxPackets).toBe(result.seen.length);
    expect(result.counters.txPackets).toBe(3);
    expect(result.counters.rxTruncated).toBe(0);
  });

  it('reads the IPv6 UDP datagrams routed into it and writes replies the stack accepts', async () => {
    const result = await runScenario<RoundTrip>(namespace, 'udp6');
    // The kernel also sends its own ICMPv6 (router solicitations) into the device: leave those out.
    const udp = result.seen.map(hex).filter((packet) => version(packet) === 6 && packet[6] === 17);
    expect(udp).toHaveLength(result.payloads.length);
    udp.forEach((packet, index) => {
      const payload = Buffer.from(result.payloads[index]!);
      expect(packet.length).toBe(40 + 8 + payload.length);
      expect(packet.readUInt16BE(4)).toBe(8 + payload.length); // payload length
      expect([packet[6], packet[7]]).toEqual([17, 64]); // next header UDP; Linux default hop limit
      expect([...packet.subarray(8, 24)]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]);
      expect([...packet.subarray(24, 40)]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02]);
      expect(packet.readUInt16BE(40)).toBe(result.sourcePort);
      expect(packet.readUInt16BE(42)).toBe(result.destinationPort);
      expect(packet.readUInt16BE(44)).toBe(8 + payload.length);
      expect(udp6ChecksumValid(packet)).toBe(true);
      expect(packet.subarray(48)).toEqual(payload);
    });
    const others = result.seen.map(hex).filter((packet) => !(version(packet) === 6 && packet[6] === 17));
    for (const packet of others) expect([version(packet), packet[6]]).toEqual([6, 58]); // ICMPv6 only
    expect(result.replies).toEqual(
      ['one', 'two', 'three'].map((word) => ({ payload: `udp6 reply ${word}`, address: '2001:db8::2', port: result.destinationPort })),
    );
    expect(result.counters.txPackets).toBe(3);
  });

  it('opens a TAP device: Ethernet frames both ways, neighbor discovery answered by frames written back', async () => {
    const result = await runScenario<{
      name: string;
      mtu: number;
      slotSize: number;
      advertised: boolean;
      datagram: string;
      ownMac: string;
      replied: boolean;
      received: { payload: string; address: string; port: number }[];
    }>(namespace, 'tap');
    expect(result.name).toBe('taptest0');
    expect(result.mtu).toBe(1400);
    expect(result.slotSize).toBe(1472); // 1400 + 14, rounded up to 64
    expect(result.advertised).toBe(true);
    const frame = hex(result.datagram);
    expect(frame.subarray(0, 6).toString('hex')).toBe('020000000002'); // to the MAC this test advertised
    expect(frame.subarray(6, 12).toString('hex')).toBe(result.ownMac);
    expect(frame.readUInt16BE(12)).toBe(0x86dd);
    expect(udp6ChecksumValid(frame.subarray(14))).toBe(true);
    expect(frame.subarray(14 + 48).toString()).toBe('over tap');
    expect(result.replied).toBe(true);
    expect(result.received).toEqual([{ payload: 'tap reply', address: '2001:db8::2', port: 9999 }]);
  });

  it('takes TCP segments coalesced with their Ethernet header on a TAP device without read offload, and a socket reads them intact', async () => {
    const result = await runScenario<{
      vnetReads: boolean;
      slotSize: number;
      synAckChecksumValid: boolean;
      count: number;
      written: number;
      vnet: number[];
      counters: { trains: number; joined: number; badChecksum: number };
      rxPackets: number;
      received: boolean;
      receivedLength: number;
    }>(namespace, 'tapCoalesce');
    // Reads keep MTU-sized slots and complete checksums: no read offload.
    expect(result.vnetReads).toBe(true);
    expect(result.slotSize).toBe(1472);
    expect(result.synAckChecksumValid).toBe(true);
    // Ten segments, one frame: NEEDS_CSUM, GSO TCPV6, hdr_len 14 + 40 + 20, gso_size 1000, csum_start 54, csum_offset 16.
    expect(result.counters).toEqual({ trains: 1, joined: 9, badChecksum: 0 });
    expect(result.count).toBe(1);
    expect(result.written).toBe(1);
    expect(result.vnet).toEqual([1, 4, 74, 0, 0xe8, 0x03, 54, 0, 16, 0]);
    expect(result.rxPackets).toBe(1);
    expect(result.receivedLength).toBe(10_000);
    expect(result.received).toBe(true);
  });

  it('delivers a burst of 500 datagrams in order, in fewer callbacks than packets', async () => {
    const result = await runScenario<{ total: number; sequence: number[]; batchSizes: number[]; batchSize: number; counters: Counters }>(namespace, 'batch');
    expect(result.sequence).toEqual(Array.from({ length: result.total }, (_, i) => i));
    expect(result.batchSizes.length).toBeLessThan(result.total);
    expect(Math.max(...result.batchSizes)).toBeLessThanOrEqual(result.batchSize);
    expect(Math.max(...result.batchSizes)).toBeGreaterThan(1);
    expect(result.counters.rxBatches).toBe(result.batchSizes.length);
    expect(result.counters.rxPackets).toBe(result.batchSizes.reduce((sum, count) => sum + count, 0));
  });

  it('with offload, hands over the virtio-net header of each packet and takes headers with the replies', async () => {
    const result = await runScenario<{
      offload: boolean;
      vnet: number;
      slotSize: number;
      datagram: { packet: string; header: number[] };
      written: number;
      writtenSingle: boolean;
      replies: string[];
    }>(namespace, 'offload');
    expect(result.offload).toBe(true);
    expect(result.vnet).toBe(64 * 10);
    expect(result.slotSize).toBeGreaterThanOrEqual(40 + 65535);
    // The packet starts at the IP header; its header says the checksum is left to complete from byte
    // 20 (the UDP header), field at offset 6 (VIRTIO_NET_HDR_F_NEEDS_CSUM), no segmentation.
    expect(version(hex(result.datagram.packet))).toBe(4);
    expect(result.datagram.header).toEqual([1, 0, 0, 0, 0, 0, 20, 0, 6, 0]);
    expect(result.written).toBe(2);
    expect(result.writtenSingle).toBe(true);
    expect(result.replies).toEqual(['partial reply', 'plain reply', 'single reply']);
  });

  it('with offload and receiveSegments false, takes checksum offload but no TCP segments on reads', async () => {
    type Features = { tcp: string; tcp6: string; checksum: string };
    const result = await runScenario<{ segments: Features; split: Features; udpSegmentation: boolean }>(namespace, 'receiveSegments');
    expect(result.segments).toEqual({ tcp: 'on', tcp6: 'on', checksum: 'on' });
    expect(result.split).toEqual({ tcp: 'off', tcp6: 'off', checksum: 'on' });
    // Writes still take UDP GSO packets where the kernel knows USO (the transmit coalescer's trains).
    expect(result.udpSegmentation).toBe(true);
  });

  it('writes coalesced trains that the kernel segments back into the packets they were made of', async () => {
    // A namespace of its own: the scenario turns on forwarding, which later scenarios must not inherit.
    const forwarding = createNamespace();
    const result = await runScenario<{
      udpSegmentation: boolean;
      packets: number;
      count: number;
      written: number;
      gsoTypes: number[];
      counters: { trains: number; joined: number; badChecksum: number };
      expected: string[];
      seen: string[];
    }>(forwarding, 'coalesce').finally(() => deleteNamespace(forwarding));
    // Ours only (not the kernel's own IPv6 chatter), grouped per flow: order holds within a flow.
    const flowOf = (packet: Buffer) => (version(packet) === 4 ? `4/${packet[9]}/${packet.readUInt16BE(20)}` : `6/${packet[6]}/${packet.readUInt16BE(40)}`);
    const ours = (packet: Buffer) => (version(packet) === 4 ? packet.readUInt32BE(16) === 0xcb007109 : packet.readUInt16BE(24 + 4) === 2);
    const byFlow = (packets: Buffer[]) => {
      const flows = new Map<string, string[]>();
      for (const packet of packets.filter(ours)) flows.set(flowOf(packet), [...(flows.get(flowOf(packet)) ?? []), packet.toString('hex')]);
      return Object.fromEntries([...flows].sort(([a], [b]) => a.localeCompare(b)));
    };
    const expected = byFlow(result.expected.map(hex));
    expect(Object.keys(expected)).toHaveLength(6);
    expect(byFlow(result.seen.map(hex))).toEqual(expected);
    expect(result.written).toBe(result.count);
    // Six flows, each one train: TCP always; UDP where this kernel takes USO (Linux 6.2+).
    const udpTrains = result.udpSegmentation ? 4 : 0;
    expect(result.counters.trains).toBe(2 + udpTrains);
    expect(result.count).toBe(result.packets - result.counters.joined);
    expect(result.gsoTypes.filter((type) => type === 5)).toHaveLength(udpTrains);
    expect(result.gsoTypes.filter((type) => type === 1 || type === 4)).toHaveLength(2);
  });

  it('opens two queues of one multi-queue device and the kernel spreads flows over them', async () => {
    const result = await runScenario<Flows & { names: string[]; singleQueueError: OpenOutcome }>(namespace, 'multiQueue');
    expect(result.names).toEqual(['tunmq0', 'tunmq0']);
    expectEveryFlowOnce(result);
    expect(result.singleQueueError.code).toBe('EINVAL');
    expect(result.singleQueueError.message).toContain('"tunmq0" exists with IFF_MULTI_QUEUE: open it with multiQueue: true');
  });

  it('reads one queue per worker thread, and the workers end by themselves after close', async () => {
    const result = await runScenario<Flows & { exitCodes: number[]; deviceLeft: boolean }>(namespace, 'workers');
    expectEveryFlowOnce(result);
    expect(result.exitCodes).toEqual([0, 0]);
    expect(result.deviceLeft).toBe(false);
  });

  it('closes the queue of a worker that is terminated while reading', async () => {
    const result = await runScenario<{ existedWhileOpen: boolean; exitCode: number; existsAfter: boolean }>(namespace, 'terminate');
    expect(result).toEqual({ existedWhileOpen: true, exitCode: 1, existsAfter: false });
  });

  it('turns an exception from the callback into an uncaught exception and keeps reading', async () => {
    const result = await runScenario<{ uncaught: string[]; received: string[] }>(namespace, 'throwing');
    expect(result).toEqual({ uncaught: ['thrown by onBatch'], received: ['first', 'second'] });
  });

  it('lets the process exit while started when unref() was called', async () => {
    const result = await runScenario<{ name: string }>(namespace, 'unref');
    expect(result.name).toBe('tununref0');
  });

  it('keeps a persistent device after close and attaches to it by name', async () => {
    const result = await runScenario<{ name: string; keptAfterClose: boolean; mtu: number; goneAfterUnpersist: boolean }>(namespace, 'persist');
    // A new TUN device starts with the kernel's default MTU of 1500.
    expect(result).toEqual({ name: 'tunkeep0', keptAfterClose: true, mtu: 1500, goneAfterUnpersist: true });
  });

  it('explains open failures: a non-TUN name, an invalid name, a busy single-queue device', async () => {
    const result = await runScenario<Record<string, OpenOutcome>>(namespace, 'errors');
    expect(result.loopback).toEqual({
      code: 'EINVAL',
      operation: 'TUNSETIFF',
      message: 'cannot open TUN device "lo": TUNSETIFF (create or attach "lo") failed: EINVAL (invalid argument); ' + '"lo" exists and is not a TUN device',
    });
    expect(result.badName?.code).toBe('EINVAL');
    expect(result.badName?.message).toContain('is "bad/name" a valid interface name?');
    expect(result.busy?.code).toBe('EBUSY');
    expect(result.busy?.message).toContain('"tunbusy0" is single-queue and already open');
  });

  it('sizes the queue the kernel keeps for the reader, and reports the packets it dropped when the queue was full', async () => {
    interface Statistics {
      txQueueLength: number;
      txDropped: number;
      rxDropped: number;
    }
    const result = await runScenario<{ sent: number; before: Statistics; queued: Statistics; read: number; absent: null }>(namespace, 'queueLength');
    expect(result.before).toEqual({ txQueueLength: 16, txDropped: 0, rxDropped: 0 });
    expect(result.queued.txQueueLength).toBe(16);
    // Whatever did not fit was dropped and counted; the reader then got what was queued.
    expect(result.queued.txDropped).toBeGreaterThanOrEqual(result.sent - 16);
    expect(result.read + result.queued.txDropped).toBeGreaterThanOrEqual(result.sent);
    expect(result.absent).toBeNull();
  });

  it('explains that opening needs privileges', async () => {
    const result = await runScenario<OpenOutcome>(namespace, 'unprivileged', { unprivileged: true });
    // EACCES when /dev/net/tun is root-only, EPERM from TUNSETIFF when anyone may open it.
    expect(['EACCES', 'EPERM']).toContain(result.code);
    expect(result.message).toContain('CAP_NET_ADMIN');
  });
});
