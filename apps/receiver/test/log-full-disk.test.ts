// The connection log on a full disk and in a directory that disappears, through the real program:
// a receiver process, real UDP datagrams from a simulated gateway, a real tmpfs filled to the last
// byte. Nothing may crash, nothing may be acknowledged before its lines are in the log, and once
// the disk has room or the directory is back the log must read exactly as if nothing happened.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType } from '@nat64/handoff-codec';
import { GatewayClient } from '@nat64/handoff-sim';
import { waitFor } from '@nat64/netlab';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { startChildReceiver, type ChildReceiver } from './support/child.js';
import { loopback } from './support/receiver.js';

const NAT = loopback(71);
const LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} (Initialized 127\.0\.0\.71|(Created|Deleted) 127\.0\.0\.71:\d+ \[2001:db8::\w+\]:\d+)$/;
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log('log-full-disk: the full-disk tests need root (mount -t tmpfs); skipped');

const ports = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
/** The entries of `natPorts`, each held by client 2001:db8::<port>, port 40000 + port. */
const entriesOf = (natPorts: number[]) => natPorts.map((natPort) => entry({ natAddress: NAT, natPort, who: natPort }));
const expectedLines = (...groups: number[][]) => [
  'Initialized 127.0.0.71',
  ...groups.flat().map((port) => `Created 127.0.0.71:${port} [2001:db8::${(port & 0xff).toString(16)}]:${40_000 + port}`),
];

