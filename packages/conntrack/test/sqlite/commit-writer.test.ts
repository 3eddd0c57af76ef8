import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DELETE_REASONS, MemoryStore, type SqliteStore, type ConnEvent } from '@nat64/conntrack';
import { SqliteTuning } from '../../src/constants.js';
import { encode, encodingLength } from '../../src/sqlite/batch-codec.js';
import { NAT, T0, tcp } from '../helpers/entries.js';
import { view } from '../helpers/snapshot.js';
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

  it('stores what the memory store stores for random batches of creates and deletes, however they interleave (property)', async () => {
    const PORTS = 100;
    const step = fc.record({
      port: fc.integer({ min: 0, max: PORTS - 1 }),
      who: fc.integer({ min: 1, max: 3 }),
      // null: a create (after a `replaced` delete when the key is held).
      reason: fc.constantFrom(null, null, ...DELETE_REASONS),
      // Mostly one time per batch, as the receiver's commits have, sometimes later within it.
      later: fc.constantFrom(false, false, false, false, false, false, false, true),
      // The gateway's creation time against the receiver's start: before it, or after (clock skew).
      skew: fc.integer({ min: -5_000_000, max: 5_000_000 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(step, { maxLength: 400, size: 'max' }), { minLength: 1, maxLength: 5 }), async (batches) => {
        const sqlite = await open();
        const memory = new MemoryStore();
        const held = new Map<number, number>();
        let at = T0;
        for (const steps of batches) {
          at += 10;
          const events: ConnEvent[] = [];
          for (const { port, who, reason, later, skew } of steps) {
            if (later) at++;
            const holder = held.get(port);
            if (reason === null) {
              if (holder !== undefined) events.push({ kind: 'deleted', entry: tcp(port, holder), at, reason: 'replaced' });
              events.push({ kind: 'created', entry: tcp(port, who, { createdAt: at + skew }), at });
              held.set(port, who);
            } else {
              // A delete of a key not held is ignored by both.
              events.push({ kind: 'deleted', entry: tcp(port, holder ?? who), at, reason });
              held.delete(port);
            }
          }
          sqlite.commit(events, []);
          memory.commit(events, []);
        }
        expect([...sqlite.loadCurrent()].map(view)).toEqual([...memory.loadCurrent()].map(view));
        for (let port = 0; port < PORTS; port++) {
          expect(sqlite.history({ natAddress: NAT, natPort: port, limit: 10_000 })).toEqual(memory.history({ natAddress: NAT, natPort: port, limit: 10_000 }));
        }
      }),
      { numRuns: 40 },
    );
  }, 60_000);

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
