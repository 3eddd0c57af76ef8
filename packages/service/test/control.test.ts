import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callControl, ControlError, listenControl, streamControl, type ControlServer } from '@nat64/service';

describe('control', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function serve(handlers: Parameters<typeof listenControl>[1]): Promise<ControlServer> {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-control-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const server = await listenControl(join(dir, 'control.sock'), handlers);
    cleanups.push(() => server.close());
    return server;
  }

  it('answers a request with its result', async () => {
    const server = await serve({ stats: (params) => ({ asked: params.filter ?? null, packets: 42 }) });
    expect(await callControl(server.path, 'stats', { filter: 'udp' })).toEqual({ asked: 'udp', packets: 42 });
    expect(statSync(server.path).mode & 0o777).toBe(0o660);
  });

  it('streams listings item by item', async () => {
    const server = await serve({
      *sessions() {
        for (let i = 0; i < 1000; i++) yield { id: i };
      },
    });
    const items: unknown[] = [];
    for await (const item of streamControl(server.path, 'sessions')) items.push(item);
    expect(items).toHaveLength(1000);
    expect(items[999]).toEqual({ id: 999 });
    expect(await callControl(server.path, 'sessions')).toHaveLength(1000);
  });

  it('reports handler errors and unknown methods as errors', async () => {
    const server = await serve({
      fail: () => {
        throw new Error('table is busy');
      },
    });
    await expect(callControl(server.path, 'fail')).rejects.toThrow(new ControlError('table is busy'));
    await expect(callControl(server.path, 'nope')).rejects.toThrow('unknown method "nope"; known: fail');
  });

  it('says the daemon is not running when nobody listens', async () => {
    await expect(callControl('/nonexistent/nat64.sock', 'stats')).rejects.toThrow(/is it running\?/);
  });

  it('replaces a stale socket file but refuses a live one', async () => {
    const server = await serve({ ping: () => 'pong' });
    await expect(listenControl(server.path, {})).rejects.toThrow(/in use: is another instance running/);
    await server.close();
    const again = await listenControl(server.path, { ping: () => 'pong again' });
    cleanups.push(() => again.close());
    expect(await callControl(again.path, 'ping')).toBe('pong again');
  });
});
