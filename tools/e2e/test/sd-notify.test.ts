// Type=notify for real: the built daemons are started as systemd starts them, with $NOTIFY_SOCKET
// naming a unix datagram socket (held by python3, which has them) and $WATCHDOG_USEC set. READY=1
// comes once the device, sockets and database are open, WATCHDOG=1 keeps coming from the main
// loop, a reload is RELOADING=1 then READY=1, and SIGTERM says STOPPING=1. Once ready, `stats
// --config FILE --json` finds the control socket (in a directory the daemon made) from the same file
// and answers the same shape on both.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason } from '@nat64/netlab';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { listenNotify, type NotifyListener } from '../../../packages/sd-notify/test/support.js';
import { ADDRESSES, createTopology, GATEWAY_MAIN, gatewayUnbuiltReason, type Topology } from './support/gateway-lab.js';
import { RECEIVER_MAIN, receiverUnbuiltReason } from './support/handoff-lab.js';

const unavailable = labUnavailableReason([]) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`sd_notify end-to-end tests skipped: ${unavailable}`);

const dir = mkdtempSync(join(tmpdir(), 'nat64-notify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let listener: NotifyListener | undefined;
let child: ChildProcess | undefined;
let t: Topology | undefined;
afterEach(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  listener?.close();
  t?.lab.destroy();
  t = undefined;
});

/** 1 s: WATCHDOG=1 every 500 ms at most, so every tick of the main loop (1 s) sends one. */
const WATCHDOG_USEC = '1000000';
const exitOf = (process: ChildProcess) => new Promise<number | null>((resolve) => process.once('exit', (code) => resolve(code)));

async function expectLifecycle(notify: NotifyListener, daemon: ChildProcess, whenReady: () => void | Promise<void>): Promise<void> {
  const ready = await notify.next((message) => message.includes('READY=1'));
  await whenReady();
  expect(ready).toMatch(/^READY=1\nSTATUS=\S/);
  for (let beats = 0; beats < 3; beats++) await notify.next((message) => message === 'WATCHDOG=1');
  daemon.kill('SIGHUP');
  await notify.next((message) => message.startsWith('RELOADING=1\nMONOTONIC_USEC='));
  await notify.next((message) => message === 'READY=1');
  await notify.next((message) => message === 'WATCHDOG=1');
  const exited = exitOf(daemon);
  daemon.kill('SIGTERM');
  await notify.next((message) => message === 'STOPPING=1');
  expect(await exited).toBe(0);
}

function run(main: string, ...args: string[]): string {
  const result = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 20_000 });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

/** `stats --json`, the same on both daemons: {counters: [{group, name, value, explanation}], gauges: {name: number}}. */
function expectStatsShape(stdout: string, gauges: string[]): void {
  const answer = JSON.parse(stdout) as { counters: Record<string, unknown>[]; gauges: Record<string, unknown> };
  expect(answer.counters.length).toBeGreaterThan(5);
  for (const counter of answer.counters) {
    expect(Object.keys(counter).sort()).toEqual(['explanation', 'group', 'name', 'value']);
    expect(typeof counter['value']).toBe('number');
    expect(counter['explanation']).not.toBe('');
  }
  expect(Object.keys(answer.gauges).sort()).toEqual([...gauges].sort());
  for (const value of Object.values(answer.gauges)) expect(typeof value).toBe('number');
}

describe.skipIf(unavailable)('Type=notify and the watchdog (end to end)', () => {
  it('the gateway says READY=1 once its TUN device and control socket are open, then keeps the watchdog fed', async () => {
    const socket = join(dir, 'gateway-notify');
    listener = await listenNotify(socket);
    t = createTopology('notify');
    const control = join(dir, 'run', 'gateway.sock');
    const config = join(dir, 'gateway.json');
    writeFileSync(config, JSON.stringify({ prefix: ADDRESSES.prefix, pool4: [ADDRESSES.pool4], handoff: { mode: 'off' }, control }));
    const environment = { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC };
    child = t.gateway.spawn('node', [GATEWAY_MAIN, 'run', '--tun', 'nat64', '--config', config], { env: environment });
    child.stderr!.resume();
    await expectLifecycle(listener, child, () => {
      expect(existsSync(control)).toBe(true);
      expect(t!.gateway.exec('ip', ['link', 'show', 'nat64'])).toContain('nat64');
      expectStatsShape(run(GATEWAY_MAIN, 'stats', '--config', config, '--json', '--all'), ['sessions', 'bibEntries']);
    });
  });

  it('the receiver says READY=1 once its database, log and sockets are open, then keeps the watchdog fed', async () => {
    const socket = join(dir, 'receiver-notify');
    listener = await listenNotify(socket);
    const database = join(dir, 'state', 'receiver.db');
    const control = join(dir, 'run', 'receiver', 'control.sock');
    const config = join(dir, 'receiver.json');
    writeFileSync(
      config,
      JSON.stringify({ transport: 'handoff', listen: ['127.0.0.1'], port: 62863 + 7, database, control, connectionLog: join(dir, 'log', 'connections.log') }),
    );
    child = spawn(process.execPath, [RECEIVER_MAIN, 'run', '--config', config], {
      env: { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.resume();
    await expectLifecycle(listener, child, () => {
      expect(existsSync(database)).toBe(true);
      expect(existsSync(control)).toBe(true);
      expectStatsShape(run(RECEIVER_MAIN, 'stats', '--config', config, '--json', '--all'), ['entries', 'gateways']);
    });
  });
});
