// End to end: one nat64-gateway in `--transport auto` and two IPv4 hosts, one receiver speaking
// handoff messages and one Geneve, side by side; then a host moves from handoff messages to Geneve
// (its receiver restarted with the other flag) under an open TCP connection. Topology in
// support/geneve-lab.ts:
//
//   client (IPv6 only) <--veth--> gateway (nat64-gateway --transport auto) <--veth--> server  203.0.113.2 (receiver --transport handoff)
//   2001:db8:1::2                  prefix 2001:db8:64::/96, pool4 198.51.100.1 <--veth--> server2 192.0.2.2  (receiver --transport geneve)

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor, waitForLine } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESSES, GATEWAY_MAIN, gatewayUnbuiltReason, startGateway, type RunningGateway } from './support/gateway-lab.js';
import { gatewayCounters, gatewayHosts, receiverCounters, receiverUnbuiltReason, startReceiverIn, type HttpServer, type RunningReceiver } from './support/handoff-lab.js';
import { SECOND, createGeneveTopology, curlTo, startHttpServerIn, type GeneveTopology } from './support/geneve-lab.js';

const unavailable = labUnavailableReason(['curl']) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`Geneve migration end-to-end tests skipped: ${unavailable}`);

describe.skipIf(unavailable)('geneve and handoff side by side (end to end)', () => {
  let t: GeneveTopology;
  let dir: string;
  let control: string;
  let gateway: RunningGateway;
  let handoffReceiver: RunningReceiver;
  let geneveReceiver: RunningReceiver;
  const servers: HttpServer[] = [];

  const hostRow = async (host: string) => (await gatewayHosts(GATEWAY_MAIN, control)).hosts.find((row) => row['host'] === host);

  beforeAll(async () => {
    t = createGeneveTopology('gmi');
    dir = mkdtempSync(join(tmpdir(), 'n64-geneve-migration-'));
    mkdirSync(join(dir, 'one'));
    mkdirSync(join(dir, 'two'));
    control = join(dir, 'gateway.sock');
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify({ statsInterval: '0s' }));
    handoffReceiver = await startReceiverIn(t.server, ADDRESSES.server, join(dir, 'one'), 'handoff');
    geneveReceiver = await startReceiverIn(t.server2, SECOND.server, join(dir, 'two'), 'geneve');
    servers.push(await startHttpServerIn(t.server, ADDRESSES.server), await startHttpServerIn(t.server2, SECOND.server));
    gateway = await startGateway(t, ['--config', join(dir, 'gateway.json'), '--prefix', ADDRESSES.prefix, '--pool4', ADDRESSES.pool4, '--control', control, '--transport', 'auto']);
  });

  afterAll(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    for (const receiver of [handoffReceiver, geneveReceiver]) if (receiver !== undefined && receiver.child.exitCode === null) await receiver.stop();
    for (const server of servers) server.child.kill();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('reaches a handoff receiver with messages and a Geneve receiver through a tunnel, and both log their clients', async () => {
    for (const [six, receiver, http] of [
      [ADDRESSES.serverSix, handoffReceiver, servers[0]!],
      [SECOND.serverSix, geneveReceiver, servers[1]!],
    ] as const) {
      const result = await curlTo(t, six);
      expect(result.code).toBe(0);
      const seen = http.peers.at(-1)!;
      expect(result.body).toBe(seen);
      const port = seen.split(':')[1];
      await waitFor(`the Created line on ${six}`, () => receiver.lines().includes(`Created ${ADDRESSES.pool4}:${port} [${ADDRESSES.client}]:${result.localPort}`));
      expect(receiver.lines()[0]).toBe(`Initialized ${ADDRESSES.pool4}`);
    }
    expect(await hostRow(ADDRESSES.server)).toMatchObject({ transport: 'handoff', announced: ['handoff'] });
    expect(await hostRow(SECOND.server)).toMatchObject({ transport: 'geneve', announced: ['geneve'] });
    expect((await receiverCounters(t, handoffReceiver))['geneveDelivered'] ?? 0).toBe(0);
    const geneveCounters = await receiverCounters({ ...t, server: t.server2 }, geneveReceiver);
    expect(geneveCounters['geneveDelivered']).toBeGreaterThanOrEqual(1);
  });

  it('keeps an open TCP connection working when its host moves from handoff messages to Geneve', async () => {
    const server = t.server.spawn('node', [
      '-e',
      `require('net').createServer((s) => {
         console.log('accepted ' + s.remotePort);
         process.stdin.on('data', (d) => s.write(d));
         s.on('data', (d) => console.log('server got ' + d));
       }).listen(9000, '${ADDRESSES.server}', () => console.log('listening'));`,
    ]);
    await waitForLine(server.stdout!, /^listening$/);
    const client = t.client.spawn('node', [
      '-e',
      `const s = require('net').connect(9000, '${ADDRESSES.serverSix}', () => console.log('connected ' + s.localPort));
       s.on('data', (d) => { console.log('client got ' + d); s.write('re:' + d); });`,
    ]);
    try {
      const natPort = (await waitForLine(server.stdout!, /^accepted \d+$/)).split(' ')[1];
      const clientPort = (await waitForLine(client.stdout!, /^connected \d+$/)).split(' ')[1];
      const exchange = async (word: string) => {
        const clientGot = waitForLine(client.stdout!, new RegExp(`^client got ${word}$`), 10_000);
        const serverGot = waitForLine(server.stdout!, new RegExp(`^server got re:${word}$`), 10_000);
        server.stdin!.write(word);
        await clientGot;
        await serverGot;
      };
      await exchange('before');
      await waitFor('the Created line of the connection', () => handoffReceiver.lines().includes(`Created ${ADDRESSES.pool4}:${natPort} [${ADDRESSES.client}]:${clientPort}`));

      // The admin restarts the receiver with the other flag, on the same database.
      await handoffReceiver.stop();
      handoffReceiver = await startReceiverIn(t.server, ADDRESSES.server, join(dir, 'one'), 'geneve');
      // The next mapping toward the host finds 62863 closed; the gateway asks both ways and moves the host.
      expect((await curlTo(t, ADDRESSES.serverSix)).code).toBe(0);
      await waitFor('the host on Geneve', async () => (await hostRow(ADDRESSES.server))?.['transport'] === 'geneve', 15_000);
      const before = await gatewayCounters(GATEWAY_MAIN, control);

      await exchange('after');
      const after = await gatewayCounters(GATEWAY_MAIN, control);
      // The old connection's packets toward the host now travel in the tunnel.
      expect(after['geneve.packetsEncapsulated']! - before['geneve.packetsEncapsulated']!).toBeGreaterThanOrEqual(1);
      expect(after['geneve.switchedToGeneve']).toBeGreaterThanOrEqual(2);
      expect((await receiverCounters(t, handoffReceiver))['geneveDelivered']).toBeGreaterThanOrEqual(1);
      // The log still knows the connection's client, and no Deleted came of the move.
      expect(handoffReceiver.lines().some((line) => line.startsWith(`Deleted ${ADDRESSES.pool4}:${natPort} `))).toBe(false);
    } finally {
      client.kill();
      server.kill();
    }
  });
});
