// End to end: the built nat64-gateway with `--transport geneve` and the built nat64-receiver with
// `--transport geneve` on the IPv4 server, across network namespaces (topology in support/gateway-lab.ts):
//
//   client (IPv6 only) <--veth--> gateway (TUN "nat64", nat64-gateway --transport geneve) <--veth--> server (IPv4 only)
//   2001:db8:1::2                  prefix 2001:db8:64::/96, pool4 198.51.100.1                   203.0.113.2: nat64-receiver
//                                                                                                 --transport geneve, HTTP 8080
//
// Nothing listens on the server's UDP 62863: control exchanges and mapping events travel in Geneve on
// 6081. A capture on the server is read back with Debian's tshark and its own Geneve dissector.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESSES, GATEWAY_MAIN, createTopology, gatewayUnbuiltReason, type RunningGateway, type Topology, startLabGateway } from './support/gateway-lab.js';
import {
  capture,
  curl,
  curlAndExpectLogged,
  gatewayCounters,
  gatewayHosts,
  receiverCounters,
  receiverUnbuiltReason,
  startHttpServer,
  startReceiverIn,
  type Capture,
  type HttpServer,
  type RunningReceiver,
} from './support/handoff-lab.js';
import { dissectGeneve } from './support/geneve-lab.js';

const unavailable = labUnavailableReason(['curl', 'tshark']) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`Geneve end-to-end tests skipped: ${unavailable}`);

describe.skipIf(unavailable)('geneve transport (end to end)', () => {
  let t: Topology;
  let dir: string;
  let control: string;
  let gateway: RunningGateway;
  let receiver: RunningReceiver;
  let http: HttpServer;
  let tap: Capture;
  let tapStopped = false;

  beforeAll(async () => {
    t = createTopology('gnv');
    dir = mkdtempSync(join(tmpdir(), 'n64-geneve-e2e-'));
    control = join(dir, 'gateway.sock');
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify({ statsInterval: '0s' }));
    receiver = await startReceiverIn(t.server, ADDRESSES.server, dir, 'geneve');
    http = await startHttpServer(t);
    tap = await capture(t.server, dir, 'geneve', 'udp port 6081 or udp port 62863');
    gateway = await startLabGateway(t, control, ['--config', join(dir, 'gateway.json'), '--transport', 'geneve']);
  });

  afterAll(async () => {
    if (tap !== undefined && !tapStopped) await tap.stop().catch(() => undefined);
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    if (receiver !== undefined && receiver.child.exitCode === null) await receiver.stop();
    http?.child.kill();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('carries a curl through the tunnel, and the receiver logs the real client under the NAT port the server saw', async () => {
    // The first curl meets the receiver (its first packets leave before the HELLO exchange, and its
    // mapping is announced reliably afterwards); the second runs through the tunnel from its SYN on.
    const first = await curl(t);
    expect(first.code).toBe(0);
    await waitFor('the first Created line', () => receiver.lines().some((line) => line.endsWith(`[${ADDRESSES.client}]:${first.localPort}`)));
    await curlAndExpectLogged(t, http, receiver);
    const counters = await gatewayCounters(GATEWAY_MAIN, control);
    expect(counters['geneve.packetsEncapsulated']).toBeGreaterThanOrEqual(1);
    expect(counters['geneve.createdOptions']).toBeGreaterThanOrEqual(1);
    expect(counters['geneve.controlReceived']).toBeGreaterThanOrEqual(1);
    // The second curl's Created rode on its first packets: its mapping is the receiver's now, a cache here.
    expect(counters['geneve.handedOffByGeneve']).toBeGreaterThanOrEqual(1);
    // No handoff datagram left the gateway: the host needs nothing on 62863 (in mode geneve the gateway
    // has no socket there, so the counter is not even listed).
    expect(counters['handoff.datagramsSent'] ?? 0).toBe(0);
    const received = await receiverCounters(t, receiver);
    expect(received['geneveDelivered']).toBeGreaterThanOrEqual(1);
    const { hosts, transport } = (await gatewayHosts(GATEWAY_MAIN, control)) as Awaited<ReturnType<typeof gatewayHosts>> & { transport: string };
    expect(transport).toBe('geneve');
    expect(hosts.find((row) => row['host'] === ADDRESSES.server)).toMatchObject({ state: 'authoritative', transport: 'geneve' });
  });

  it('sends packets that tshark dissects as Geneve: control packets with VNI 0 then the cookie VNI, data with our option class', async () => {
    const { hosts } = await gatewayHosts(GATEWAY_MAIN, control);
    const vni = hosts.find((row) => row['host'] === ADDRESSES.server)!['vni'] as number;
    expect(vni).toBeGreaterThan(0);
    tapStopped = true;
    await tap.stop();
    const packets = await dissectGeneve(t.server, join(dir, 'geneve.pcapng'));
    const fromGateway = packets.filter((p) => p.src === ADDRESSES.pool4 && p.dstPort === 6081);
    const controlPackets = fromGateway.filter((p) => p.oam);
    const data = fromGateway.filter((p) => !p.oam);
    // The first HELLO before the exchange: VNI 0; afterwards the low 24 bits of the receiver's cookie.
    expect(controlPackets[0]).toMatchObject({ vni: 0, protoType: 0x88b5, optionClasses: [] });
    expect(controlPackets.at(-1)!.vni).toBe(vni);
    expect(data.length).toBeGreaterThanOrEqual(1);
    for (const packet of data) expect(packet).toMatchObject({ vni, protoType: 0x0800 });
    // The mapping option: class 0xFF64, type 0x01, Length 9 words of data. tshark reports lengths in
    // bytes under one field name: first the header's Opt Len (10 words, 40 bytes), then the option's own
    // length with its 4-byte header (4 + 36 = 40).
    const withOption = data.filter((p) => p.optionClasses.length > 0);
    expect(withOption.length).toBeGreaterThanOrEqual(1);
    expect(withOption[0]).toMatchObject({ optionClasses: [0xff64], optionTypes: [0x01], optionLengths: [40, 40] });
    // Replies from the receiver are control packets too, on 6081.
    expect(packets.some((p) => p.src === ADDRESSES.server && p.oam && p.vni === vni)).toBe(true);
  });
});
