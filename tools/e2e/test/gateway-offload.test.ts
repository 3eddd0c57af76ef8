// End to end: nat64-gateway with `tun.offload` (virtio-net headers, TSO both ways through its TUN
// device) across network namespaces (topology in support/gateway-lab.ts). TCP from the client and from
// the server arrives at the gateway as segments of up to 64 KiB, which it translates whole; the bytes
// must arrive intact both ways, and the gateway must have translated such segments.
//
// Between namespaces, veth would carry the gateway's large segments to the far end unsplit with their
// partial checksums, and the far end would trust them. So the gateway's links split and checksum in
// software, as a NIC without offloads would (tx off), and the end hosts verify every checksum
// themselves (rx off): a wrong pseudo-header sum from the gateway stalls the transfer.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitForLine, type Namespace } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESSES, GATEWAY_MAIN, createTopology, gatewayUnbuiltReason, type RunningGateway, type Topology, startLabGateway } from './support/gateway-lab.js';
import { gatewayCounters } from './support/handoff-lab.js';

const unavailable = labUnavailableReason(['iperf3', 'ethtool']) ?? gatewayUnbuiltReason();
if (unavailable) console.log(`gateway offload end-to-end tests skipped: ${unavailable}`);

const BYTES = 16 * 1024 * 1024;

/** Node code for `count` deterministic bytes, written in 64 KiB chunks, and their SHA-256. */
const SOURCE = `
  const { createHash } = require('crypto');
  function* chunks(count) {
    let block = createHash('sha512').update('nat64 offload').digest();
    for (let sent = 0; sent < count; ) {
      const chunk = Buffer.alloc(Math.min(65536, count - sent));
      for (let i = 0; i < chunk.length; i += 64) {
        block = createHash('sha512').update(block).digest();
        block.copy(chunk, i);
      }
      sent += chunk.length;
      yield chunk;
    }
  }
  function send(socket, count, done) {
    const hash = createHash('sha256');
    const it = chunks(count);
    const pump = () => {
      for (let next = it.next(); !next.done; next = it.next()) {
        hash.update(next.value);
        if (!socket.write(next.value)) return socket.once('drain', pump);
      }
      socket.end();
      done(hash.digest('hex'));
    };
    pump();
  }
  function receive(socket, done) {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (d) => { hash.update(d); bytes += d.length; });
    socket.on('end', () => done(bytes, hash.digest('hex')));
  }
`;

/** A TCP server in `namespace`: with `send`, it sends BYTES to each client; otherwise it hashes what it gets. */
async function startServer(namespace: Namespace, address: string, port: number, mode: 'send' | 'receive') {
  const script = `${SOURCE}
    require('net').createServer((socket) => {
      ${mode === 'send' ? `send(socket, ${BYTES}, (sha) => console.log('sent ' + sha));` : `receive(socket, (bytes, sha) => console.log('received ' + bytes + ' ' + sha));`}
    }).listen(${port}, '${address}', () => console.log('listening'));`;
  const child = namespace.spawn('node', ['-e', script]);
  await waitForLine(child.stdout!, /^listening$/);
  return child;
}

/** Connects from the client; sends BYTES or receives until the end; prints what it did. */
async function runClient(t: Topology, port: number, mode: 'send' | 'receive'): Promise<string> {
  const script = `${SOURCE}
    const socket = require('net').connect(${port}, '${ADDRESSES.serverSix}', () => {
      ${mode === 'send' ? `send(socket, ${BYTES}, (sha) => console.log('sent ' + sha));` : `receive(socket, (bytes, sha) => console.log('received ' + bytes + ' ' + sha));`}
    });
    socket.setTimeout(20000, () => { console.log('timeout'); process.exit(1); });`;
  const result = await t.client.run('node', ['-e', script], { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`client failed (${result.code}): ${result.stdout} ${result.stderr}`);
  return result.stdout.trim();
}

describe.skipIf(unavailable)('gateway with TUN offload (end to end)', () => {
  let t: Topology;
  let dir: string;
  let control: string;
  let gateway: RunningGateway;

  beforeAll(async () => {
    t = createTopology('off');
    for (const [namespace, address] of [
      [t.gateway, ADDRESSES.gatewayFour],
      [t.gateway, ADDRESSES.gatewaySix],
      [t.server, ADDRESSES.server],
      [t.client, ADDRESSES.client],
    ] as const) {
      const device = namespace.exec('ip', ['-o', 'address', 'show', 'to', address]).split(/\s+/)[1]!;
      namespace.exec('ethtool', ['-K', device, namespace === t.gateway ? 'tx' : 'rx', 'off']);
    }
    dir = mkdtempSync(join(tmpdir(), 'n64-offload-e2e-'));
    control = join(dir, 'gateway.sock');
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify({ handoff: { mode: 'off' }, statsInterval: '0s' }));
    gateway = await startLabGateway(t, control, ['--config', join(dir, 'gateway.json'), '--tun-offload']);
  });

  afterAll(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('carries TCP intact from the IPv6 client to the IPv4 server, translating large segments whole', async () => {
    const before = await gatewayCounters(GATEWAY_MAIN, control);
    const server = await startServer(t.server, ADDRESSES.server, 9001, 'receive');
    try {
      const received = waitForLine(server.stdout!, /^received /, 30_000);
      received.catch(() => undefined); // awaited below unless the client fails first
      const sent = (await runClient(t, 9001, 'send')).split(' ')[1];
      expect(await received).toBe(`received ${BYTES} ${sent}`);
    } finally {
      server.kill();
    }
    const after = await gatewayCounters(GATEWAY_MAIN, control);
    expect(after['gateway.offloaded']! - (before['gateway.offloaded'] ?? 0)).toBeGreaterThan(0);
    expect(after['gateway.offloadRefused'] ?? 0).toBe(0);
  });

  it('carries TCP intact from the IPv4 server to the IPv6 client, translating large segments whole', async () => {
    const before = await gatewayCounters(GATEWAY_MAIN, control);
    const server = await startServer(t.server, ADDRESSES.server, 9002, 'send');
    try {
      const sent = waitForLine(server.stdout!, /^sent /, 30_000);
      sent.catch(() => undefined); // awaited below unless the client fails first
      const received = await runClient(t, 9002, 'receive');
      expect(received).toBe(`received ${BYTES} ${(await sent).split(' ')[1]}`);
    } finally {
      server.kill();
    }
    const after = await gatewayCounters(GATEWAY_MAIN, control);
    expect(after['gateway.forwarded46']! - (before['gateway.forwarded46'] ?? 0)).toBeGreaterThan(0);
    expect(after['gateway.offloaded']! - before['gateway.offloaded']!).toBeGreaterThan(0);
  });

  it('still answers ping and carries iperf3 TCP', async () => {
    const ping = await t.client.run('ping', ['-c', '2', '-i', '0.2', '-W', '2', ADDRESSES.serverSix], { timeoutMs: 10_000 });
    expect(ping.code).toBe(0);
    const server = t.server.spawn('iperf3', ['-s', '-B', ADDRESSES.server, '-1']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const tcp = await t.client.run('iperf3', ['-c', ADDRESSES.serverSix, '-t', '2', '-J'], { timeoutMs: 20_000 });
      expect(tcp.code).toBe(0);
      const received = (JSON.parse(tcp.stdout) as { end: { sum_received: { bytes: number; bits_per_second: number } } }).end.sum_received;
      console.log(`iperf3 TCP through the gateway with offload: ${(received.bits_per_second / 1e9).toFixed(2)} Gbit/s`);
      expect(received.bytes).toBeGreaterThan(BYTES);
    } finally {
      server.kill();
    }
  });
});
