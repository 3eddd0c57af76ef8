// The connection log after a crash, through the real program: a receiver killed with SIGKILL
// between a commit and its log lines, started again on the files it left.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HANDOFF_VERSION, MessageType, type HandoffEntry } from '@nat64/handoff-codec';
import { GatewayClient } from '@nat64/handoff-sim';
import { waitFor } from '@nat64/netlab';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { startChildReceiver, type ChildReceiver } from './support/child.js';
import { loopback } from './support/receiver.js';

const NAT = loopback(70);

const linesOf = (bytes: Buffer) => bytes.toString('utf8').split('\n').filter(Boolean);

describe('connection log crash recovery', () => {
  const dirs: string[] = [];
  const children: ChildReceiver[] = [];
  const gateways: GatewayClient[] = [];
  afterEach(async () => {
    for (const gateway of gateways.splice(0)) await gateway.close();
    for (const child of children.splice(0)) await child.kill();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  async function start(dir: string): Promise<ChildReceiver> {
    const child = await startChildReceiver(dir);
    children.push(child);
    return child;
  }

  it('writes the lines of a commit killed before its lines, byte for byte as they would have been written, several events per key included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-crash-'));
    dirs.push(dir);
    const crashed = await start(dir);
    const gateway = await GatewayClient.open({ receiverAddress: '127.0.0.1', receiverPort: crashed.port, natAddress: NAT, localPort: 0, initialRtoMs: 200 });
    gateways.push(gateway);
    await gateway.hello();
    await gateway.send(MessageType.CREATED, [
      entry({ natAddress: NAT, natPort: 9, clientPort: 50_001 }),
      entry({ natAddress: NAT, natPort: 40, who: 9, clientPort: 50_009 }),
    ]);
    // Messages 2 and 3 go into one commit: 3 arrives first and waits for 2. In it, port 9 changes
    // hands twice, port 5 is created and deleted, port 40 ends.
    const message = (type: typeof MessageType.CREATED | typeof MessageType.DELETED, sequence: number, entries: HandoffEntry[]) =>
      gateway.encode({ type, version: HANDOFF_VERSION, flags: 0, epoch: gateway.epoch, cookie: gateway.cookie, sequence, entries });
    gateway.sendRaw(
      message(MessageType.DELETED, 3, [
        entry({ natAddress: NAT, natPort: 5, who: 4, clientPort: 50_004 }),
        entry({ natAddress: NAT, natPort: 40, who: 9, clientPort: 50_009 }),
      ]),
    );
    gateway.sendRaw(
      message(MessageType.CREATED, 2, [
        entry({ natAddress: NAT, natPort: 9, who: 2, clientPort: 50_002 }),
        entry({ natAddress: NAT, natPort: 9, who: 3, clientPort: 50_003 }),
        entry({ natAddress: NAT, natPort: 5, who: 4, clientPort: 50_004 }),
      ]),
    );
    const log = join(dir, 'connections.log');
    await waitFor('the lines of both commits', () => existsSync(log) && linesOf(readFileSync(log)).length === 10);
    await crashed.kill();
    const complete = readFileSync(log);
    const lines = linesOf(complete);
    const stamp = lines.at(-1)!.slice(0, 26);
    const lastCommit = lines.filter((line) => line.startsWith(stamp));
    expect(lastCommit.map((line) => line.slice(27))).toEqual([
      'Created 127.0.0.70:5 [2001:db8::4]:50004',
      'Deleted 127.0.0.70:5 [2001:db8::4]:50004',
      'Deleted 127.0.0.70:9 [2001:db8::1]:50001',
      'Created 127.0.0.70:9 [2001:db8::2]:50002',
      'Deleted 127.0.0.70:9 [2001:db8::2]:50002',
      'Created 127.0.0.70:9 [2001:db8::3]:50003',
      'Deleted 127.0.0.70:40 [2001:db8::9]:50009',
    ]);
    const before = lines.slice(0, lines.length - lastCommit.length);
    // The database as the SIGKILL left it, with the log cut where a crash after the commit could
    // have cut it: before the commit's lines, inside them, inside one of them, or not at all.
    const cuts: Record<string, string> = {
      'no line of the commit': before.map((line) => `${line}\n`).join(''),
      'three lines of it': [...before, ...lastCommit.slice(0, 3)].map((line) => `${line}\n`).join(''),
      'three lines and part of the fourth': `${[...before, ...lastCommit.slice(0, 3)].map((line) => `${line}\n`).join('')}${lastCommit[3]!.slice(0, 35)}`,
      'every line': complete.toString('utf8'),
    };
    for (const [name, text] of Object.entries(cuts)) {
      const restarted = join(dir, name.replaceAll(' ', '-'));
      mkdirSync(restarted);
      for (const suffix of ['', '-wal', '-shm'])
        if (existsSync(join(dir, `connections.db${suffix}`))) copyFileSync(join(dir, `connections.db${suffix}`), join(restarted, `connections.db${suffix}`));
      writeFileSync(join(restarted, 'connections.log'), text);
      const receiver = await start(restarted);
      expect(await receiver.stop()).toBe(0);
      expect([name, readFileSync(join(restarted, 'connections.log'), 'utf8')]).toEqual([name, complete.toString('utf8')]);
    }
  }, 30_000);
});
