// End to end: reloading the built nat64-gateway while it carries traffic (topology in
// support/gateway-lab.ts). Its configuration file is changed and the gateway is sent SIGHUP, or
// asked with `nat64-gateway reload`: it keeps running with its TUN device and sessions, a changed
// UDP timeout applies to the sessions it already has, and its log names what changed and what
// needs a restart. A file that does not validate changes nothing.
//
//   client 2001:db8:1::2 --UDP--> gateway (nat64-gateway --config FILE) --> server 203.0.113.2

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESSES, createTopology, gatewayCli, gatewayUnbuiltReason, startGateway, type RunningGateway, type Topology } from './support/gateway-lab.js';

const unavailable = labUnavailableReason(['ping']) ?? gatewayUnbuiltReason();
if (unavailable) console.log(`gateway reload end-to-end tests skipped: ${unavailable}`);

const PORT = 9999;

describe.skipIf(unavailable)('gateway reload (end to end)', () => {
  let t: Topology;
  let gateway: RunningGateway;
  let dir: string;
  let control: string;
  let config: string;
  const settings = (udp: string, extra: object = {}) =>
    JSON.stringify({ prefix: ADDRESSES.prefix, pool4: [ADDRESSES.pool4], control, handoff: { mode: 'off' }, timeouts: { udp }, ...extra });

  beforeAll(async () => {
    t = createTopology('reload');
    dir = mkdtempSync(join(tmpdir(), 'n64-reload-e2e-'));
    control = join(dir, 'control.sock');
    config = join(dir, 'gateway.json');
    writeFileSync(config, settings('2m'));
    gateway = await startGateway(t, ['--config', config]);
  });

  afterAll(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** The UDP session toward the server's PORT, as `sessions --json` lists it. */
  async function udpSession(): Promise<Record<string, string | number> | undefined> {
    const listed = await gatewayCli(['sessions', '--control', control, '--protocol', 'udp', '--server', ADDRESSES.server, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = listed.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, string | number>);
    return rows.find((row) => row['server'] === `${ADDRESSES.server}:${PORT}`);
  }

  /** The log lines that came after `from`, parsed. */
  const logSince = (from: number) => gateway.log.slice(from).map((line) => JSON.parse(line) as Record<string, unknown>);

  it('lives through SIGHUP, keeps its sessions, applies the new UDP timeout to them and logs what changed and what needs a restart', async () => {
    // Probed until listed: right after the topology comes up, the first probe may not leave the client.
    const before = await waitFor('the probe to make a UDP session', async () => {
      t.client.exec('bash', ['-c', `echo probe > /dev/udp/${ADDRESSES.serverSix}/${PORT} || true`]);
      return udpSession();
    });
    expect(Number(before['expiresInMs'])).toBeLessThanOrEqual(120_000);

    writeFileSync(config, settings('10m', { pool4: [ADDRESSES.pool4, '198.51.100.2'], logLevel: 'debug' }));
    const from = gateway.log.length;
    gateway.child.kill('SIGHUP');
    const line = await waitFor('the reload line', () => logSince(from).find((entry) => String(entry['msg']).startsWith('reloaded the configuration')));
    expect(line).toMatchObject({ trigger: 'SIGHUP', applied: ['timeouts.udp', 'logLevel'], needsRestart: ['pool4'] });
    expect(line['msg']).toBe('reloaded the configuration: applied timeouts.udp, logLevel; needs a restart to apply pool4');

    expect(gateway.child.exitCode).toBeNull();
    expect(t.gateway.ip('link', 'show', 'nat64')).toContain('nat64');
    const after = await udpSession();
    expect(after?.['nat']).toBe(before?.['nat']);
    expect(Number(after?.['expiresInMs'])).toBeGreaterThan(120_000);
    expect(Number(after?.['expiresInMs'])).toBeLessThanOrEqual(600_000);
    // Still translating.
    await t.client.run('ping', ['-6', '-c', '1', '-W', '2', ADDRESSES.serverSix]);
    expect(t.client.exec('ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', ADDRESSES.serverSix])).toContain('2 received');
  });

  it('reloads on the reload command, printing what it applied', async () => {
    writeFileSync(config, settings('3m', { pool4: [ADDRESSES.pool4, '198.51.100.2'], logLevel: 'debug' }));
    const result = await gatewayCli(['reload', '--control', control]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('applied: timeouts.udp\nneeds a restart: pool4\n');
    const session = await udpSession();
    expect(Number(session?.['expiresInMs'])).toBeLessThanOrEqual(180_000);
  });

  it('refuses a file that does not validate, exits 78 from the command, and keeps running as it was', async () => {
    writeFileSync(config, settings('30s'));
    const from = gateway.log.length;
    const result = await gatewayCli(['reload', '--control', control]);
    expect(result.code).toBe(78);
    expect(result.stdout).toMatch(/^reload refused, the running configuration stays: .*timeouts\.udp: must be at least 2m/);
    gateway.child.kill('SIGHUP');
    await waitFor('the refusal after SIGHUP', () => logSince(from).filter((entry) => String(entry['msg']).startsWith('reload refused')).length === 2);
    expect(gateway.child.exitCode).toBeNull();
    const session = await udpSession();
    expect(Number(session?.['expiresInMs'])).toBeGreaterThan(150_000);
  });

  it('prints the effective configuration it would run with', async () => {
    writeFileSync(config, settings('4m'));
    const result = await gatewayCli(['run', '--check', '--print', '--config', config, '--max-sessions', '5000']);
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as { timeouts: { udp: string }; limits: { maxSessions: number }; tun: { txQueueLength: number } };
    expect(printed.timeouts.udp).toBe('4m');
    expect(printed.limits.maxSessions).toBe(5000);
    expect(printed.tun.txQueueLength).toBe(10_000);
  });

  it('still stops on SIGTERM with exit 0', async () => {
    expect(await gateway.stop()).toBe(0);
  });
});
