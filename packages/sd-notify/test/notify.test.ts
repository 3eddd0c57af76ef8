import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { notify, NotifyError, ServiceNotifier, watchdogIntervalMs } from '../src/index.js';
import { listenNotify, type NotifyListener } from './support.js';

let listener: NotifyListener | undefined;
const dirs: string[] = [];
afterEach(() => {
  listener?.close();
  listener = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('notify', () => {
  it('sends to a socket path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-notify-'));
    dirs.push(dir);
    listener = await listenNotify(join(dir, 'notify'));
    const got = listener.next(() => true);
    expect(notify('READY=1\nSTATUS=serving', { NOTIFY_SOCKET: join(dir, 'notify') })).toBe(true);
    expect(await got).toBe('READY=1\nSTATUS=serving');
  });

  it('sends to an abstract socket named with @', async () => {
    const name = `@nat64-sd-notify-test-${process.pid}`;
    listener = await listenNotify(name);
    const got = listener.next(() => true);
    expect(notify('WATCHDOG=1', { NOTIFY_SOCKET: name })).toBe(true);
    expect(await got).toBe('WATCHDOG=1');
  });

  it('sends nothing without NOTIFY_SOCKET', () => {
    expect(notify('READY=1', {})).toBe(false);
  });

  it('says why it could not send', () => {
    expect(() => notify('READY=1', { NOTIFY_SOCKET: '/nonexistent/notify' })).toThrow(NotifyError);
    expect(() => notify('READY=1', { NOTIFY_SOCKET: '/nonexistent/notify' })).toThrow(/ENOENT/);
    expect(() => notify('READY=1', { NOTIFY_SOCKET: 'relative' })).toThrow(/EINVAL/);
    expect(() => notify('READY=1', { NOTIFY_SOCKET: `/${'x'.repeat(200)}` })).toThrow(/ENAMETOOLONG/);
  });
});

describe('ServiceNotifier', () => {
  it('sends WATCHDOG=1 from the tick at most every half period', () => {
    const sent: string[] = [];
    let now = 0;
    const notifier = new ServiceNotifier({
      environment: { NOTIFY_SOCKET: '@x', WATCHDOG_USEC: '4000000' },
      now: () => now,
      send: (state) => {
        sent.push(state);
        return true;
      },
    });
    expect(notifier.watchdogIntervalMs).toBe(2000);
    notifier.tick();
    now = 1000;
    notifier.tick();
    now = 2000;
    notifier.tick();
    expect(sent).toEqual(['WATCHDOG=1', 'WATCHDOG=1']);
  });

  it('extends the start or stop timeout in microseconds, with a status line', () => {
    const sent: string[] = [];
    const notifier = new ServiceNotifier({
      environment: { NOTIFY_SOCKET: '@x' },
      send: (state) => {
        sent.push(state);
        return true;
      },
    });
    notifier.extendTimeout(30_000, 'migrating\nthe database');
    expect(sent).toEqual(['EXTEND_TIMEOUT_USEC=30000000\nSTATUS=migrating the database']);
  });

  it('reports the first failed send of an outage and goes on', () => {
    const errors: Error[] = [];
    const notifier = new ServiceNotifier({ environment: { NOTIFY_SOCKET: '/nonexistent/notify' }, onError: (error) => errors.push(error) });
    notifier.ready('up');
    notifier.stopping();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(NotifyError);
  });

  it('keeps the watchdog off for another process and for bad values', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 5)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4' }, 5)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 5)).toBeUndefined();
    expect(watchdogIntervalMs({}, 5)).toBeUndefined();
  });
});
