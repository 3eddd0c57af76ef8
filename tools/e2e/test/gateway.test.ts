// End to end: the built nat64-gateway between an IPv6-only client and an IPv4-only server, each in
// its own network namespace (topology in support/gateway-lab.ts):
//
//   client (IPv6 only) <--veth--> gateway (TUN "nat64" run by nat64-gateway) <--veth--> server (IPv4 only)
//   2001:db8:1::2                  prefix 2001:db8:64::/96, pool4 198.51.100.1           203.0.113.2
//
// Real programs only: ping, curl against a Node HTTP server, iperf3, and the gateway's own CLI.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor, waitForLine } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDRESSES,
  createTopology,
  gatewayCli,
  gatewayUnbuiltReason,
  GATEWAY_MAIN,
  type RunningGateway,
  type Topology,
  labArguments,
  startLabGateway,
} from './support/gateway-lab.js';

const unavailable = labUnavailableReason(['ping', 'curl', 'iperf3']) ?? gatewayUnbuiltReason();
if (unavailable) console.log(`gateway end-to-end tests skipped: ${unavailable}`);

/** A static ICMP mapping so the IPv4 server can ping the IPv6 client: identifier 7 on both sides. */
const PING_ID = 7;
const BODY_BYTES = 5 * 1024 * 1024;

