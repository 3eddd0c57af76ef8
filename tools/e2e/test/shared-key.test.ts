// End to end: a key shared by the operator and the server admins (`--handoff-key-file` on the gateway,
// `--key-file` on the receivers) authenticates handoff messages (handoff-v1 section 6.7) and Geneve
// packets (geneve-options section 4), and a gateway with another key gets nothing into the logs.
// Topology in support/geneve-lab.ts:
//
//   client (IPv6 only) <--veth--> gateway (nat64-gateway --transport auto) <--veth--> server  203.0.113.2 (receiver --transport handoff)
//   2001:db8:1::2                  prefix 2001:db8:64::/96, pool4 198.51.100.1 <--veth--> server2 192.0.2.2  (receiver --transport geneve)

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESSES, GATEWAY_MAIN, gatewayUnbuiltReason, startGateway, type RunningGateway } from './support/gateway-lab.js';
import { gatewayHosts, receiverCounters, receiverUnbuiltReason, startReceiverIn, type HttpServer, type RunningReceiver } from './support/handoff-lab.js';
import { SECOND, createGeneveTopology, curlTo, startHttpServerIn, type GeneveTopology } from './support/geneve-lab.js';

const unavailable = labUnavailableReason(['curl']) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`Shared-key end-to-end tests skipped: ${unavailable}`);

const SHARED_KEY = '5f0c'.repeat(16);
const OTHER_KEY = 'a1b2'.repeat(16);

describe.skipIf(unavailable)('a shared key on both ends (end to end)', () => {
  let t: GeneveTopology;
  let dir: string;
  let control: string;
  let gateway: RunningGateway | undefined;
  let handoffReceiver: RunningReceiver;
  let geneveReceiver: RunningReceiver;
  const servers: HttpServer[] = [];

  const startGatewayWithKey = (keyFile: string) =>
    startGateway(t, ['--config', join(dir, 'gateway.json'), '--prefix', ADDRESSES.prefix, '--pool4', ADDRESSES.pool4, '--control', control, '--transport', 'auto', '--handoff-key-file', keyFile]);
  const geneveCounters = () => receiverCounters({ ...t, server: t.server2 }, geneveReceiver);

  beforeAll(async () => {
    t = createGeneveTopology('key');
    dir = mkdtempSync(join(tmpdir(), 'n64-shared-key-'));
    mkdirSync(join(dir, 'one'));
    mkdirSync(join(dir, 'two'));
    control = join(dir, 'gateway.sock');
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify({ statsInterval: '0s' }));
    writeFileSync(join(dir, 'shared.key'), `${SHARED_KEY}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'other.key'), `${OTHER_KEY}\n`, { mode: 0o600 });
    const keyed = ['--key-file', join(dir, 'shared.key')];
    handoffReceiver = await startReceiverIn(t.server, ADDRESSES.server, join(dir, 'one'), 'handoff', keyed);
    geneveReceiver = await startReceiverIn(t.server2, SECOND.server, join(dir, 'two'), 'geneve', keyed);
    servers.push(await startHttpServerIn(t.server, ADDRESSES.server), await startHttpServerIn(t.server2, SECOND.server));
    gateway = await startGatewayWithKey(join(dir, 'shared.key'));
  });

  afterAll(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    for (const receiver of [handoffReceiver, geneveReceiver]) if (receiver !== undefined && receiver.child.exitCode === null) await receiver.stop();
    for (const server of servers) server.child.kill();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('authenticates handoff messages and Geneve packets with the key: both receivers log their clients', async () => {
    for (const [six, receiver, http] of [
      [ADDRESSES.serverSix, handoffReceiver, servers[0]!],
      [SECOND.serverSix, geneveReceiver, servers[1]!],
    ] as const) {
      const result = await curlTo(t, six);
      expect(result.code).toBe(0);
      const port = http.peers.at(-1)!.split(':')[1];
      await waitFor(`the Created line on ${six}`, () => receiver.lines().includes(`Created ${ADDRESSES.pool4}:${port} [${ADDRESSES.client}]:${result.localPort}`));
      expect(receiver.lines()[0]).toBe(`Initialized ${ADDRESSES.pool4}`);
    }
    // The second host is reached through an authenticated tunnel, not by falling back to messages.
    const hosts = (await gatewayHosts(GATEWAY_MAIN, control)).hosts;
    expect(hosts.find((row) => row['host'] === SECOND.server)).toMatchObject({ transport: 'geneve', state: 'authoritative' });
    expect(hosts.find((row) => row['host'] === ADDRESSES.server)).toMatchObject({ transport: 'handoff', state: 'authoritative' });
    expect((await receiverCounters(t, handoffReceiver))['authenticationFailed'] ?? 0).toBe(0);
    const tunnel = await geneveCounters();
    expect(tunnel['geneveDelivered']).toBeGreaterThanOrEqual(1);
    expect(Object.entries(tunnel).filter(([name, value]) => name.startsWith('geneveDrop.') && value > 0)).toEqual([]);
  });

  it('gives a gateway with another key no line in either log, while its clients get through as through a plain NAT64', async () => {
    await gateway!.stop();
    gateway = undefined;
    const logged = [handoffReceiver.lines().length, geneveReceiver.lines().length];
    gateway = await startGatewayWithKey(join(dir, 'other.key'));
    for (const [six, http] of [
      [ADDRESSES.serverSix, servers[0]!],
      [SECOND.serverSix, servers[1]!],
    ] as const) {
      const result = await curlTo(t, six);
      expect(result.code).toBe(0);
      expect(result.body).toBe(http.peers.at(-1));
      expect(result.body.split(':')[0]).toBe(ADDRESSES.pool4);
    }
    // Both receivers heard the new gateway epoch and refused it on its tag.
    await waitFor('the handoff receiver refusing a tag', async () => ((await receiverCounters(t, handoffReceiver))['authenticationFailed'] ?? 0) > 0);
    await waitFor('the Geneve receiver refusing a tag', async () => ((await geneveCounters())['geneveDrop.auth-failed'] ?? 0) > 0);
    expect([handoffReceiver.lines().length, geneveReceiver.lines().length]).toEqual(logged);
    const hosts = (await gatewayHosts(GATEWAY_MAIN, control)).hosts;
    for (const host of [ADDRESSES.server, SECOND.server]) expect(hosts.find((row) => row['host'] === host)?.['state']).not.toBe('authoritative');
  });
});
