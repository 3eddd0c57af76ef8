// Reloading the real receiver process: its configuration file changes, then SIGHUP (which also
// reopens the connection log) or `nat64-receiver reload`. The process lives on, what can change at
// run time does (here: which gateways it accepts), and one log line names what changed and what
// needs a restart.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { GatewayClient } from '@nat64/handoff-sim';
import { waitFor } from '@nat64/netlab';
import { loadReceiverConfig } from '../src/config.js';
import { ReceiverReloader, ReceiverSettings } from '../src/reload.js';
import { MAIN } from './support/child.js';
import { loopback } from './support/receiver.js';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [MAIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

describe('receiver reload', { timeout: 30_000 }, () => {
  let dir = '';
  let child: ChildProcess | undefined;
  const clients: GatewayClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    child?.kill('SIGKILL');
    child = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('lives through SIGHUP, applies a new allow list at once, and names what needs a restart; the reload command does the same', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nat64-receiver-reload-'));
    const control = join(dir, 'control.sock');
    const config = join(dir, 'receiver.json');
    const base = {
      listen: ['127.0.0.1'],
      port: 0,
      transport: 'handoff',
      database: join(dir, 'connections.db'),
      connectionLog: join(dir, 'connections.log'),
      control,
      logLevel: 'info',
    };
    writeFileSync(config, JSON.stringify(base));
    child = spawn('node', [MAIN, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const port = Number(await waitFor('the listening port', () => /"listen":\["127\.0\.0\.1:(\d+)"\]/.exec(stderr)?.[1]));
    const logLines = () =>
      stderr
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const counter = async (name: string) => {
      const stats = await cli(['stats', '--control', control, '--json', '--all']);
      const counters = (JSON.parse(stats.stdout) as { counters: { name: string; value: number }[] }).counters;
      return counters.find((c) => c.name === name)?.value;
    };
    const gateway = await GatewayClient.open({ receiverAddress: '127.0.0.1', receiverPort: port, natAddress: loopback(70), localPort: 0, initialRtoMs: 200 });
    clients.push(gateway);
    await gateway.hello();
    expect(await counter('notAllowed')).toBe(0);

    // Only 192.0.2.0/24 from now on (this gateway sends from 127.0.0.1); a new port needs a restart.
    writeFileSync(config, JSON.stringify({ ...base, allow: ['192.0.2.0/24'], port: 62000, retention: '30d' }));
    child.kill('SIGHUP');
    const line = await waitFor('the reload line', () => logLines().find((entry) => String(entry['msg']).startsWith('reloaded the configuration')));
    expect(line).toMatchObject({
      trigger: 'SIGHUP',
      applied: ['allow', 'retention'],
      needsRestart: ['port'],
      msg: 'reloaded the configuration: applied allow, retention; needs a restart to apply port',
      changes: { allow: { from: [], to: ['192.0.2.0/24'] }, port: { from: 0, to: 62000 } },
    });
    expect(logLines().some((entry) => entry['msg'] === 'reopened the connection log')).toBe(true);
    expect(child.exitCode).toBeNull();
    void gateway.hello(2000).catch(() => undefined);
    await waitFor('the HELLO to be refused by the new allow list', async () => ((await counter('notAllowed')) ?? 0) > 0);

    writeFileSync(config, JSON.stringify({ ...base, port: 62000 }));
    const reload = await cli(['reload', '--control', control]);
    expect(reload).toMatchObject({ code: 0, stdout: 'applied: allow, retention\nneeds a restart: port\n' });
    const refusedSoFar = await counter('notAllowed');
    await gateway.hello();
    expect(await counter('notAllowed')).toBe(refusedSoFar);

    writeFileSync(config, '{ "port": "many" }');
    const refused = await cli(['reload', '--control', control, '--json']);
    expect(refused.code).toBe(78);
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, error: expect.stringContaining('port: expected an integer') });
    expect(child.exitCode).toBeNull();

    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child!.once('exit', resolve))).toBe(0);
    expect(readFileSync(join(dir, 'connections.log'), 'utf8')).toContain('Initialized 127.0.0.70');
  });

  it("swaps the gateways' keys at once, read again from the key file, and never logs them", () => {
    dir = mkdtempSync(join(tmpdir(), 'nat64-receiver-keys-'));
    const keyFile = join(dir, 'key');
    const config = join(dir, 'receiver.json');
    writeFileSync(keyFile, 'd4'.repeat(16));
    writeFileSync(config, JSON.stringify({ keyFile, keys: [{ gateways: '192.0.2.0/24', key: 'e5'.repeat(20), keyId: 2 }] }));
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const source = { file: config, flags: {} };
    const settings = new ReceiverSettings(loadReceiverConfig(source));
    const reloader = new ReceiverReloader(source, loadReceiverConfig(source), settings, pino({ level: 'info' }, sink));
    const hex = (key: Uint8Array | undefined) => Buffer.from(key ?? []).toString('hex');
    expect(hex(settings.keyFor('198.51.100.7')?.secret)).toBe('d4'.repeat(16));
    expect(settings.keyFor('192.0.2.9')).toMatchObject({ keyId: 2 });

    writeFileSync(keyFile, 'f6'.repeat(32));
    expect(reloader.reload('SIGHUP')).toEqual({ ok: true, applied: ['keys'], needsRestart: [] });
    expect(hex(settings.keyFor('198.51.100.7')?.secret)).toBe('f6'.repeat(32));
    expect(hex(settings.keyFor('192.0.2.9')?.secret)).toBe('e5'.repeat(20));
    expect(lines.join('')).toContain('reloaded the configuration: applied keys');
    expect(lines.join('')).not.toMatch(/d4d4|f6f6|e5e5/);
  });

  it('prints the effective configuration with run --check --print, keys hidden', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nat64-receiver-print-'));
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, 'c3'.repeat(16));
    const config = join(dir, 'receiver.json');
    writeFileSync(config, JSON.stringify({ retention: '30d', keyFile }));
    const printed = await cli(['run', '--check', '--print', '--config', config, '--capacity', '5000']);
    expect(printed.code, printed.stderr).toBe(0);
    expect(JSON.parse(printed.stdout)).toMatchObject({
      retention: '30d',
      capacity: 5000,
      idleTimeout: '1d',
      keys: [{ gateways: '0.0.0.0/0', keyId: 1, key: '(hidden: 16 bytes)' }, { gateways: '::/0' }],
    });
    expect(printed.stdout).not.toContain('c3c3');
    expect(await cli(['run', '--check', '--config', config])).toMatchObject({ code: 0, stdout: 'configuration OK\n' });
    writeFileSync(config, JSON.stringify({ retention: 'forever' }));
    const broken = await cli(['run', '--check', '--config', config]);
    expect(broken.code).toBe(78);
    expect(broken.stderr).toContain('retention: "forever" is not a duration');
  });
});
