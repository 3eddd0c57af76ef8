// End to end: the gateway routes the prefix and pool4 into its TUN device itself (`--routes`), keeps
// them across a link flap and removes them on exit; without it, a pool4 address that is not routed
// into the device is warned about at start. The test adds no TUN routes of its own:
//
//   client (IPv6 only) <--veth--> gateway (TUN "nat64", nat64-gateway --routes) <--veth--> server (IPv4 only)
//   2001:db8:1::2                  prefix 2001:db8:64::/96, pool4 198.51.100.1             203.0.113.2, HTTP 8080

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { labUnavailableReason, waitFor, waitForLine } from '@nat64/netlab';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESSES, GATEWAY_MAIN, createTopology, gatewayUnbuiltReason, type Topology } from './support/gateway-lab.js';
import { curl, startHttpServer } from './support/handoff-lab.js';

const unavailable = labUnavailableReason(['curl']) ?? gatewayUnbuiltReason();
if (unavailable) console.log(`gateway routes end-to-end tests skipped: ${unavailable}`);

interface Gateway {
  child: ChildProcess;
  log: string[];
  stop(): Promise<number | null>;
}

describe.skipIf(unavailable)('gateway routes (end to end)', () => {
  let t: Topology;
  let dir: string;
  let running: Gateway | undefined;

  /** Starts the gateway with these flags and waits for its start line; no route is added here. */
  const start = async (args: string[]): Promise<Gateway> => {
    const child = t.gateway.spawn('node', [
      GATEWAY_MAIN,
      'run',
      '--prefix',
      ADDRESSES.prefix,
      '--pool4',
      ADDRESSES.pool4,
      '--handoff',
      'off',
      '--control',
      join(dir, `gateway-${Date.now()}.sock`),
      ...args,
    ]);
    const log: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitForLine(child.stderr!, /nat64-gateway running/, 15_000, log);
    child.stderr!.on('data', (chunk: Buffer) => log.push(...chunk.toString().split('\n').filter(Boolean)));
    running = {
      child,
      log,
      stop: () => {
        child.kill('SIGTERM');
        return exited;
      },
    };
    return running;
  };

  /** Destinations routed into `device` in the gateway namespace. */
  const routesInto = (device: string): string[] => {
    const four = JSON.parse(t.gateway.ip('-j', '-4', 'route', 'show', 'dev', device) || '[]') as { dst: string }[];
    const six = JSON.parse(t.gateway.ip('-j', '-6', 'route', 'show', 'dev', device) || '[]') as { dst: string }[];
    return [...four, ...six].map((route) => route.dst).filter((dst) => !dst.startsWith('fe80'));
  };

  beforeAll(async () => {
    t = createTopology('rt');
    dir = mkdtempSync(join(tmpdir(), 'n64-routes-e2e-'));
    await startHttpServer(t);
  });

  afterEach(async () => {
    if (running !== undefined && running.child.exitCode === null) await running.stop();
    running = undefined;
  });

  afterAll(() => {
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('routes the prefix and pool4 into its device, so a curl goes through, and again after the link flaps', async () => {
    expect(() => t.gateway.ip('link', 'show', 'nat64')).toThrow(/does not exist/);
    const gateway = await start(['--routes']);
    expect(routesInto('nat64').sort()).toEqual([ADDRESSES.pool4, ADDRESSES.prefix].sort());
    expect((await curl(t)).code).toBe(0);

    t.gateway.ip('link', 'set', 'nat64', 'down');
    expect(routesInto('nat64')).toEqual([]);
    t.gateway.ip('link', 'set', 'nat64', 'up');
    await waitFor('the routes to come back', () => routesInto('nat64').length === 2);
    const again = await curl(t);
    expect(again.code).toBe(0);
    expect(again.body).toMatch(new RegExp(`^${ADDRESSES.pool4.replace(/\./g, '\\.')}:\\d+$`));
    expect(gateway.log.some((line) => line.includes('routes added again'))).toBe(true);
    expect(await gateway.stop()).toBe(0);
  });

  it('removes its routes on exit from a device it attached to, which stays', async () => {
    t.gateway.ip('tuntap', 'add', 'dev', 'nat64a', 'mode', 'tun');
    try {
      t.gateway.ip('link', 'set', 'nat64a', 'up');
      const gateway = await start(['--tun', 'nat64a', '--attach', '--routes']);
      expect(routesInto('nat64a').sort()).toEqual([ADDRESSES.pool4, ADDRESSES.prefix].sort());
      expect((await curl(t)).code).toBe(0);
      expect(await gateway.stop()).toBe(0);
      expect(t.gateway.ip('link', 'show', 'nat64a')).toContain('nat64a');
      expect(routesInto('nat64a')).toEqual([]);
    } finally {
      if (running !== undefined && running.child.exitCode === null) await running.stop();
      t.gateway.ip('tuntap', 'del', 'dev', 'nat64a', 'mode', 'tun');
    }
  });

  it('exits 71 naming the route when the kernel refuses one, and leaves none behind', async () => {
    t.gateway.ip('tuntap', 'add', 'dev', 'nat64c', 'mode', 'tun');
    try {
      // The link stays down: the kernel takes no IPv4 route into it.
      const result = await t.gateway.run('node', [
        GATEWAY_MAIN,
        'run',
        '--tun',
        'nat64c',
        '--attach',
        '--routes',
        '--prefix',
        ADDRESSES.prefix,
        '--pool4',
        ADDRESSES.pool4,
        '--handoff',
        'off',
        '--control',
        join(dir, 'refused.sock'),
      ]);
      expect(result.code).toBe(71);
      expect(result.stderr).toContain(`cannot route ${ADDRESSES.prefix} into nat64c: Error: Nexthop device is not up.`);
      expect(routesInto('nat64c')).toEqual([]);
    } finally {
      t.gateway.ip('tuntap', 'del', 'dev', 'nat64c', 'mode', 'tun');
    }
  });

  it('warns at start about a pool4 address that is not routed into its device, and counts what arrives for addresses it does not own', async () => {
    t.gateway.ip('tuntap', 'add', 'dev', 'nat64b', 'mode', 'tun');
    try {
      t.gateway.ip('link', 'set', 'nat64b', 'up');
      t.gateway.ip('-6', 'route', 'add', ADDRESSES.prefix, 'dev', 'nat64b');
      // A neighbouring address instead of the pool4 one: its packets reach the gateway, which owns none of them.
      t.gateway.ip('route', 'add', '198.51.100.2/32', 'dev', 'nat64b');
      const control = join(dir, 'warn.sock');
      const gateway = await start(['--tun', 'nat64b', '--attach', '--control', control]);
      const warning = await waitFor('the warning', () =>
        gateway.log.find((line) => line.includes('"level":40') && line.includes(`${ADDRESSES.pool4}/32 is not routed into nat64b`)),
      );
      expect(JSON.parse(warning)).toMatchObject({ destination: `${ADDRESSES.pool4}/32`, fix: `ip -4 route add ${ADDRESSES.pool4}/32 dev nat64b` });
      expect(gateway.log.some((line) => line.includes(`${ADDRESSES.prefix} is not routed`))).toBe(false);

      await t.gateway.run('ping', ['-c', '2', '-i', '0.2', '-W', '1', '198.51.100.2']);
      const stats = await t.gateway.run('node', [GATEWAY_MAIN, 'stats', '--control', control, '--explain']);
      expect(stats.stdout).toMatch(/^gateway\.notPool4\s+[1-9]\d*\s+IPv4 packets whose destination is not a pool4 address/m);
      expect(await gateway.stop()).toBe(0);
    } finally {
      if (running !== undefined && running.child.exitCode === null) await running.stop();
      t.gateway.ip('tuntap', 'del', 'dev', 'nat64b', 'mode', 'tun');
    }
  });
});
