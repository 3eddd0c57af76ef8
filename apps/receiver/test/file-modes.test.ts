// Who may read what the receiver writes: the real program, started under a umask that takes
// nothing away, so that the modes below are the receiver's own doing.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType } from '@nat64/handoff-codec';
import { GatewayClient } from '@nat64/handoff-sim';
import { waitFor } from '@nat64/netlab';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { startChildReceiver, type ChildReceiver } from './support/child.js';
import { loopback } from './support/receiver.js';

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('receiver file modes', () => {
  let dir: string;
  let receiver: ChildReceiver | undefined;
  afterEach(async () => {
    await receiver?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the database files 0600, the connection log 0640 and its directories 0750, whatever the umask', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nat64-modes-'));
    const db = join(dir, 'state', 'nat64', 'connections.db');
    const log = join(dir, 'logs', 'nat64', 'connections.log');
    receiver = await startChildReceiver(dir, { db, log, umask: '000' });
    const gateway = await GatewayClient.open({
      receiverAddress: '127.0.0.1',
      receiverPort: receiver.port,
      natAddress: loopback(72),
      localPort: 0,
      initialRtoMs: 200,
    });
    try {
      await gateway.hello();
      await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(72), natPort: 1 })]);
    } finally {
      await gateway.close();
    }
    await waitFor('the WAL', () => existsSync(`${db}-wal`) && existsSync(`${db}-shm`));
    const modes = Object.fromEntries(
      [db, `${db}-wal`, `${db}-shm`, `${db}-lock`, log, join(dir, 'state'), join(dir, 'state', 'nat64'), join(dir, 'logs'), join(dir, 'logs', 'nat64')].map(
        (path) => [path.slice(dir.length + 1), modeOf(path).toString(8)],
      ),
    );
    expect(modes).toEqual({
      'state/nat64/connections.db': '600',
      'state/nat64/connections.db-wal': '600',
      'state/nat64/connections.db-shm': '600',
      'state/nat64/connections.db-lock': '600',
      'logs/nat64/connections.log': '640',
      state: '750',
      'state/nat64': '750',
      logs: '750',
      'logs/nat64': '750',
    });
    expect(await receiver.stop()).toBe(0);
  }, 30_000);
});
