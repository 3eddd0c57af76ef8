import { afterEach, describe, expect, it } from 'vitest';
import type { SqliteStore, ConnEvent } from '@nat64/conntrack';
import { SqliteTuning } from '../../src/constants.js';
import { encode, encodingLength } from '../../src/sqlite/batch-codec.js';
import { NAT, T0, tcp } from '../helpers/entries.js';
import { sqliteHarness } from '../helpers/stores.js';

describe('commit-writer', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const open = async () => {
    const h = sqliteHarness();
    cleanups.push(() => h.cleanup());
    return (await h.open()) as SqliteStore;
  };
  const created = (natAddress: number, natPort: number, at = T0): ConnEvent => ({ kind: 'created', entry: tcp(natPort, 1, { natAddress }), at });

  it('stores a run of creates of every length up to past the largest statement, in event order', async () => {
    const store = await open();
    const largest = Math.max(...SqliteTuning.insertRows);
    for (let length = 0; length <= largest + 7; length++) {
      // NAT ports descending, so that only the insertion order (rowid) orders rows of one start time.
      store.commit(
        Array.from({ length }, (_, i) => created(NAT + length, length - i)),
        [],
      );
    }
    const current = [...store.loadCurrent()];
    const expected = Array.from({ length: largest + 8 }, (_, length) => Array.from({ length }, (_, i) => `${NAT + length}:${length - i}`)).flat();
    expect(current.map((entry) => `${entry.natAddress}:${entry.natPort}`)).toEqual(expected);
  });

  it('ends the open incarnation before a create that reuses its key within one run of events', async () => {
    const store = await open();
    store.commit([created(NAT, 1), created(NAT, 2), created(NAT, 3)], []);
    store.commit(
      [
        created(NAT, 4, T0 + 1),
        { kind: 'deleted', entry: tcp(2), at: T0 + 1, reason: 'replaced' },
        { kind: 'created', entry: tcp(2, 2), at: T0 + 1 },
        created(NAT, 5, T0 + 1),
      ],
      [],
    );
    expect([...store.loadCurrent()].map((entry) => `${entry.natPort} by ${entry.clientAddress[15]}`)).toEqual([
      '1 by 1',
      '3 by 1',
      '4 by 1',
      '2 by 2',
      '5 by 1',
    ]);
    expect(store.history({ natAddress: NAT, natPort: 2 }).map((record) => record.endReason)).toEqual([null, 'replaced']);
  });

  it('stores nothing of a batch whose bytes hold an unknown event kind', async () => {
    const store = await open();
    const batch = { events: [created(NAT, 1), created(NAT, 2)], side: [['w', new Uint8Array([1])] as const] };
    const bytes = new Uint8Array(encodingLength(batch));
    encode(batch, bytes, 0);
    bytes[8 + 48 + 31] = 0xee;
    expect(() => store.commitEncoded(bytes)).toThrow(expect.objectContaining({ code: 'corrupt', message: expect.stringContaining('offset 87') }));
    expect([...store.loadCurrent()]).toEqual([]);
    expect(store.getSide('w')).toBeNull();
  });
});
