import { execFile } from 'node:child_process';
import { mkdtempSync, renameSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AnswerStatus, HANDOFF_VERSION, MessageType, Protocol } from '@nat64/handoff-codec';
import { SqliteStore } from '@nat64/conntrack';
import { GatewayClient } from '@nat64/handoff-sim';
import { waitFor } from '@nat64/netlab';
import { formatTimestamp } from '@nat64/handoff-receiver';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { lookup } from '../src/queries.js';
import { MAIN, startChildReceiver, type ChildOptions, type ChildReceiver } from './support/child.js';
import { loopback, startTestReceiver, type TestReceiver } from './support/receiver.js';

const run = promisify(execFile);

describe('receiver persistence', () => {
  const receivers: TestReceiver[] = [];
  const children: ChildReceiver[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) await child.kill();
    for (const receiver of receivers.splice(0)) await receiver.cleanup();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  async function start(flags: Record<string, unknown> = {}): Promise<TestReceiver> {
    const receiver = await startTestReceiver(flags);
    receivers.push(receiver);
    return receiver;
  }
  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-persistence-'));
    dirs.push(dir);
    return dir;
  }
  async function startChild(dir: string, options: ChildOptions): Promise<ChildReceiver> {
    const child = await startChildReceiver(dir, options);
    children.push(child);
    return child;
  }

  it('keeps its table and gateway epochs across a restart, without logging anything twice', async () => {
    const first = await start();
    const gateway = await first.gateway(loopback(60));
    await gateway.hello();
    const held = [
      entry({ natAddress: loopback(60), natPort: 100, clientPort: 50_001 }),
      entry({ natAddress: loopback(60), natPort: 101, who: 2, clientPort: 50_002 }),
    ];
    await gateway.send(MessageType.CREATED, held);
    const retransmission = gateway.encode({
      type: MessageType.CREATED,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch: gateway.epoch,
      cookie: gateway.cookie,
      sequence: 1,
      entries: held,
    });
    const { epoch, cookie } = gateway;
    const second = await first.restart();
    receivers.push(second);
    // The same gateway epoch goes on: its cookie still works, its old message is a duplicate.
    const again = await second.gateway(loopback(60), { epoch });
    again.cookie = cookie;
    again.sendRaw(retransmission);
    await waitFor('the duplicate', () => second.daemon.counters.get('duplicates') === 1);
    expect(second.daemon.counters.get('gatewaysInitialized')).toBe(0);
    const answer = await again.query(Protocol.TCP, 101);
    expect(answer.status).toBe(AnswerStatus.FOUND);
    expect(answer.entry?.clientPort).toBe(50_002);
    // The index by client side is rebuilt from the database too.
    const byClient = await again.clientQuery(Protocol.TCP, held[1]!.clientAddress, 50_002);
    expect(byClient.entry?.natPort).toBe(101);
    expect(second.lines()).toEqual(['Initialized 127.0.0.60', 'Created 127.0.0.60:100 [2001:db8::1]:50001', 'Created 127.0.0.60:101 [2001:db8::2]:50002']);
  });

  it('answers who held a NAT address and port now and at a past time', async () => {
    const receiver = await start();
    const gateway = await receiver.gateway(loopback(61));
    await gateway.hello();
    await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(61), natPort: 3719, who: 0x17, clientPort: 50_023 })]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const between = Date.now() * 1000;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(61), natPort: 3719, who: 0x55, clientPort: 50_085 })]);
    const database = receiver.config.database;
    const now = await lookup({ database, endpoint: '127.0.0.61:3719', zone: 'utc', limit: 20 });
    expect(now.map((record) => [record.clientAddress[15], record.endReason])).toEqual([
      [0x55, null],
      [0x17, 'replaced'],
    ]);
    const past = await lookup({ database, endpoint: '127.0.0.61:3719', zone: 'utc', limit: 20, at: formatTimestamp(between, 'utc'), protocol: 'tcp' });
    expect(past.map((record) => record.clientAddress[15])).toEqual([0x17]);
    expect(await lookup({ database, endpoint: '127.0.0.61:3719', zone: 'utc', limit: 20, at: '2001-01-01 00:00' })).toEqual([]);
    // The command line, while the daemon runs and holds the database.
    const { stdout } = await run('node', [MAIN, 'lookup', '127.0.0.61:3719', '--db', database, '--at', formatTimestamp(between, 'utc')]);
    expect(stdout).toMatch(/^tcp 127\.0\.0\.61:3719 \[2001:db8::17\]:50023 server 198\.51\.100\.10:443 from .* until .* \(replaced\)\n$/);
    const missing = await run('node', [MAIN, 'lookup', '127.0.0.61:1', '--db', database]).catch((error: { code: number; stderr: string }) => error);
    expect(missing).toMatchObject({ code: 1, stderr: 'no entry for 127.0.0.61:1\n' });
    const { stdout: dump } = await run('node', [MAIN, 'dump', '--db', database]);
    expect(
      dump
        .split('\n')
        .filter(Boolean)
        .map((line) => line.slice(27)),
    ).toEqual(['Created 127.0.0.61:3719 [2001:db8::55]:50085']);
  }, 20_000);

  it('reopens its connection log on SIGHUP, for logrotate', async () => {
    const dir = tempDir();
    const log = join(dir, 'rotated.log');
    const child = await startChild(dir, { db: join(dir, 'child.db'), log });
    const gateway = await GatewayClient.open({ receiverAddress: '127.0.0.1', receiverPort: child.port, natAddress: loopback(63), localPort: 0 });
    await gateway.hello();
    await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(63), natPort: 1 })]);
    renameSync(log, `${log}.1`);
    child.child.kill('SIGHUP');
    await waitFor('the reopen', () => child.stderr().includes('reopened the connection log'));
    await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(63), natPort: 2, who: 2, clientPort: 50_002 })]);
    await gateway.close();
    expect(readFileSync(`${log}.1`, 'utf8')).toContain('Created 127.0.0.63:1 ');
    expect(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.slice(27)),
    ).toEqual(['Created 127.0.0.63:2 [2001:db8::2]:50002']);
    expect(await child.stop()).toBe(0);
    // Nothing is lost on a clean stop: the store holds both entries.
    const store = SqliteStore.openReadOnly(join(dir, 'child.db'));
    expect([...store.loadCurrent()]).toHaveLength(2);
    store.close();
  });

  it('loses no acknowledged entry when killed with SIGKILL under load', async () => {
    const dir = tempDir();
    const database = join(dir, 'killed.db');
    const child = await startChild(dir, { db: database, log: join(dir, 'killed.log') });
    const gateway = await GatewayClient.open({ receiverAddress: '127.0.0.1', receiverPort: child.port, natAddress: loopback(64), localPort: 0 });
    await gateway.hello();
    const acknowledged: number[] = [];
    const sends: Promise<unknown>[] = [];
    for (let batch = 0; batch < 200; batch++) {
      const ports = Array.from({ length: 30 }, (_, i) => 1 + batch * 30 + i);
      sends.push(
        gateway
          .send(
            MessageType.CREATED,
            ports.map((natPort) => entry({ natAddress: loopback(64), natPort })),
          )
          .then(
            () => acknowledged.push(...ports),
            () => undefined,
          ),
      );
    }
    await waitFor('some acknowledgements', () => acknowledged.length > 300);
    await child.kill();
    const seen = [...acknowledged];
    await gateway.close();
    await Promise.allSettled(sends);
    const store = SqliteStore.openReadOnly(database);
    const stored = new Set([...store.loadCurrent()].map((stored) => stored.natPort));
    store.close();
    expect(seen.length).toBeGreaterThan(300);
    expect(seen.filter((natPort) => !stored.has(natPort))).toEqual([]);
  });

  it('refuses a broken config with exit code 78 and names the setting', async () => {
    const failed = await run('node', [MAIN, 'run', '--capacity', '0']).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 78 });
    expect((failed as { stderr: string }).stderr).toContain('capacity: must be at least 1');
    const badDuration = await run('node', [MAIN, 'run', '--idle-timeout', 'soon']).catch((error: { code: number; stderr: string }) => error);
    expect(badDuration).toMatchObject({ code: 78 });
    expect((badDuration as { stderr: string }).stderr).toContain('idleTimeout: "soon" is not a duration');
  });
});
