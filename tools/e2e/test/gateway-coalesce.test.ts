// End to end: nat64-gateway with `tun.coalesce` (topology in support/gateway-lab.ts). Bursts of UDP
// datagrams wait in the TUN device while the gateway is stopped (SIGSTOP), so that it reads them in
// full batches and writes each flow's run as one UDP GSO packet; the kernel splits them on the way
// out. What the far end receives must be every datagram, intact, in each flow's order, both ways.
//
// The gateway's links split and checksum in software (tx off), as a NIC without offloads would, and
// the end hosts verify every checksum themselves (rx off): a wrong length or checksum in a train
// loses its datagrams.
//
//   client (udp, 4 flows) --IPv6--> gateway (TUN nat64, paused, then coalescing) --IPv4--> server (echo)
//   client <--IPv6-- gateway (paused again, then coalescing) <--IPv4-- server echoes them all at once

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitForLine } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESSES, GATEWAY_MAIN, createTopology, gatewayUnbuiltReason, type RunningGateway, type Topology, startLabGateway } from './support/gateway-lab.js';
import { gatewayCounters } from './support/handoff-lab.js';

const unavailable = labUnavailableReason(['ethtool']) ?? gatewayUnbuiltReason();
if (unavailable) console.log(`gateway coalescing end-to-end tests skipped: ${unavailable}`);

const FLOWS = 4;
// Few enough that every datagram fits the end hosts' default socket buffers (212 KiB) while their readers lag.
const PER_FLOW = 24;
const PORT = 9100;

/** Datagram i of flow f: a header naming both, then bytes that depend on both, of a size that varies by flow. */
const PAYLOAD = `
  function payload(f, i) {
    const size = [24, 200, 600, 1400][f];
    const b = Buffer.alloc(size);
    b.write('f' + f + ' i' + i + ' ');
    for (let k = 12; k < size; k++) b[k] = (f * 131 + i * 7 + k) & 0xff;
    return b;
  }
`;

/** The server: keeps every datagram; on "echo" (stdin) sends them all back to their senders at once. */
const SERVER = `${PAYLOAD}
  const socket = require('dgram').createSocket('udp4');
  const got = [];
  socket.on('message', (m, from) => {
    got.push([m, from]);
    if (got.length === ${FLOWS * PER_FLOW}) console.log('received ' + got.length);
  });
  process.stdin.on('data', () => {
    for (const [m, from] of got) socket.send(m, from.port, from.address);
    console.log('echoed');
  });
  socket.bind(${PORT}, '${ADDRESSES.server}', () => console.log('listening'));
`;

/** The client: on "send" (stdin), bursts of every flow; checks each echo against what it sent, in order. */
const CLIENT = `${PAYLOAD}
  const dgram = require('dgram');
  const flows = Array.from({ length: ${FLOWS} }, () => dgram.createSocket('udp6'));
  const next = flows.map(() => 0);
  let bad = 0;
  let total = 0;
  flows.forEach((socket, f) => socket.on('message', (m) => {
    if (!m.equals(payload(f, next[f]))) bad++;
    next[f]++;
    if (++total === ${FLOWS * PER_FLOW}) console.log('echoes ' + total + ' bad ' + bad);
  }));
  let bound = 0;
  flows.forEach((socket) => socket.bind(0, '${ADDRESSES.client}', () => { if (++bound === ${FLOWS}) console.log('ready'); }));
  process.stdin.on('data', () => {
    // Runs of 8 datagrams per flow, so that a batch holds several of each flow.
    for (let start = 0; start < ${PER_FLOW}; start += 8)
      for (let f = 0; f < ${FLOWS}; f++)
        for (let i = start; i < start + 8; i++) flows[f].send(payload(f, i), ${PORT}, '${ADDRESSES.serverSix}');
    setTimeout(() => console.log('sent'), 300);
  });
`;

describe.skipIf(unavailable)('gateway with transmit coalescing (end to end)', () => {
  let t: Topology;
  let dir: string;
  let control: string;
  let gateway: RunningGateway;

  beforeAll(async () => {
    t = createTopology('coal');
    for (const [namespace, address] of [
      [t.gateway, ADDRESSES.gatewayFour],
      [t.gateway, ADDRESSES.gatewaySix],
      [t.server, ADDRESSES.server],
      [t.client, ADDRESSES.client],
    ] as const) {
      const device = namespace.exec('ip', ['-o', 'address', 'show', 'to', address]).split(/\s+/)[1]!;
      namespace.exec('ethtool', ['-K', device, namespace === t.gateway ? 'tx' : 'rx', 'off']);
      if (namespace === t.gateway) namespace.exec('ethtool', ['-K', device, 'tx-udp-segmentation', 'off']);
    }
    dir = mkdtempSync(join(tmpdir(), 'n64-coalesce-e2e-'));
    control = join(dir, 'gateway.sock');
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify({ handoff: { mode: 'off' }, statsInterval: '0s' }));
    gateway = await startLabGateway(t, control, ['--config', join(dir, 'gateway.json'), '--tun-offload', '--tun-coalesce']);
  });

  afterAll(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) {
      gateway.child.kill('SIGCONT');
      await gateway.stop();
    }
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers bursts of four flows intact and in order both ways, written as UDP GSO trains', async () => {
    const server = t.server.spawn('node', ['-e', SERVER]);
    const client = t.client.spawn('node', ['-e', CLIENT]);
    const pause = async (run: () => Promise<void>) => {
      gateway.child.kill('SIGSTOP');
      try {
        await run();
      } finally {
        gateway.child.kill('SIGCONT');
      }
    };
    try {
      await waitForLine(server.stdout!, /^listening$/);
      await waitForLine(client.stdout!, /^ready$/);
      const received = waitForLine(server.stdout!, /^received /, 20_000);
      received.catch(() => undefined);
      // The first datagram of each flow makes its session; the bursts then wait in the TUN queue.
      await pause(async () => {
        client.stdin!.write('send\n');
        await waitForLine(client.stdout!, /^sent$/);
      });
      expect(await received).toBe(`received ${FLOWS * PER_FLOW}`);
      const echoes = waitForLine(client.stdout!, /^echoes /, 20_000);
      echoes.catch(() => undefined);
      await pause(async () => {
        server.stdin!.write('echo\n');
        await waitForLine(server.stdout!, /^echoed$/);
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
      expect(await echoes).toBe(`echoes ${FLOWS * PER_FLOW} bad 0`);
    } finally {
      server.kill();
      client.kill();
    }
    const counters = await gatewayCounters(GATEWAY_MAIN, control);
    expect(counters['gateway.coalescedTrains']).toBeGreaterThan(0);
    expect(counters['gateway.coalescedPackets']).toBeGreaterThan(FLOWS * PER_FLOW);
    expect(counters['gateway.coalesceBadChecksum'] ?? 0).toBe(0);
  });
});
