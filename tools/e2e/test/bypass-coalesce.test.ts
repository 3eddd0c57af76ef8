// NAT64 bypass with tun.offload and tun.coalesce, end to end: the built `nat64-gateway run --transport
// bypass --tun-offload --tun-coalesce` and the built `nat64-receiver run --transport bypass` on the
// IPv4-only host, across network namespaces. A burst of one UDP flow queued in the gateway's TUN device
// while the gateway is stopped reaches it in full batches, whose tunnel packets (one outer 5-tuple per
// inner flow) leave as UDP GSO trains; the server's IPv6 socket gets every datagram intact. TCP through
// the tunnel (the device hands over segments, not 64 KiB super-packets) arrives intact too.
//
//   client (IPv6 only)        gateway                                        server (IPv4 only, IPv6 disabled)
//   2001:db8:1::2 ---veth--- TUN "nat64": nat64-gateway --transport bypass ---veth--- nat64-receiver --transport bypass
//                            prefix 2001:db8:64::/96, pool4 198.51.100.1            UDP sink [::]:9999, TCP sink [::]:9001

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { labUnavailableReason, waitFor, waitForLine } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESSES, GATEWAY_MAIN, createTopology, gatewayUnbuiltReason, type RunningGateway, type Topology, startLabGateway } from './support/gateway-lab.js';
import { capture, gatewayCounters, gatewayHosts, receiverUnbuiltReason, startReceiverIn, type RunningReceiver } from './support/handoff-lab.js';

const unavailable = labUnavailableReason(['ethtool']) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`bypass coalescing end-to-end tests skipped: ${unavailable}`);
const hasTshark = labUnavailableReason(['tshark']) === undefined;

const DATAGRAMS = 256;
/** The burst's two flows: client ports, each sending half of the datagrams in a row. */
const FLOW_PORTS = [40_001, 40_002];
const PAYLOAD = 200;
const TCP_BYTES = 8 * 1024 * 1024;

/** Datagram i of the burst: its index, then bytes that depend on it, so a damaged or shifted one shows. */
const DATAGRAM = `(i) => { const b = Buffer.alloc(${PAYLOAD}); b.writeUInt32BE(i, 0); for (let j = 4; j < b.length; j++) b[j] = (i * 31 + j * 7) & 0xff; return b; }`;

