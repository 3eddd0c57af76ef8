import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, Protocol } from '@nat64/handoff-codec';
import { ConnTable, SqliteStore, type ConnEntry } from '@nat64/conntrack';
import { manualMicroClock } from '@nat64/service';
import { waitFor } from '@nat64/netlab';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { lookup } from '../src/queries.js';
import { loopback, startTestReceiver, type TestReceiver } from './support/receiver.js';

const DAY_US = 86_400 * 1_000_000;
const ENDED_AT = Date.UTC(2019, 2, 18) * 1000;
/** History rows ended at one moment: more than the 100,000 an hour the receiver used to prune. */
const ENDED = 120_000;
const NAT = 0xc0000200; // 192.0.2.0 and up

function storedEntry(n: number): ConnEntry {
  const clientAddress = new Uint8Array(16);
  clientAddress.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  return {
    protocol: Protocol.TCP,
    natAddress: NAT + Math.floor(n / 65_536),
    natPort: n % 65_536,
    clientAddress,
    clientPort: 40_000,
    serverAddress: 0xc633640a,
    serverPort: 443,
    createdAt: ENDED_AT,
  };
}

/** A database whose history holds ENDED incarnations, all ended at ENDED_AT, and nothing open. */
function fillDatabase(path: string): void {
  const table = ConnTable.open(SqliteStore.open(path), { capacity: 1, idleTimeout: Infinity, clock: () => ENDED_AT });
  for (let n = 0; n < ENDED + 1; n += 10_000) {
    table.apply(Array.from({ length: Math.min(10_000, ENDED + 1 - n) }, (_, i) => ({ op: 'create' as const, entry: storedEntry(n + i) })));
  }
  table.apply([{ op: 'delete', entry: storedEntry(ENDED), reason: 'admin' }]);
  table.close();
}

describe('retention', () => {
  const receivers: TestReceiver[] = [];
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.cleanup();
  });

  it('removes history past the retention period at more than 100,000 rows at once on its own schedule, while commits go on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-receiver-'));
    fillDatabase(join(dir, 'connections.db'));
    const clock = manualMicroClock(ENDED_AT + 91 * DAY_US);
    const receiver = await startTestReceiver({ retention: '90d' }, clock, dir);
    receivers.push(receiver);
    const database = receiver.config.database;
    expect(await lookup({ database, endpoint: '192.0.2.0:0', zone: 'utc', limit: 20 })).toHaveLength(1);
    const gateway = await receiver.gateway(loopback(80));
    await gateway.hello();
    let port = 0;
    // Every batch is stored and acknowledged while the history is pruned: send() resolves on the ACKs.
    await waitFor(
      'the history past the retention period to be pruned',
      async () => {
        await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(80), natPort: ++port, time: clock() })]);
        return receiver.daemon.counters.get('historyPruned') >= ENDED + 1;
      },
      30_000,
    );
    expect(receiver.daemon.counters.get('historyPruned')).toBe(ENDED + 1);
    for (const endpoint of ['192.0.2.0:0', '192.0.2.0:65535', '192.0.2.1:54463']) {
      expect(await lookup({ database, endpoint, zone: 'utc', limit: 20 })).toEqual([]);
    }
    expect((await lookup({ database, endpoint: `127.0.0.80:${port}`, zone: 'utc', limit: 20 })).map((record) => record.endedAt)).toEqual([null]);
    expect(receiver.daemon.counters.get('reliableApplied')).toBe(port);
  }, 60_000);
});
