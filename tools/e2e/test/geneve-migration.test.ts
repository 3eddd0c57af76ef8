// End to end: one nat64-gateway in `--transport auto` and two IPv4 hosts, one receiver speaking
// handoff messages and one Geneve, side by side; then a host moves from handoff messages to Geneve
// (its receiver restarted with the other flag) under an open TCP connection. Topology in
// support/geneve-lab.ts:
//
//   client (IPv6 only) <--veth--> gateway (nat64-gateway --transport auto) <--veth--> server  203.0.113.2 (receiver --transport handoff)
//   2001:db8:1::2                  prefix 2001:db8:64::/96, pool4 198.51.100.1 <--veth--> server2 192.0.2.2  (receiver --transport geneve)

import { join } from 'node:path';
import { labUnavailableReason, waitFor } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESSES, GATEWAY_MAIN, gatewayUnbuiltReason } from './support/gateway-lab.js';
import {
  curlAndExpectLogged,
  curlTo,
  gatewayCounters,
  receiverCounters,
  receiverUnbuiltReason,
  startConversation,
  startReceiverIn,
} from './support/handoff-lab.js';
import { SECOND, expectBothLogTheirClients, startSideBySide, type SideBySide } from './support/geneve-lab.js';

const unavailable = labUnavailableReason(['curl']) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`Geneve migration end-to-end tests skipped: ${unavailable}`);

describe.skipIf(unavailable)('geneve and handoff side by side (end to end)', () => {
  let lab: SideBySide;

  beforeAll(async () => {
    lab = await startSideBySide('gmi');
    await lab.startGateway();
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('reaches a handoff receiver with messages and a Geneve receiver through a tunnel, and both log their clients', async () => {
    await expectBothLogTheirClients(lab);
    const { t } = lab;
    expect(await lab.hostRow(ADDRESSES.server)).toMatchObject({ transport: 'handoff', announced: ['handoff'] });
    expect(await lab.hostRow(SECOND.server)).toMatchObject({ transport: 'geneve', announced: ['geneve'] });
    expect((await receiverCounters(t, lab.handoffReceiver))['geneveDelivered'] ?? 0).toBe(0);
    // The first connection to a host may finish before the gateway learns that the host speaks Geneve
    // (mode auto); one made once it has goes through the tunnel.
    await curlAndExpectLogged(t, lab.servers[1]!, lab.geneveReceiver, SECOND.serverSix);
    const geneveCounters = await receiverCounters({ ...t, server: t.server2 }, lab.geneveReceiver);
    expect(geneveCounters['geneveDelivered']).toBeGreaterThanOrEqual(1);
  });

  it('keeps an open TCP connection working when its host moves from handoff messages to Geneve', async () => {
    const { t, control } = lab;
    const conversation = await startConversation(t);
    const { natPort, clientPort } = conversation;
    try {
      await conversation.say('before');
      await waitFor('the Created line of the connection', () =>
        lab.handoffReceiver.lines().includes(`Created ${ADDRESSES.pool4}:${natPort} [${ADDRESSES.client}]:${clientPort}`),
      );

      // The admin restarts the receiver with the other flag, on the same database.
      await lab.handoffReceiver.stop();
      lab.handoffReceiver = await startReceiverIn(t.server, ADDRESSES.server, join(lab.dir, 'one'), 'geneve');
      // The next mapping toward the host finds 62863 closed; the gateway asks both ways and moves the host.
      expect((await curlTo(t, ADDRESSES.serverSix)).code).toBe(0);
      await waitFor('the host on Geneve', async () => (await lab.hostRow(ADDRESSES.server))?.['transport'] === 'geneve', 15_000);
      const before = await gatewayCounters(GATEWAY_MAIN, control);

      await conversation.say('after');
      const after = await gatewayCounters(GATEWAY_MAIN, control);
      // The old connection's packets toward the host now travel in the tunnel.
      expect(after['geneve.packetsEncapsulated']! - before['geneve.packetsEncapsulated']!).toBeGreaterThanOrEqual(1);
      expect(after['geneve.switchedToGeneve']).toBeGreaterThanOrEqual(2);
      expect((await receiverCounters(t, lab.handoffReceiver))['geneveDelivered']).toBeGreaterThanOrEqual(1);
      // The log still knows the connection's client, and no Deleted came of the move.
      expect(lab.handoffReceiver.lines().some((line) => line.startsWith(`Deleted ${ADDRESSES.pool4}:${natPort} `))).toBe(false);
    } finally {
      conversation.close();
    }
  });
});
