// End to end: the built nat64-gateway hands its connection table to the built nat64-receiver on the
// IPv4 server, across network namespaces (topology in support/handoff-lab.ts):
//
//   client (IPv6 only) <--veth--> gateway (TUN "nat64", nat64-gateway --handoff full) <--veth--> server (IPv4 only)
//   2001:db8:1::2                  prefix 2001:db8:64::/96, pool4 198.51.100.1           203.0.113.2: nat64-receiver,
//                                                                                        HTTP 8080, TCP 9000
//
// Real programs only: curl, Node HTTP and TCP servers and clients, the gateway's and the receiver's CLIs.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANDOFF_PORT, HANDOFF_VERSION, MessageType, datagram } from '@nat64/handoff-codec';
import { labUnavailableReason, waitFor } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDRESSES,
  GATEWAY_MAIN,
  createTopology,
  gatewayCli,
  gatewayUnbuiltReason,
  type RunningGateway,
  type Topology,
  startLabGateway,
} from './support/gateway-lab.js';
import {
  curl,
  curlAndExpectLogged,
  gatewayCounters,
  receiverCli,
  receiverCounters,
  receiverUnbuiltReason,
  startHttpServer,
  startConversation,
  startReceiver,
  waitForQuietPeer,
  type HttpServer,
  type RunningReceiver,
} from './support/handoff-lab.js';

const unavailable = labUnavailableReason(['curl']) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`handoff end-to-end tests skipped: ${unavailable}`);

/** Handed-off TCP sessions leave the gateway's cache after this long idle. */
const CACHE_SECONDS = 3;