describe.skipIf(unavailable)('gateway (end to end)', () => {
  let t: Topology;
  let gateway: RunningGateway;
  let dir: string;
  let control: string;

  beforeAll(async () => {
    t = createTopology('gw');
    dir = mkdtempSync(join(tmpdir(), 'n64-gw-e2e-'));
    control = join(dir, 'control.sock');
    const config = join(dir, 'gateway.json');
    writeFileSync(
      config,
      JSON.stringify({
        staticBib: [{ protocol: 'icmp', ipv6: `[${ADDRESSES.client}]:${PING_ID}`, ipv4: `${ADDRESSES.pool4}:${PING_ID}` }],
        timeouts: { udp: '2s', allowBelowMinimum: true },
      }),
    );
    gateway = await startLabGateway(t, control, ['--config', config]);
  });

  afterAll(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('lets the IPv6 client ping the IPv4 server through the prefix', async () => {
    // Neighbour discovery on the fresh links may cost the very first echo: warm up, then count.
    await t.client.run('ping', ['-6', '-c', '1', '-W', '2', ADDRESSES.serverSix]);
    const output = t.client.exec('ping', ['-6', '-c', '3', '-i', '0.2', '-W', '2', ADDRESSES.serverSix]);
    expect(output).toContain('3 received');
  });

  it('lets the IPv4 server ping the IPv6 client through a static BIB entry', async () => {
    await t.server.run('ping', ['-4', '-c', '1', '-W', '2', '-e', String(PING_ID), ADDRESSES.pool4]);
    const output = t.server.exec('ping', ['-4', '-c', '3', '-i', '0.2', '-W', '2', '-e', String(PING_ID), ADDRESSES.pool4]);
    expect(output).toContain('3 received');
  });

  it('carries an HTTP download intact (5 MB, sha256 compared)', async () => {
    const script = `
      const body = require('crypto').randomBytes(${BODY_BYTES});
      const digest = require('crypto').createHash('sha256').update(body).digest('hex');
      require('http').createServer((req, res) => res.end(body)).listen(8080, '${ADDRESSES.server}', () => console.log('listening ' + digest));
    `;
    const server = t.server.spawn('node', ['-e', script]);
    const line = await waitForLine(server.stdout!, /^listening [0-9a-f]{64}$/);
    const expected = line.split(' ')[1];
    const result = await new Promise<{ code: number; digest: string; bytes: number }>((resolve) => {
      const curl = t.client.spawn('curl', ['-sS', '--max-time', '20', `http://[${ADDRESSES.serverSix}]:8080/`]);
      const hash = createHash('sha256');
      let bytes = 0;
      curl.stdout!.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
      });
      curl.on('close', (code) => resolve({ code: code ?? -1, digest: hash.digest('hex'), bytes }));
    });
    server.kill();
    expect(result.code).toBe(0);
    expect(result.bytes).toBe(BODY_BYTES);
    expect(result.digest).toBe(expected);
  });

  it('carries iperf3 TCP and UDP', async () => {
    const server = t.server.spawn('iperf3', ['-s', '-B', ADDRESSES.server, '--forceflush']);
    await waitForLine(server.stdout!, /Server listening/);
    const tcp = await t.client.run('iperf3', ['-c', ADDRESSES.serverSix, '-t', '2', '-J'], { timeoutMs: 20_000 });
    expect(tcp.code, tcp.stderr).toBe(0);
    const tcpReport = JSON.parse(tcp.stdout) as { end: { sum_received: { bytes: number; bits_per_second: number } } };
    expect(tcpReport.end.sum_received.bytes).toBeGreaterThan(1_000_000);
    const udp = await t.client.run('iperf3', ['-c', ADDRESSES.serverSix, '-u', '-b', '20M', '-l', '1200', '-t', '2', '-J'], { timeoutMs: 20_000 });
    expect(udp.code, udp.stderr).toBe(0);
    const udpReport = JSON.parse(udp.stdout) as { end: { sum: { packets: number; lost_percent: number } } };
    expect(udpReport.end.sum.packets).toBeGreaterThan(1000);
    expect(udpReport.end.sum.lost_percent).toBeLessThan(5);
    server.kill();
  });

  it('lists a UDP session while it lives and lets it expire after the configured 2 seconds', async () => {
    const port = 9999;
    // One socket (one client port) probing every 300 ms keeps the session alive however slowly the CLI
    // calls below run; the expiry is measured from the last probe, after the prober stops.
    const prober = t.client.spawn('bash', ['-c', `exec 3> /dev/udp/${ADDRESSES.serverSix}/${port}; while :; do echo probe >&3; sleep 0.3; done`]);
    try {
      await waitFor('the first probe to make a session', async () => {
        const first = await gatewayCli(['sessions', '--control', control, '--protocol', 'udp', '--server', ADDRESSES.server, '--json']);
        return first.stdout.includes(`"${ADDRESSES.server}:${port}"`);
      });
      const listed = await gatewayCli(['sessions', '--control', control, '--protocol', 'udp', '--server', ADDRESSES.server, '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      const rows = listed.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, string | number>);
      const session = rows.find((row) => row['server'] === `${ADDRESSES.server}:${port}`);
      expect(session).toMatchObject({ protocol: 'udp', serverIpv6: `[${ADDRESSES.serverSix}]:${port}` });
      expect(String(session!['client'])).toMatch(/^\[2001:db8:1::2\]:\d+$/);
      expect(String(session!['nat'])).toMatch(/^198\.51\.100\.1:\d+$/);
      expect(Number(session!['expiresInMs'])).toBeLessThanOrEqual(2000);
      const table = await gatewayCli(['sessions', '--control', control, '--protocol', 'udp']);
      expect(table.stdout).toContain(`${ADDRESSES.server}:${port}`);
    } finally {
      prober.kill('SIGKILL');
    }
    await waitFor(
      'the UDP session to expire',
      async () => {
        const again = await gatewayCli(['sessions', '--control', control, '--protocol', 'udp', '--server', ADDRESSES.server, '--json']);
        return !again.stdout.includes(`"${ADDRESSES.server}:${port}"`);
      },
      6_000,
    );
  });

  it('shows its counters with explanations', async () => {
    const stats = await gatewayCli(['stats', '--control', control, '--explain']);
    expect(stats.code, stats.stderr).toBe(0);
    const forwarded = /^gateway\.forwarded64\s+(\d+)\s+IPv6 packets translated/m.exec(stats.stdout);
    expect(Number(forwarded?.[1])).toBeGreaterThan(1000);
    expect(stats.stdout).toMatch(/^tun\.rxPackets\s+\d+/m);
    expect(stats.stdout).toMatch(/^table\.sessionsTimedOut\s+[1-9]\d*/m);
  });

  it('exits 0 on SIGTERM and removes its TUN device', async () => {
    expect(await gateway.stop()).toBe(0);
    expect(() => t.gateway.ip('link', 'show', 'nat64')).toThrow(/does not exist/);
    expect(gateway.log.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
  });

  it('stops cleanly, exit 0 and no device left, on a SIGTERM that arrives while it starts', async () => {
    // The configuration's short timeouts are warned about before the device is opened: the signal
    // goes out when that line arrives, while the gateway is still starting.
    const child = t.gateway.spawn(
      'node',
      [GATEWAY_MAIN, 'run', '--tun', 'nat64sig', '--config', join(dir, 'gateway.json')].concat(labArguments(join(dir, 'sig.sock'))),
    );
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      if (log === '' && chunk.includes('session timeouts below')) child.kill('SIGTERM');
      log += chunk.toString();
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(log).toContain('"msg":"stopped"');
    expect(() => t.gateway.ip('link', 'show', 'nat64sig')).toThrow(/does not exist/);
  });

  it('refuses a broken configuration with exit 78, naming the setting, before any device exists', async () => {
    const result = await t.gateway.run('node', [GATEWAY_MAIN, 'run', '--tun', 'nat64bad', '--pool4', '198.51.100.300', '--control', join(dir, 'bad.sock')]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('pool4[0].address');
    expect(() => t.gateway.ip('link', 'show', 'nat64bad')).toThrow(/does not exist/);
  });
});
