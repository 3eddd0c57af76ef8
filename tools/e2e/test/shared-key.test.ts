// End to end: a key shared by the operator and the server admins (`--handoff-key-file` on the gateway,
// `--key-file` on the receivers) authenticates handoff messages (handoff-v1 section 6.7) and Geneve
// packets (geneve-options section 4), and a gateway with another key gets nothing into the logs.
// Topology in support/geneve-lab.ts:
//
//   client (IPv6 only) <--veth--> gateway (nat64-gateway --transport auto) <--veth--> server  203.0.113.2 (receiver --transport handoff)
//   2001:db8:1::2                  prefix 2001:db8:64::/96, pool4 198.51.100.1 <--veth--> server2 192.0.2.2  (receiver --transport geneve)

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESSES, gatewayUnbuiltReason } from './support/gateway-lab.js';
import { curlAndExpectLogged, curlTo, receiverCounters, receiverUnbuiltReason } from './support/handoff-lab.js';
import { SECOND, expectBothLogTheirClients, startSideBySide, type SideBySide } from './support/geneve-lab.js';

const unavailable = labUnavailableReason(['curl']) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`Shared-key end-to-end tests skipped: ${unavailable}`);

const SHARED_KEY = '5f0c'.repeat(16);
const OTHER_KEY = 'a1b2'.repeat(16);

describe.skipIf(unavailable)('a shared key on both ends (end to end)', () => {
  let lab: SideBySide;
  let keys: string;

  const keyFile = (name: string) => join(keys, name);
  const geneveCounters = () => receiverCounters({ ...lab.t, server: lab.t.server2 }, lab.geneveReceiver);

  beforeAll(async () => {
    keys = mkdtempSync(join(tmpdir(), 'n64-keys-'));
    writeFileSync(keyFile('shared.key'), `${SHARED_KEY}\n`, { mode: 0o600 });
    writeFileSync(keyFile('other.key'), `${OTHER_KEY}\n`, { mode: 0o600 });
    lab = await startSideBySide('key', ['--key-file', keyFile('shared.key')]);
    await lab.startGateway(['--handoff-key-file', keyFile('shared.key')]);
  });

  afterAll(async () => {
    await lab?.stop();
    if (keys !== undefined) rmSync(keys, { recursive: true, force: true });
  });

  it('authenticates handoff messages and Geneve packets with the key: both receivers log their clients', async () => {
    await expectBothLogTheirClients(lab);
    // The second host is reached through an authenticated tunnel, not by falling back to messages.
    expect(await lab.hostRow(SECOND.server)).toMatchObject({ transport: 'geneve', state: 'authoritative' });
    expect(await lab.hostRow(ADDRESSES.server)).toMatchObject({ transport: 'handoff', state: 'authoritative' });
    expect((await receiverCounters(lab.t, lab.handoffReceiver))['authenticationFailed'] ?? 0).toBe(0);
    // The first curl may leave before the tunnel is up (its mapping is announced afterwards); a second
    // one, now that the host is authoritative over Geneve, runs through the tunnel from its SYN on.
    await curlAndExpectLogged(lab.t, lab.servers[1]!, lab.geneveReceiver, SECOND.serverSix);
    const tunnel = await geneveCounters();
    expect(tunnel['geneveDelivered']).toBeGreaterThanOrEqual(1);
    // Mode auto offers NAT64 bypass to every host; a receiver that does not run bypass drops the offers
    // (Protocol Type Ethernet) as bad-protocol, and nothing else.
    expect(Object.entries(tunnel).filter(([name, value]) => name.startsWith('geneveDrop.') && name !== 'geneveDrop.bad-protocol' && value > 0)).toEqual([]);
  });

  it('gives a gateway with another key no line in either log, while its clients get through as through a plain NAT64', async () => {
    await lab.gateway!.stop();
    const logged = [lab.handoffReceiver.lines().length, lab.geneveReceiver.lines().length];
    await lab.startGateway(['--handoff-key-file', keyFile('other.key')]);
    for (const [six, http] of [
      [ADDRESSES.serverSix, lab.servers[0]!],
      [SECOND.serverSix, lab.servers[1]!],
    ] as const) {
      const result = await curlTo(lab.t, six);
      expect(result.code).toBe(0);
      expect(result.body).toBe(http.peers.at(-1));
      expect(result.body.split(':')[0]).toBe(ADDRESSES.pool4);
    }
    // Both receivers heard the new gateway epoch and refused it on its tag.
    await waitFor('the handoff receiver refusing a tag', async () => ((await receiverCounters(lab.t, lab.handoffReceiver))['authenticationFailed'] ?? 0) > 0);
    await waitFor('the Geneve receiver refusing a tag', async () => ((await geneveCounters())['geneveDrop.auth-failed'] ?? 0) > 0);
    expect([lab.handoffReceiver.lines().length, lab.geneveReceiver.lines().length]).toEqual(logged);
    for (const host of [ADDRESSES.server, SECOND.server]) expect((await lab.hostRow(host))?.['state']).not.toBe('authoritative');
  });
});
