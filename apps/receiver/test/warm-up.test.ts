import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType } from '@nat64/handoff-codec';
import { GatewayClient } from '@nat64/handoff-sim';
import { silentLogger } from '@nat64/service';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { startReceiver } from '../src/index.js';
import { warmUp } from '../src/warm-up.js';
import { loopback, testReceiverConfig } from './support/receiver.js';

/** A logger whose lines (parsed) land in `lines`. */
function recordingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

/** Runs `body` with os.tmpdir() pointing at `dir`. */
async function withTmpdir<T>(dir: string, body: () => Promise<T>): Promise<T> {
  const before = process.env['TMPDIR'];
  process.env['TMPDIR'] = dir;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = before;
  }
}

describe('receiver warm-up', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-warm-up-test-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };

  it('has a scratch engine acknowledge every made-up entry, and leaves nothing behind', async () => {
    const dir = scratch();
    const result = await withTmpdir(dir, () => warmUp(3000, 0, silentLogger()));
    expect(result.entries).toBe(3000);
    expect(result.ms).toBeGreaterThan(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('waits for ACKs held back by an ACK delay', async () => {
    const dir = scratch();
    const result = await withTmpdir(dir, () => warmUp(500, 4, silentLogger()));
    expect(result.entries).toBe(500);
  });

  it('logs a failure and lets the start go on', async () => {
    const { logger, lines } = recordingLogger();
    const result = await withTmpdir(join(scratch(), 'missing'), () => warmUp(100, 0, logger));
    expect(result.entries).toBe(0);
    expect(lines.map((line) => line['msg'])).toContain('warm-up failed; starting without it');
  });

  it('runs before the receiver listens, and leaves its log and peers alone', async () => {
    const dir = scratch();
    const work = join(dir, 'tmp');
    mkdirSync(work);
    const { logger, lines } = recordingLogger();
    const config = testReceiverConfig(dir, { warmUp: 2000, logLevel: 'info' });
    const daemon = await withTmpdir(work, () => startReceiver(config, logger));
    cleanups.push(() => daemon.close());
    const messages = lines.map((line) => line['msg']);
    expect(messages.indexOf('warmed up')).toBeGreaterThanOrEqual(0);
    expect(messages.indexOf('warmed up')).toBeLessThan(messages.indexOf('receiver started'));
    expect(lines.find((line) => line['msg'] === 'warmed up')).toMatchObject({ entries: 2000 });
    expect(readdirSync(work)).toEqual([]);
    expect(daemon.receiver.peerCount).toBe(0);
    const logText = () => (existsSync(config.connectionLog) ? readFileSync(config.connectionLog, 'utf8') : '');
    expect(logText()).toBe('');
    const port = Number(daemon.transport!.bound[0]!.split(':').at(-1));
    const gateway = await GatewayClient.open({ receiverAddress: '127.0.0.1', receiverPort: port, natAddress: loopback(71), localPort: 0 });
    cleanups.push(() => gateway.close());
    await gateway.hello();
    await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(71), natPort: 20, clientPort: 2001 })]);
    expect(
      logText()
        .split('\n')
        .filter(Boolean)
        .map((line) => line.slice(27)),
    ).toEqual(['Initialized 127.0.0.71', 'Created 127.0.0.71:20 [2001:db8::1]:2001']);
  });
});