describe.skipIf(unavailable)('handoff with a receiver (end to end)', () => {
  let t: Topology;
  let dir: string;
  let control: string;
  let gateway: RunningGateway;
  let receiver: RunningReceiver;
  let http: HttpServer;

  /** The gateway's UDP mappings toward the server's port 9999 ("nat" -> "client"), all or only those handed off. */
  const udpMappings = async (handedOffOnly: boolean): Promise<Map<string, string>> => {
    const listed = await gatewayCli(['sessions', '--control', control, '--protocol', 'udp', '--server', ADDRESSES.server, '--json']);
    const rows = listed.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { nat: string; client: string; server: string; handedOff: boolean });
    return new Map(rows.filter((row) => row.server.endsWith(':9999') && (row.handedOff || !handedOffOnly)).map((row) => [row.nat, row.client]));
  };
  /** The receiver's table from its database ("nat" -> "client"), read with `nat64-receiver dump`. */
  const dumped = async (): Promise<Map<string, string>> => {
    const lines = (await receiverCli(t, ['dump', '--db', receiver.database])).split('\n').filter(Boolean);
    return new Map(
      lines
        .map((line) => line.slice(27).split(' '))
        .filter((words) => words[0] === 'Created')
        .map((words) => [words[1]!, words[2]!]),
    );
  };

  const gatewayArgs = () => ['--config', join(dir, 'gateway.json')];

  beforeAll(async () => {
    t = createTopology('hor');
    dir = mkdtempSync(join(tmpdir(), 'n64-handoff-e2e-'));
    control = join(dir, 'gateway.sock');
    writeFileSync(
      join(dir, 'gateway.json'),
      JSON.stringify({ timeouts: { tcpEstablished: `${CACHE_SECONDS}s`, allowBelowMinimum: true }, statsInterval: '0s' }),
    );
    receiver = await startReceiver(t, dir);
    http = await startHttpServer(t);
    gateway = await startLabGateway(t, control, gatewayArgs());
  });

  afterAll(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('logs the real IPv6 client and port of a curl, under the NAT port the HTTP server saw', async () => {
    const { result, natPort: port } = await curlAndExpectLogged(t, http, receiver);
    const lookup = await receiverCli(t, ['lookup', `${ADDRESSES.pool4}:${port}`, '--db', receiver.database, '--proto', 'tcp']);
    expect(lookup).toContain(`[${ADDRESSES.client}]:${result.localPort}`);
  });

  it('brings an idle TCP connection back after it left the gateway: the server speaks first, then the client answers', async () => {
    const conversation = await startConversation(t);
    const { natPort } = conversation;
    try {
      await waitFor('the hand-off of the connection', async () => (await gatewayCounters(GATEWAY_MAIN, control))['table.sessionsHandedOff']! >= 1);
      // Idle past the cache lifetime: the gateway evicts the session (and its BIB entry) but says nothing.
      await waitFor(
        'the eviction',
        async () => {
          const sessions = await gatewayCli(['sessions', '--control', control, '--protocol', 'tcp', '--json']);
          return !sessions.stdout.includes(`"${ADDRESSES.pool4}:${natPort}"`);
        },
        (CACHE_SECONDS + 5) * 1000,
      );
      const before = await gatewayCounters(GATEWAY_MAIN, control);
      expect(receiver.lines().some((line) => line.startsWith(`Deleted ${ADDRESSES.pool4}:${natPort} `))).toBe(false);
      await conversation.say('ping');
      const after = await gatewayCounters(GATEWAY_MAIN, control);
      expect(after['handoff.missesQueried']! - before['handoff.missesQueried']!).toBeGreaterThanOrEqual(1);
      expect(after['handoff.missesRestored']! - before['handoff.missesRestored']!).toBeGreaterThanOrEqual(1);
      expect(after['table.sessionsRestored']! - before['table.sessionsRestored']!).toBeGreaterThanOrEqual(1);
      expect(after['agent.answersFound']! - before['agent.answersFound']!).toBeGreaterThanOrEqual(1);
    } finally {
      conversation.close();
    }
  });

  it('loses no acknowledged entry when the receiver is killed -9 under traffic, and carries on once it is back', async () => {
    const flows = 1500;
    let progress = 0;
    const generator = t.client.spawn('node', [
      '-e',
      `const dgram = require('dgram');
       let started = 0;
       let sent = 0;
       const one = () => {
         const s = dgram.createSocket('udp6');
         s.bind(20000 + started++, () => s.send('flow', 9999, '${ADDRESSES.serverSix}', () => {
           s.close();
           if (++sent % 100 === 0) console.log('sent ' + sent);
         }));
         if (started < ${flows}) setTimeout(one, 2);
       };
       one();`,
    ]);
    generator.stdout!.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.startsWith('sent ')) progress = Number(line.slice(5));
    });
    await waitFor('300 flows', () => progress >= 300, 15_000);
    await waitFor('the first hand-offs', async () => (await udpMappings(true)).size > 0);
    await receiver.kill();
    // Whatever the gateway saw acknowledged by then is in the database, although the receiver died mid-stream.
    const handedOff = await udpMappings(true);
    expect(handedOff.size).toBeGreaterThan(0);
    const stored = await dumped();
    for (const [nat, client] of handedOff) expect(stored.get(nat), `${nat} acknowledged, then lost`).toBe(client);
    await waitFor('800 flows', () => progress >= 800, 15_000);
    receiver = await startReceiver(t, dir);
    await waitFor('every flow', () => progress >= flows, 20_000);
    await waitFor('a session for every flow', async () => (await udpMappings(false)).size === flows);
    await waitForQuietPeer(GATEWAY_MAIN, control, 'authoritative', 30_000);
    const live = await udpMappings(false);
    const final = await dumped();
    expect(live.size).toBe(flows);
    const missing = [...live].filter(([nat, client]) => final.get(nat) !== client);
    expect(missing).toEqual([]);
    const created = receiver.lines().filter((line) => line.startsWith('Created '));
    expect(new Set(created).size).toBe(created.length);
    const after = await curl(t);
    expect(after.code).toBe(0);
    await waitFor('the Created line of a new connection', () => receiver.lines().some((line) => line.endsWith(`[${ADDRESSES.client}]:${after.localPort}`)));
  });

  it('starts a new epoch when the gateway restarts: the receiver initializes it again and old flows come back through QUERY', async () => {
    const conversation = await startConversation(t, 9001);
    try {
      const initialized = () => receiver.lines().filter((line) => line === `Initialized ${ADDRESSES.pool4}`).length;
      const before = initialized();
      await waitForQuietPeer(GATEWAY_MAIN, control, 'authoritative');
      expect(await gateway.stop()).toBe(0);
      gateway = await startLabGateway(t, control, gatewayArgs());
      await conversation.say('ping', 15_000);
      // The Initialized line follows the commit of the HELLO; the QUERY's answer need not wait for it.
      await waitFor('the new epoch in the log', () => initialized() === before + 1, 5_000);
      expect(initialized()).toBe(before + 1);
      const counters = await gatewayCounters(GATEWAY_MAIN, control);
      expect(counters['handoff.missesAwaitingHost']).toBeGreaterThanOrEqual(1);
      expect(counters['handoff.missesRestored']).toBeGreaterThanOrEqual(1);
    } finally {
      conversation.close();
    }
  });

  it('leaves no log line for a CREATED forged from the server namespace without the HELLO exchange', async () => {
    const forger = '203.0.113.66';
    t.server.ip('address', 'add', `${forger}/32`, 'dev', 'lo');
    // A CREATED as a gateway at 203.0.113.66 would send it, with a cookie the receiver never gave.
    const forged = {
      type: MessageType.CREATED,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch: 0x0123456789abcdefn,
      cookie: 0x8899aabbccddeeffn,
      sequence: 1,
      entries: [
        {
          protocol: 6,
          reason: 0,
          natAddress: 0xcb007142,
          natPort: 4444,
          clientAddress: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x66, 0x66]),
          clientPort: 5555,
          serverAddress: 0xcb007102,
          serverPort: 80,
          time: Date.now() * 1000,
        },
      ],
    } as const;
    const bytes = Buffer.alloc(datagram.encodingLength(forged));
    datagram.encode(forged, bytes, 0);
    const before = receiver.lines().length;
    const send = await t.server.run('node', [
      '-e',
      `const s = require('dgram').createSocket('udp4');
       s.bind({ address: '${forger}', port: ${HANDOFF_PORT} }, () => {
         const b = Buffer.from('${bytes.toString('hex')}', 'hex');
         let n = 0;
         const next = () => s.send(b, ${HANDOFF_PORT}, '${ADDRESSES.server}', () => (++n < 5 ? next() : s.close()));
         next();
       });`,
    ]);
    expect(send.code, send.stderr).toBe(0);
    await waitFor('the receiver to count the forgeries', async () => (await receiverCounters(t, receiver))['badCookie']! >= 5);
    expect(receiver.lines().slice(before)).toEqual([]);
    // Earlier tests' connections may have drawn NAT port 4444, so look for the forged client instead.
    expect(receiver.lines().filter((line) => line.includes(forger) || line.includes('[2001:db8::6666]:5555'))).toEqual([]);
  });
});