/** Fills the file system of `path` to the last page with a file there; returns its path. */
function fill(path: string): string {
  const fd = openSync(path, 'w');
  const page = Buffer.alloc(4096, 0x2e);
  try {
    for (;;) writeSync(fd, page);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return path;
}

/** The log's lines without timestamps, after checking that every line is whole and well formed. */
function checkedLines(log: string): string[] {
  const text = readFileSync(log, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.split('\n').slice(0, -1);
  for (const line of lines) expect(line).toMatch(LINE);
  return lines.map((line) => line.slice(27));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('connection log failures', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-full-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }
  /** A 64 KiB tmpfs at dir/logs, unmounted afterwards. */
  function smallDisk(dir: string): string {
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0750', 'tmpfs', logs]);
    cleanups.push(() => void execFileSync('umount', [logs]));
    return logs;
  }
  async function start(dir: string, log: string): Promise<ChildReceiver> {
    const receiver = await startChildReceiver(dir, { log });
    cleanups.push(() => receiver.kill());
    return receiver;
  }
  async function gatewayFor(receiver: ChildReceiver): Promise<GatewayClient> {
    // Large datagrams (loopback takes them): 100 entries are one message, one commit, whose lines
    // are longer than the room left in the log file's last page on a full tmpfs.
    const gateway = await GatewayClient.open({
      receiverAddress: '127.0.0.1',
      receiverPort: receiver.port,
      natAddress: NAT,
      localPort: 0,
      initialRtoMs: 200,
      mtu: 9000,
    });
    cleanups.push(() => gateway.close());
    await gateway.hello();
    return gateway;
  }

  it.skipIf(!isRoot)(
    'holds lines and ACKs while the disk is full, without crashing, and resumes exactly when it has room',
    async () => {
      const dir = tempDir();
      const log = join(smallDisk(dir), 'connections.log');
      const receiver = await start(dir, log);
      const gateway = await gatewayFor(receiver);
      await gateway.send(MessageType.CREATED, entriesOf(ports(1, 3)));
      const filler = fill(join(dir, 'logs', 'filler'));
      const acksBefore = await receiver.counter('acksSent');
      let acknowledged = false;
      const sent = gateway.send(MessageType.CREATED, entriesOf(ports(100, 100))).then(() => (acknowledged = true));
      sent.catch(() => undefined);
      await waitFor('the outage', async () => (await receiver.counter('logOutages')) === 1);
      // Retransmissions arrive and are stored, but nothing is acknowledged while the lines wait.
      await sleep(1500);
      expect(receiver.child.exitCode).toBeNull();
      expect(acknowledged).toBe(false);
      expect(await receiver.counter('acksSent')).toBe(acksBefore);
      expect(await receiver.counter('logWriteFailures')).toBeGreaterThan(1);
      unlinkSync(filler);
      await sent;
      expect(checkedLines(log)).toEqual(expectedLines(ports(1, 3), ports(100, 100)));
      // Logged once per change of state, not per retry.
      await waitFor('the resumption in the operational log', () => receiver.stderr().includes('the connection log takes lines again'));
      expect(await receiver.counter('logOutages')).toBe(1);
      const stderr = receiver.stderr();
      expect([stderr.split('cannot write the connection log').length - 1, stderr.split('the connection log takes lines again').length - 1], stderr).toEqual([
        1, 1,
      ]);
      expect(await receiver.stop()).toBe(0);
    },
    60_000,
  );

  it.skipIf(!isRoot)(
    'completes the log exactly after a SIGKILL on a full disk left a partial line, restarting while the disk is still full',
    async () => {
      const dir = tempDir();
      const log = join(smallDisk(dir), 'connections.log');
      const killed = await start(dir, log);
      const gateway = await gatewayFor(killed);
      await gateway.send(MessageType.CREATED, entriesOf(ports(1, 3)));
      const filler = fill(join(dir, 'logs', 'filler'));
      void gateway.send(MessageType.CREATED, entriesOf(ports(100, 100))).catch(() => undefined);
      await waitFor('every entry stored', async () => (await killed.counter('created')) === 103);
      await killed.kill();
      // The write the kill interrupted filled the room left in the file's last page: a partial line.
      expect(readFileSync(log, 'utf8').endsWith('\n')).toBe(false);
      // Restarted with the disk still full: it must come up, and hold what it cannot write.
      const restarted = await start(dir, log);
      expect(restarted.child.exitCode).toBeNull();
      unlinkSync(filler);
      await waitFor('the recovered lines', () => readFileSync(log, 'utf8').split('\n').length === 105);
      expect(await restarted.stop()).toBe(0);
      expect(checkedLines(log)).toEqual(expectedLines(ports(1, 3), ports(100, 100)));
    },
    60_000,
  );

  it('holds lines and ACKs while the log cannot be reopened after SIGHUP (directory gone), and resumes in the new file', async () => {
    const dir = tempDir();
    const logs = join(dir, 'logs');
    const log = join(logs, 'connections.log');
    const receiver = await start(dir, log);
    const gateway = await gatewayFor(receiver);
    await gateway.send(MessageType.CREATED, entriesOf(ports(1, 3)));
    renameSync(logs, join(dir, 'logs.old'));
    receiver.child.kill('SIGHUP');
    await waitFor('the failed reopen', async () => (await receiver.counter('logOutages')) === 1);
    const acksBefore = await receiver.counter('acksSent');
    let acknowledged = false;
    const sent = gateway.send(MessageType.CREATED, entriesOf(ports(100, 5))).then(() => (acknowledged = true));
    sent.catch(() => undefined);
    await sleep(1500);
    expect(receiver.child.exitCode).toBeNull();
    expect(acknowledged).toBe(false);
    expect(await receiver.counter('acksSent')).toBe(acksBefore);
    mkdirSync(logs);
    await sent;
    expect(checkedLines(join(dir, 'logs.old', 'connections.log'))).toEqual(expectedLines(ports(1, 3)));
    expect(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.slice(27)),
    ).toEqual(expectedLines([], ports(100, 5)).slice(1));
    await waitFor('the reopen in the operational log', () => receiver.stderr().includes('reopened the connection log'));
    expect(receiver.stderr().split('cannot reopen the connection log').length - 1, receiver.stderr()).toBe(1);
    expect(await receiver.stop()).toBe(0);
  }, 60_000);
});