describe.skipIf(unavailable)('bypass with offload and coalescing (end to end)', () => {
  let t: Topology;
  let dir: string;
  let control: string;
  let gateway: RunningGateway;
  let receiver: RunningReceiver;
  let udpSink: ChildProcess;
  let tcpSink: ChildProcess;

  beforeAll(async () => {
    t = createTopology('bpc');
    dir = mkdtempSync(join(tmpdir(), 'n64-bypass-co-'));
    control = join(dir, 'gateway.sock');
    t.server.sysctl('net.ipv6.conf.all.disable_ipv6', 1);
    t.server.sysctl('net.ipv6.conf.default.disable_ipv6', 1);
    // The gateway's links split UDP GSO packets themselves, as a NIC without USO would have them split.
    t.gateway.exec('sh', [
      '-c',
      "for d in $(ip -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1); do ethtool -K $d tx-udp-segmentation off; done",
    ]);
    // The UDP sink checks every datagram against DATAGRAM and prints how many were good, bad and repeated.
    udpSink = t.server.spawn('node', [
      '-e',
      `const expected = ${DATAGRAM};
       const seen = new Set(); let good = 0; let bad = 0; let repeated = 0;
       const s = require('dgram').createSocket({ type: 'udp6', recvBufferSize: 4 << 20 });
       s.on('message', (m) => {
         const i = m.length >= 4 ? m.readUInt32BE(0) : -1;
         if (i < 0 || !m.equals(expected(i))) bad++; else if (seen.has(i)) repeated++; else { seen.add(i); good++; }
         console.log(JSON.stringify({ good, bad, repeated }));
       });
       s.bind(9999, '::', () => console.log('listening'));`,
    ]);
    await waitForLine(udpSink.stdout!, /^listening$/);
    tcpSink = t.server.spawn('node', [
      '-e',
      `const crypto = require('crypto');
       require('net').createServer((c) => { const h = crypto.createHash('sha256'); let n = 0;
         c.on('data', (d) => { h.update(d); n += d.length; }); c.on('end', () => c.end(n + ' ' + h.digest('hex'))); })
       .listen(9001, '::', () => console.log('listening'));`,
    ]);
    await waitForLine(tcpSink.stdout!, /^listening$/);
    writeFileSync(
      join(dir, 'gateway.json'),
      JSON.stringify({ statsInterval: '0s', handoff: { bypass: { secretFile: join(dir, 'bypass-secret'), offerInterval: '1s', reachableTime: '10m' } } }),
    );
    gateway = await startLabGateway(t, control, ['--config', join(dir, 'gateway.json'), '--transport', 'bypass', '--tun-offload', '--tun-coalesce']);
    receiver = await startReceiverIn(t.server, ADDRESSES.server, dir, undefined, [
      '--transport',
      'bypass',
      '--bypass-prefix',
      ADDRESSES.prefix,
      '--allow',
      `${ADDRESSES.pool4}/32`,
    ]);
    // One datagram makes the offer; the tests start once the host accepted.
    await waitFor(
      'the host in bypass',
      async () => {
        await t.client.run('bash', ['-c', `echo offer > /dev/udp/${ADDRESSES.serverSix}/7`]);
        const hosts = await gatewayHosts(GATEWAY_MAIN, control);
        return hosts.hosts.some((row) => row['host'] === ADDRESSES.server && row['transport'] === 'bypass') ? true : undefined;
      },
      20_000,
    );
  });

  afterAll(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) {
      gateway.child.kill('SIGCONT');
      await gateway.stop();
    }
    if (receiver !== undefined && receiver.child.exitCode === null) await receiver.stop();
    udpSink?.kill();
    tcpSink?.kill();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('writes a burst of two flows as UDP GSO trains of tunnel packets, each flow on its own outer port, and the server gets every datagram intact', async () => {
    const before = await gatewayCounters(GATEWAY_MAIN, control);
    const tunnel = hasTshark ? await capture(t.server, dir, 'tunnel', 'udp port 6081') : undefined;
    let last = { good: 0, bad: 0, repeated: 0 };
    udpSink.stdout!.on('data', (chunk: Buffer) => {
      const lines = chunk.toString().trim().split('\n');
      last = JSON.parse(lines.at(-1)!) as typeof last;
    });
    // Queued in the TUN device while the gateway is stopped, so that it reads them in full batches.
    gateway.child.kill('SIGSTOP');
    try {
      const sent = await t.client.run('node', [
        '-e',
        `const expected = ${DATAGRAM};
         const dgram = require('dgram');
         const sockets = ${JSON.stringify(FLOW_PORTS)}.map(() => dgram.createSocket('udp6'));
         let bound = 0;
         const half = ${DATAGRAMS / 2};
         let i = 0;
         const next = () => {
           if (i === ${DATAGRAMS}) return sockets.forEach((s) => s.close());
           const n = i++;
           sockets[n < half ? 0 : 1].send(expected(n), 9999, '${ADDRESSES.serverSix}', next);
         };
         sockets.forEach((s, k) => s.bind(${JSON.stringify(FLOW_PORTS)}[k], () => { if (++bound === sockets.length) next(); }));`,
      ]);
      expect(sent.code, sent.stderr).toBe(0);
    } finally {
      gateway.child.kill('SIGCONT');
    }
    await waitFor('every datagram at the server', async () => (last.good + last.bad >= DATAGRAMS ? true : undefined), 15_000).catch(() => undefined);
    expect(last).toEqual({ good: DATAGRAMS, bad: 0, repeated: 0 });
    const after = await gatewayCounters(GATEWAY_MAIN, control);
    const joined = after['gateway.coalescedPackets']! - (before['gateway.coalescedPackets'] ?? 0);
    const trains = after['gateway.coalescedTrains']! - (before['gateway.coalescedTrains'] ?? 0);
    // Every datagram went through the tunnel, and most of them rode in a train rather than alone.
    expect(after['gateway.bypassed']! - before['gateway.bypassed']!).toBeGreaterThanOrEqual(DATAGRAMS);
    expect(trains).toBeGreaterThan(0);
    expect(joined).toBeGreaterThan(DATAGRAMS / 2);
    expect(after['gateway.coalesceBadChecksum'] ?? 0).toBe(0);
    if (tunnel === undefined) return;
    await tunnel.stop();
    // Outer and inner UDP source port of every tunnel datagram toward the server, as the server's link saw them (segmented).
    const read = await t.server.run(
      'tshark',
      ['-n', '-r', join(dir, 'tunnel.pcapng'), '-d', 'udp.port==6081,geneve', '-Y', `geneve && ip.dst == ${ADDRESSES.server}`].concat([
        '-T',
        'fields',
        '-E',
        'occurrence=a',
        '-E',
        'aggregator=,',
        '-e',
        'udp.srcport',
      ]),
    );
    const outerByInner = new Map<string, Set<string>>();
    for (const line of read.stdout.split('\n').filter(Boolean)) {
      const [outer, inner] = line.split(',');
      if (!FLOW_PORTS.map(String).includes(inner!)) continue;
      outerByInner.set(inner!, (outerByInner.get(inner!) ?? new Set()).add(outer!));
    }
    // RFC 8926 §3.3: one outer source port per inner flow, different flows on different ports.
    expect([...outerByInner.keys()].sort()).toEqual(FLOW_PORTS.map(String));
    const outers = [...outerByInner.values()].map((ports) => [...ports]);
    expect(outers.map((ports) => ports.length)).toEqual([1, 1]);
    expect(outers[0]![0]).not.toBe(outers[1]![0]);
  });

  it('carries TCP through the tunnel intact: the device hands over segments, which leave coalesced', async () => {
    const before = await gatewayCounters(GATEWAY_MAIN, control);
    const result = await t.client.run('node', [
      '-e',
      `const crypto = require('crypto');
       const data = Buffer.alloc(${TCP_BYTES});
       for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
       const c = require('net').connect(9001, '${ADDRESSES.serverSix}', () => c.end(data));
       let answer = '';
       c.on('data', (d) => { answer += d; });
       c.on('end', () => { console.log(answer === ${TCP_BYTES} + ' ' + crypto.createHash('sha256').update(data).digest('hex') ? 'intact' : 'damaged ' + answer); });`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('intact');
    const after = await gatewayCounters(GATEWAY_MAIN, control);
    // Through the tunnel, segment by segment (a 64 KiB segment would have been refused or answered with Packet Too Big, not carried).
    expect(after['gateway.bypassed']! - before['gateway.bypassed']!).toBeGreaterThan(TCP_BYTES / 1400);
    expect(after['gateway.offloadRefused'] ?? 0).toBe(0);
  });
});
