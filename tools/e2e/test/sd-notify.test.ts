// Type=notify for real: the built daemons are started as systemd starts them, with $NOTIFY_SOCKET
// naming a unix datagram socket (held by python3, which has them) and $WATCHDOG_USEC set. READY=1
// comes once the device, sockets and database are open, WATCHDOG=1 keeps coming from the main
// loop, a reload is RELOADING=1 then READY=1, and SIGTERM says STOPPING=1.
import { spawn, type ChildProcess } from 'node:child_process';
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

async function expectLifecycle(notify: NotifyListener, daemon: ChildProcess, whenReady: () => void): Promise<void> {
  const ready = await notify.next((message) => message.includes('READY=1'));
  whenReady();
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

describe.skipIf(unavailable)('Type=notify and the watchdog (end to end)', () => {
  it('the gateway says READY=1 once its TUN device and control socket are open, then keeps the watchdog fed', async () => {
    const socket = join(dir, 'gateway-notify');
    listener = await listenNotify(socket);
    t = createTopology('notify');
    const control = join(dir, 'gateway.sock');
    const environment = { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC };
    child = t.gateway.spawn('node', [GATEWAY_MAIN, 'run', '--tun', 'nat64', '--prefix', ADDRESSES.prefix, '--pool4', ADDRESSES.pool4, '--handoff', 'off', '--control', control], { env: environment });
    child.stderr!.resume();
    await expectLifecycle(listener, child, () => {
      expect(existsSync(control)).toBe(true);
      expect(t!.gateway.exec('ip', ['link', 'show', 'nat64'])).toContain('nat64');
    });
  });

  it('the receiver says READY=1 once its database, log and sockets are open, then keeps the watchdog fed', async () => {
    const socket = join(dir, 'receiver-notify');
    listener = await listenNotify(socket);
    const database = join(dir, 'state', 'receiver.db');
    const control = join(dir, 'receiver.sock');
    const config = join(dir, 'receiver.json');
    writeFileSync(config, JSON.stringify({ transport: 'handoff', listen: ['127.0.0.1'], port: 62863 + 7, database, control, connectionLog: join(dir, 'log', 'connections.log') }));
    child = spawn(process.execPath, [RECEIVER_MAIN, 'run', '--config', config], { env: { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.resume();
    await expectLifecycle(listener, child, () => {
      expect(existsSync(database)).toBe(true);
      expect(existsSync(control)).toBe(true);
    });
  });
});
