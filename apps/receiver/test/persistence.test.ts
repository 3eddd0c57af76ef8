import { execFile } from 'node:child_process';
import { renameSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AnswerStatus, HANDOFF_VERSION, MessageType, Protocol } from '@nat64/handoff-codec';
import { SqliteStore } from '@nat64/conntrack';
import { waitFor } from '@nat64/netlab';
import { formatTimestamp } from '@nat64/handoff-receiver';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { lookup } from '../src/queries.js';
import { loopback, startTestReceiver, type TestReceiver } from './support/receiver.js';

const run = promisify(execFile);
const MAIN = new URL('../dist/main.js', import.meta.url).pathname;

describe('receiver persistence', () => {
  const receivers: TestReceiver[] = [];
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.cleanup();
  });
  async function start(flags: Record<string, unknown> = {}): Promise<TestReceiver> {
    const receiver = await startTestReceiver(flags);
    receivers.push(receiver);
    return receiver;
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
    const { spawn } = await import('node:child_process');
    const receiver = await start();
    await receiver.stop();
    const dir = receiver.dir;
    const log = join(dir, 'rotated.log');
    const child = spawn(
      'node',
      [
        MAIN,
        'run',
        '--listen',
        '127.0.0.1',
        '--port',
        '0',
        '--db',
        join(dir, 'child.db'),
        '--conn-log',
        log,
        '--control',
        join(dir, 'child.sock'),
        '--log-level',
        'info',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const port = Number(await waitFor('the listening port', () => /"listen":\["127\.0\.0\.1:(\d+)"\]/.exec(stderr)?.[1]));
      const { GatewayClient } = await import('@nat64/handoff-sim');
      const gateway = await GatewayClient.open({ receiverAddress: '127.0.0.1', receiverPort: port, natAddress: loopback(63), localPort: 0 });
      await gateway.hello();
      await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(63), natPort: 1 })]);
      renameSync(log, `${log}.1`);
      child.kill('SIGHUP');
      await waitFor('the reopen', () => stderr.includes('reopened the connection log'));
      await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(63), natPort: 2, who: 2, clientPort: 50_002 })]);
      await gateway.close();
      expect(readFileSync(`${log}.1`, 'utf8')).toContain('Created 127.0.0.63:1 ');
      expect(
        readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => line.slice(27)),
      ).toEqual(['Created 127.0.0.63:2 [2001:db8::2]:50002']);
      child.kill('SIGTERM');
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
      // Nothing is lost on a clean stop: the store holds both entries.
      const store = SqliteStore.openReadOnly(join(dir, 'child.db'));
      expect([...store.loadCurrent()]).toHaveLength(2);
      store.close();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('loses no acknowledged entry when killed with SIGKILL under load', async () => {
    const { spawn } = await import('node:child_process');
    const receiver = await start();
    await receiver.stop();
    const database = join(receiver.dir, 'killed.db');
    const child = spawn(
      'node',
      [
        MAIN,
        'run',
        '--listen',
        '127.0.0.1',
        '--port',
        '0',
        '--db',
        database,
        '--conn-log',
        join(receiver.dir, 'killed.log'),
        '--control',
        join(receiver.dir, 'killed.sock'),
        '--log-level',
        'info',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const port = Number(await waitFor('the listening port', () => /"listen":\["127\.0\.0\.1:(\d+)"\]/.exec(stderr)?.[1]));
    const { GatewayClient } = await import('@nat64/handoff-sim');
    const gateway = await GatewayClient.open({ receiverAddress: '127.0.0.1', receiverPort: port, natAddress: loopback(64), localPort: 0 });
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
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
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
