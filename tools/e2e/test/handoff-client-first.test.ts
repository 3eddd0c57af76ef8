// End to end: connections handed off and evicted from the gateway's cache come back when their
// *client* speaks first (CLIENT-QUERY, handoff v1 section 5.12), across network namespaces
// (topology in support/handoff-lab.ts):
//
//   client (IPv6 only) <--veth--> gateway (TUN "nat64", nat64-gateway --handoff full) <--veth--> server (IPv4 only)
//   2001:db8:1::2                  prefix 2001:db8:64::/96, pool4 198.51.100.1           203.0.113.2: nat64-receiver,
//                                  TCP cache 3 s, UDP 2 s                                 TCP 9100-9101, UDP echo 9998
//
// Real programs only: Node TCP and UDP clients and servers, the gateway's and the receiver's CLIs.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDRESSES,
  GATEWAY_MAIN,
  createTopology,
  gatewayCli,
  gatewayUnbuiltReason,
  startGateway,
  type RunningGateway,
  type Topology,
  startLabGateway,
} from './support/gateway-lab.js';
import {
  gatewayCounters,
  receiverCounters,
  receiverUnbuiltReason,
  startClientConversation,
  startReceiver,
  startUdpFlow,
  waitForQuietPeer,
  type RunningReceiver,
} from './support/handoff-lab.js';

const unavailable = labUnavailableReason([]) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`client-first end-to-end tests skipped: ${unavailable}`);

/** Handed-off sessions leave the gateway's cache after this long idle: TCP, UDP. */
const TCP_CACHE_SECONDS = 3;
const UDP_CACHE_SECONDS = 2;

