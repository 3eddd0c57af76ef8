// What can fail at start fails before anything is opened: a control socket that cannot be made (its
// directory is a file, its path too long, a file already there) stops either daemon with the setting
// named, with no TUN device made and no database or log created. Missing directories are made.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, labUnavailableReason } from '@nat64/netlab';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ADDRESSES, GATEWAY_MAIN, gatewayUnbuiltReason } from './support/gateway-lab.js';
import { RECEIVER_MAIN, receiverUnbuiltReason } from './support/handoff-lab.js';

const unavailable = labUnavailableReason([]) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`start check end-to-end tests skipped: ${unavailable}`);

const dir = mkdtempSync(join(tmpdir(), 'nat64-start-'));
const aFile = join(dir, 'a-file');
writeFileSync(aFile, 'not a directory\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let lab: Lab | undefined;
afterEach(() => {
  lab?.destroy();
  lab = undefined;
});

describe.skipIf(unavailable)('start checks (end to end)', () => {
  it('the gateway refuses a control socket it cannot make before it makes its TUN device', async () => {
    lab = new Lab('start');
    const host = lab.addNamespace('gw');
    for (const [control, says, code] of [
      [join(aFile, 'control.sock'), `control: cannot create ${join(aFile, 'control.sock')}: ${aFile} is not a directory`, 73],
      [join(dir, 'x'.repeat(120)), 'longer than a unix socket path can be', 78],
      [aFile, `control: ${aFile} exists and is not a socket`, 73],
    ] as const) {
      const result = await host.run('node', [
        GATEWAY_MAIN,
        'run',
        '--tun',
        'nat64',
        '--prefix',
        ADDRESSES.prefix,
        '--pool4',
        ADDRESSES.pool4,
        '--handoff',
        'off',
        '--control',
        control,
      ]);
      expect(result.code, result.stderr).toBe(code);
      expect(result.stderr).toContain(says);
      // Not even opened: a gateway that had opened the device would have logged or said so.
      expect(result.stderr).not.toMatch(/nat64-gateway running|TUN|device/);
      expect((await host.run('ip', ['link', 'show', 'nat64'])).code).not.toBe(0);
    }
    expect(readFileSync(aFile, 'utf8')).toBe('not a directory\n');
  });

  it('the receiver refuses a control socket it cannot make before it creates its database and log', () => {
    const database = join(dir, 'state', 'receiver.db');
    const log = join(dir, 'log', 'connections.log');
    const result = spawnSync(
      process.execPath,
      [
        RECEIVER_MAIN,
        'run',
        '--transport',
        'handoff',
        '--listen',
        '127.0.0.1',
        '--port',
        '62871',
        '--db',
        database,
        '--conn-log',
        log,
        '--control',
        join(aFile, 'control.sock'),
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(result.status, result.stderr).toBe(73);
    expect(result.stderr).toBe(`nat64-receiver: control (--control): cannot create ${join(aFile, 'control.sock')}: ${aFile} is not a directory\n`);
    expect(existsSync(database)).toBe(false);
    expect(existsSync(join(dir, 'log'))).toBe(false);
  });

  it('the receiver names the setting whose directory cannot be made, before opening anything', () => {
    const database = join(dir, 'fresh', 'receiver.db');
    const result = spawnSync(
      process.execPath,
      [
        RECEIVER_MAIN,
        'run',
        '--transport',
        'handoff',
        '--listen',
        '127.0.0.1',
        '--port',
        '62871',
        '--db',
        database,
        '--conn-log',
        join(aFile, 'c.log'),
        '--control',
        join(dir, 'run', 'control.sock'),
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(result.status, result.stderr).toBe(73);
    expect(result.stderr).toContain('connectionLog (--conn-log): cannot create');
    expect(existsSync(database)).toBe(false);
  });

  it("the receiver's first README command runs on a fresh host: it makes its directories, and stats finds it by default", () => {
    // A fresh host: empty /var/lib, /var/log and /run (tmpfs in a mount namespace of its own), and a
    // network namespace for the Geneve device and the sockets.
    const script = [
      'set -e',
      'mount -t tmpfs none /var/lib && mount -t tmpfs none /var/log && mount -t tmpfs none /run && ip link set lo up',
      `node ${RECEIVER_MAIN} run --conn-log /var/log/nat64-receiver/connections.log 2>/dev/null & pid=$!`,
      'for i in $(seq 300); do [ -S /run/nat64-receiver/control.sock ] && break; sleep 0.1; done',
      `node ${RECEIVER_MAIN} stats --json --all`,
      'kill -TERM $pid; wait $pid; echo "exit $?"',
      'ls -d /var/lib/nat64-receiver/connections.db /var/log/nat64-receiver/connections.log',
    ].join('\n');
    const result = spawnSync('unshare', ['--mount', '--net', '--fork', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    const [stats, exit, ...files] = result.stdout.trim().split('\n');
    expect((JSON.parse(stats!) as { gauges: { entries: number } }).gauges.entries).toBe(0);
    expect(exit).toBe('exit 0');
    expect(files).toEqual(['/var/lib/nat64-receiver/connections.db', '/var/log/nat64-receiver/connections.log']);
  });
});
