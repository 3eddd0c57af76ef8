// End to end: a burst of new UDP flows, each its own socket, from the IPv6-only client through the
// built nat64-gateway to a UDP server that counts what arrives (topology in support/gateway-lab.ts):
//
//   client: 800 sockets, one datagram each --> gateway TUN queue (tun.txQueueLength) --> server :7000
//
// With the kernel's default queue of 500 packets a tenth of such a burst was dropped before the
// gateway could read it. The gateway now sizes its queue (10,000 by default), and `stats` shows
// what the kernel dropped there (device.txDropped), which a deliberately tiny queue makes visible.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { labUnavailableReason, waitFor, waitForLine } from '@nat64/netlab';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADDRESSES, createTopology, gatewayCli, gatewayUnbuiltReason, type RunningGateway, type Topology, startLabGateway } from './support/gateway-lab.js';

const unavailable = labUnavailableReason([]) ?? gatewayUnbuiltReason();
if (unavailable) console.log(`gateway burst end-to-end tests skipped: ${unavailable}`);

const FLOWS = 800;
const PORT = 7000;

/** Counts distinct datagrams; prints the count after each new one. */
const SERVER = `
  const seen = new Set();
  const socket = require('dgram').createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  socket.on('message', (message) => {
    const size = seen.size;
    seen.add(message.toString());
    if (seen.size !== size) console.log('received ' + seen.size);
  });
  socket.bind(${PORT}, '${ADDRESSES.server}', () => console.log('listening'));
`;

/** Opens every socket first (each a new flow: its own source port), then sends one datagram from each at once. */
const BURST = `
  const dgram = require('dgram');
  const sockets = [];
  let bound = 0;
  for (let i = 0; i < ${FLOWS}; i++) {
    const socket = dgram.createSocket('udp6');
    sockets.push(socket);
    socket.bind(0, '${ADDRESSES.client}', () => {
      if (++bound < ${FLOWS}) return;
      let sent = 0;
      sockets.forEach((s, n) => s.send('flow ' + n, ${PORT}, '${ADDRESSES.serverSix}', () => {
        if (++sent === ${FLOWS}) { console.log('sent ' + sent); sockets.forEach((x) => x.close()); }
      }));
    });
  }
`;

interface StatLine {
  group: string;
  name: string;
  value: number;
}

describe.skipIf(unavailable)('gateway burst of new UDP flows (end to end)', () => {
  let t: Topology;
  let gateway: RunningGateway | undefined;
  let dir: string;
  let control: string;

  beforeEach(() => {
    t = createTopology('burst');
    dir = mkdtempSync(join(tmpdir(), 'n64-burst-e2e-'));
    control = join(dir, 'control.sock');
  });

  afterEach(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    gateway = undefined;
    t?.lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function burst(): Promise<{ received: () => number; server: ChildProcess }> {
    const server = t.server.spawn('node', ['-e', SERVER]);
    let received = 0;
    await waitForLine(server.stdout!, /^listening$/);
    server.stdout!.on('data', (chunk: Buffer) => {
      for (const match of chunk.toString().matchAll(/received (\d+)/g)) received = Math.max(received, Number(match[1]));
    });
    // Resolve the client's neighbor entry for the gateway first: until it is resolved the kernel holds
    // only about 256 packets for it (neigh.default.unres_qlen_bytes), which is not what this measures.
    await t.client.run('ping', ['-c', '1', '-W', '5', ADDRESSES.serverSix]);
    const client = t.client.spawn('node', ['-e', BURST]);
    await waitForLine(client.stdout!, new RegExp(`^sent ${FLOWS}$`), 20_000);
    return { received: () => received, server };
  }

  async function deviceStats(): Promise<Record<string, number>> {
    const stats = await gatewayCli(['stats', '--control', control, '--all', '--json']);
    expect(stats.code, stats.stderr).toBe(0);
    const lines = (JSON.parse(stats.stdout) as { counters: StatLine[] }).counters;
    return Object.fromEntries(lines.filter((line) => line.group === 'device').map((line) => [line.name, line.value]));
  }

  it('carries every datagram of 800 new flows sent at once, and shows the device drop counter', async () => {
    gateway = await startLabGateway(t, control, ['--handoff', 'off']);
    expect(t.gateway.exec('cat', ['/sys/class/net/nat64/tx_queue_len']).trim()).toBe('10000');
    const { received, server } = await burst();
    // Every flow arrives, or this times out naming how many did.
    await waitFor(`all ${FLOWS} datagrams at the server (so far ${received()})`, () => received() === FLOWS, 10_000).catch(() => undefined);
    server.kill();
    expect(received()).toBe(FLOWS);
    expect(await deviceStats()).toEqual({ txDropped: 0, rxDropped: 0 });
  });

  it('counts what the kernel dropped when the queue is too small for the burst', async () => {
    gateway = await startLabGateway(t, control, ['--handoff', 'off', '--tun-tx-queue', '8']);
    const { received, server } = await burst();
    const counted = await waitFor(
      'the lost datagrams to be counted as device drops',
      async () => {
        const device = await deviceStats();
        return device['txDropped']! > 0 && received() + device['txDropped']! >= FLOWS ? device : undefined;
      },
      10_000,
    );
    server.kill();
    expect(received()).toBeLessThan(FLOWS);
    // Every lost datagram is counted. The kernel also queues a few packets of its own into the
    // device (router solicitations, MLD reports), which a full queue drops and counts as well.
    expect(counted['txDropped']!).toBeGreaterThanOrEqual(FLOWS - received());
    expect(counted['txDropped']!).toBeLessThanOrEqual(FLOWS - received() + 4);
  });
});