describe.skipIf(unavailable)('idle connections whose client speaks first (end to end)', () => {
  let t: Topology;
  let dir: string;
  let control: string;
  let gateway: RunningGateway;
  let receiver: RunningReceiver;

  const gatewayArgs = () => ['--config', join(dir, 'gateway.json')];
  const createdLines = () => receiver.lines().filter((line) => line.startsWith('Created ')).length;
  const sessionsOf = async (protocol: string) => (await gatewayCli(['sessions', '--control', control, '--protocol', protocol, '--json'])).stdout;
  /** Waits until the gateway's cache no longer holds a session on the NAT port. */
  const evicted = (protocol: string, natPort: string, seconds: number) =>
    waitFor(
      `the eviction of ${protocol} ${natPort}`,
      async () => !(await sessionsOf(protocol)).includes(`"${ADDRESSES.pool4}:${natPort}"`),
      (seconds + 8) * 1000,
    );
  const handedOff = (protocol: string, natPort: string) =>
    waitFor(`the hand-off of ${protocol} ${natPort}`, async () =>
      (await sessionsOf(protocol))
        .split('\n')
        .filter(Boolean)
        .some((line) => {
          const row = JSON.parse(line) as { nat: string; handedOff: boolean };
          return row.nat === `${ADDRESSES.pool4}:${natPort}` && row.handedOff;
        }),
    );

  beforeAll(async () => {
    t = createTopology('hcf');
    dir = mkdtempSync(join(tmpdir(), 'n64-client-first-'));
    control = join(dir, 'gateway.sock');
    writeFileSync(
      join(dir, 'gateway.json'),
      JSON.stringify({ timeouts: { tcpEstablished: `${TCP_CACHE_SECONDS}s`, udp: `${UDP_CACHE_SECONDS}s`, allowBelowMinimum: true }, statsInterval: '0s' }),
    );
    receiver = await startReceiver(t, dir);
    gateway = await startLabGateway(t, control, gatewayArgs());
  });

  afterAll(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    await receiver?.stop();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('brings an evicted TCP connection back on its NAT port when the client speaks first, data both ways, no new Created', async () => {
    const conversation = await startClientConversation(t, 9100);
    try {
      await conversation.ask('hello');
      await handedOff('tcp', conversation.natPort);
      await evicted('tcp', conversation.natPort, TCP_CACHE_SECONDS);
      const created = createdLines();
      const before = await gatewayCounters(GATEWAY_MAIN, control);
      // The server checks that the words come from the peer it accepted, on the connection it accepted.
      await conversation.ask('again');
      await conversation.ask('more');
      const after = await gatewayCounters(GATEWAY_MAIN, control);
      expect(after['handoff.clientMissesQueried']! - before['handoff.clientMissesQueried']!).toBe(1);
      expect(after['handoff.clientMissesRestored']! - before['handoff.clientMissesRestored']!).toBeGreaterThanOrEqual(1);
      expect(after['agent.clientQueriesSent']! - before['agent.clientQueriesSent']!).toBe(1);
      expect(after['handoff.clientRestoreConflicts']).toBe(0);
      expect(conversation.accepted()).toBe(1);
      expect(createdLines()).toBe(created);
      expect((await receiverCounters(t, receiver))['clientQueriesAnswered']).toBeGreaterThanOrEqual(1);
    } finally {
      conversation.close();
    }
  });

  it('brings an evicted UDP flow back: the next datagram of the client reaches the server from the same NAT address and port', async () => {
    const flow = await startUdpFlow(t, 9998);
    try {
      const first = await flow.send('one');
      const natPort = first.split(':')[1]!;
      expect(first.split(':')[0]).toBe(ADDRESSES.pool4);
      await handedOff('udp', natPort);
      await evicted('udp', natPort, UDP_CACHE_SECONDS);
      const created = createdLines();
      const before = await gatewayCounters(GATEWAY_MAIN, control);
      expect(before['handoff.evictedFlows']).toBeGreaterThanOrEqual(1);
      expect(await flow.send('two')).toBe(first);
      expect(await flow.send('three')).toBe(first);
      const after = await gatewayCounters(GATEWAY_MAIN, control);
      expect(after['handoff.clientMissesRestored']! - before['handoff.clientMissesRestored']!).toBe(1);
      expect(after['handoff.clientMissesNotFound']! - before['handoff.clientMissesNotFound']!).toBe(0);
      expect(createdLines()).toBe(created);
    } finally {
      flow.close();
    }
  });

  it('brings a TCP connection back after a gateway restart (new epoch) when its client speaks first', async () => {
    const conversation = await startClientConversation(t, 9101);
    try {
      await conversation.ask('before');
      await handedOff('tcp', conversation.natPort);
      await waitForQuietPeer(GATEWAY_MAIN, control, 'authoritative');
      const initialized = receiver.lines().filter((line) => line === `Initialized ${ADDRESSES.pool4}`).length;
      const created = createdLines();
      expect(await gateway.stop()).toBe(0);
      gateway = await startLabGateway(t, control, gatewayArgs());
      // The first segment starts the HELLO exchange with the host; TCP's retransmission is asked about.
      await conversation.ask('after', 20_000);
      await conversation.ask('still');
      const counters = await gatewayCounters(GATEWAY_MAIN, control);
      expect(counters['handoff.clientMissesAwaitingHost']).toBeGreaterThanOrEqual(1);
      expect(counters['handoff.clientMissesRestored']).toBeGreaterThanOrEqual(1);
      expect(conversation.accepted()).toBe(1);
      expect(receiver.lines().filter((line) => line === `Initialized ${ADDRESSES.pool4}`).length).toBe(initialized + 1);
      expect(createdLines()).toBe(created);
    } finally {
      conversation.close();
    }
  });

  it('answers the client of a connection whose NAT port went to another client with a TCP RST, counted', async () => {
    // One TCP port on the pool4 address, so that the next connection takes the evicted one's port.
    const onePort = join(dir, 'one-port.json');
    writeFileSync(
      onePort,
      JSON.stringify({
        pool4: [{ address: ADDRESSES.pool4, tcp: '2000-2000' }],
        timeouts: { tcpEstablished: `${TCP_CACHE_SECONDS}s`, allowBelowMinimum: true },
        statsInterval: '0s',
      }),
    );
    expect(await gateway.stop()).toBe(0);
    gateway = await startGateway(t, ['--config', onePort, '--prefix', ADDRESSES.prefix, '--control', control]);
    const old = await startClientConversation(t, 9102);
    let next: Awaited<ReturnType<typeof startClientConversation>> | undefined;
    try {
      expect(old.natPort).toBe('2000');
      await old.ask('first');
      await handedOff('tcp', '2000');
      await evicted('tcp', '2000', TCP_CACHE_SECONDS);
      next = await startClientConversation(t, 9103);
      expect(next.natPort).toBe('2000');
      const replaced = `Deleted ${ADDRESSES.pool4}:2000 [${ADDRESSES.client}]:${old.clientPort}`;
      await waitFor('the receiver to end the old connection', () => receiver.lines().some((line) => line.startsWith(replaced)));
      expect(await old.askAndFail('late')).toBe('ECONNRESET');
      const counters = await gatewayCounters(GATEWAY_MAIN, control);
      expect(counters['handoff.clientConnectionsGone']).toBe(1);
      expect(counters['handoff.clientResetsSent']).toBe(1);
      expect(counters['gateway.tcpResetsSent']).toBe(1);
      // The new owner of the port is not disturbed.
      await next.ask('second');
    } finally {
      old.close();
      next?.close();
    }
  });
});
