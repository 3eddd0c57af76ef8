// End to end: the gateway's handoff modes as a host sees them on the wire, across network namespaces
// (topology in support/handoff-lab.ts, the receiver started only where a test needs it):
//
//   client (IPv6 only) <--veth--> gateway (TUN "nat64", nat64-gateway --handoff MODE) <--veth--> server (IPv4 only)
//   2001:db8:1::2                  prefix 2001:db8:64::/96, pool4 198.51.100.1           203.0.113.2: HTTP 8080,
//                                                                                        tshark -f 'udp port 62863'
//
// Real programs only: curl, a Node HTTP server, tshark, nat64-receiver and the gateway's CLI.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor } from '@nat64/netlab';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
import { capture, curl, gatewayCounters, gatewayHosts, receiverUnbuiltReason, startHttpServer, startReceiver, type HttpServer } from './support/handoff-lab.js';

const unavailable = labUnavailableReason(['curl', 'tshark', 'bash']) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`handoff mode end-to-end tests skipped: ${unavailable}`);

/** A handoff datagram from the NAT address to the host, as capture() lists it ("... 36": the UDP payload length). */
const HANDOFF_LINE = `${ADDRESSES.pool4}:62863 > ${ADDRESSES.server}:62863 `;

describe.skipIf(unavailable)('handoff modes (end to end)', () => {
  let t: Topology;
  let dir: string;
  let control: string;
  let gateway: RunningGateway | undefined;
  let http: HttpServer;

  async function start(mode: string): Promise<void> {
    gateway = await startLabGateway(t, control, ['--config', join(dir, 'gateway.json'), '--handoff', mode]);
  }

  beforeAll(async () => {
    t = createTopology('hom');
    dir = mkdtempSync(join(tmpdir(), 'n64-handoff-modes-'));
    control = join(dir, 'gateway.sock');
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify({ timeouts: { udp: '2s', allowBelowMinimum: true }, statsInterval: '0s' }));
    http = await startHttpServer(t);
  });

  afterEach(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    gateway = undefined;
  });

  afterAll(() => {
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('works as a plain NAT64 toward a host without a receiver, which sees the handoff datagrams arrive on port 62863', async () => {
    await start('full');
    const wire = await capture(t.server, dir, 'full', 'udp port 62863');
    const result = await curl(t);
    expect(result.code).toBe(0);
    expect(result.body).toBe(http.peers.at(-1));
    await waitFor('the host to answer port unreachable', async () => (await gatewayCounters(GATEWAY_MAIN, control))['handoff.portUnreachable']! >= 1);
    const lines = await wire.stop();
    // At least the HELLO (36 octets, section 5.4) and the CREATED of the curl's mapping (72).
    expect(lines).toContain(`${HANDOFF_LINE}36`);
    expect(lines).toContain(`${HANDOFF_LINE}72`);
    const { hosts } = await gatewayHosts(GATEWAY_MAIN, control);
    expect(hosts).toEqual([expect.objectContaining({ nat: ADDRESSES.pool4, host: ADDRESSES.server, state: 'port-closed', handedOff: 0 })]);
    // Nothing per packet in the log: the host's ICMP errors are counted, not logged.
    expect(gateway!.log.filter((line) => /unreachable/i.test(line))).toEqual([]);
  });

  it('sends nothing on port 62863 in mode off', async () => {
    await start('off');
    const wire = await capture(t.server, dir, 'off', 'udp port 62863');
    expect((await curl(t)).code).toBe(0);
    t.client.exec('bash', ['-c', `echo probe > /dev/udp/${ADDRESSES.serverSix}/9999`]);
    // Long enough for a HELLO, a batch flush and a retry, had any been due.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await wire.stop()).toEqual([]);
    expect((await gatewayHosts(GATEWAY_MAIN, control)).mode).toBe('off');
    const counters = await gatewayCounters(GATEWAY_MAIN, control);
    expect(Object.keys(counters).some((name) => name.startsWith('handoff.') || name.startsWith('agent.'))).toBe(false);
  });

  it('reports mappings in mode announce but never hands authority: sessions expire as usual', async () => {
    const receiverDir = mkdtempSync(join(dir, 'receiver-'));
    const receiver = await startReceiver(t, receiverDir);
    try {
      await start('announce');
      t.client.exec('bash', ['-c', `exec 3<>/dev/udp/${ADDRESSES.serverSix}/9999; echo probe >&3; sleep 0.3`]);
      const listed = await gatewayCli(['sessions', '--control', control, '--protocol', 'udp', '--server', ADDRESSES.server, '--json']);
      const row = JSON.parse(listed.stdout.trim().split('\n')[0]!) as { nat: string; client: string };
      const created = `Created ${row.nat} ${row.client}`;
      await waitFor('the Created line', () => receiver.lines().includes(created));
      const { hosts } = await gatewayHosts(GATEWAY_MAIN, control);
      expect(hosts).toEqual([expect.objectContaining({ host: ADDRESSES.server, state: 'acknowledging', handedOff: 0 })]);
      await waitFor(
        'the session to time out and the receiver to log it',
        () => receiver.lines().some((line) => line.startsWith(`Deleted ${row.nat} ${row.client}`)),
        8_000,
      );
      const counters = await gatewayCounters(GATEWAY_MAIN, control);
      expect(counters['table.sessionsTimedOut']).toBeGreaterThanOrEqual(1);
      expect(counters['table.sessionsEvicted']).toBe(0);
      expect(counters['agent.entriesHandedOff']).toBe(0);
    } finally {
      await receiver.stop();
    }
  });
});
