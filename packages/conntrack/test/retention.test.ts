import { afterEach, describe, expect, it } from 'vitest';
import { ConnTable, Retention, SqliteStore } from '@nat64/conntrack';
import { NAT, SECOND, T0, create, manualClock, tcp } from './helpers/entries.js';
import { workerHarness } from './helpers/stores.js';

const DAY = 86_400 * SECOND;
const CAPACITY = 1000;
/** Ended rows made at T0, above the 100,000 an hour the receiver used to prune. */
const ENDED = 30_000;

describe('retention', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A table on a real file, on its writer thread, whose history holds ENDED rows ended at T0 (evicted by a small capacity). */
  async function filledTable(clock: ReturnType<typeof manualClock>): Promise<ConnTable> {
    const h = workerHarness();
    cleanups.push(() => h.cleanup());
    const path = h.path;
    const filler = ConnTable.open(SqliteStore.open(path), { capacity: CAPACITY, idleTimeout: Infinity, clock: () => T0 });
    for (let n = 0; n < ENDED + CAPACITY; n += 5000) {
      filler.apply(Array.from({ length: Math.min(5000, ENDED + CAPACITY - n) }, (_, i) => create(numbered(n + i))));
    }
    filler.close();
    const table = ConnTable.open(await h.open(), { capacity: CAPACITY, idleTimeout: Infinity, clock });
    cleanups.push(() => table.closeAsync());
    return table;
  }
  /** Entry n of the fill, on NAT port n of 192.0.2.7 and up. */
  const numbered = (n: number) => tcp(n % 65_536, 1, { natAddress: NAT + Math.floor(n / 65_536) });
  const heldBy = (table: ConnTable, n: number) => table.history({ natAddress: NAT + Math.floor(n / 65_536), natPort: n % 65_536 });

  it('deletes every ended incarnation past the retention period in one run of bounded transactions, keeping open and recent ones', async () => {
    const clock = manualClock(T0 + 90 * DAY);
    const table = await filledTable(clock);
    table.apply([create(tcp(0, 2))]);
    clock.advance(DAY);
    const run = await new Retention(table, { retention: 90 * DAY, clock, chunkRows: 4096 }).run();
    expect(run).toEqual({ pruned: ENDED, chunks: Math.ceil((ENDED + 1) / 4096) });
    expect(heldBy(table, 0).map((row) => [row.clientAddress[15], row.endedAt])).toEqual([[2, null]]);
    expect(heldBy(table, ENDED - 1)).toEqual([]);
    // Evicted by the create above, within the period.
    expect(heldBy(table, ENDED).map((row) => row.endedAt)).toEqual([T0 + 90 * DAY]);
    expect(heldBy(table, ENDED + 1).map((row) => row.endedAt)).toEqual([null]);
    expect(table.size).toBe(CAPACITY);
  });

  it('keeps what ended within the retention period', async () => {
    const clock = manualClock(T0 + 10 * DAY);
    const table = await filledTable(clock);
    expect(await new Retention(table, { retention: 90 * DAY, clock }).run()).toEqual({ pruned: 0, chunks: 1 });
    expect(heldBy(table, 0)).toHaveLength(1);
  });

  it('lets commits made during a run through between its transactions, and has them prune as they go', async () => {
    const clock = manualClock(T0 + 91 * DAY);
    const table = await filledTable(clock);
    const retention = new Retention(table, { retention: 90 * DAY, clock, chunkRows: 1000 });
    const run = retention.run();
    const commit = table.applyPipelined([create(tcp(60_000, 3, { natAddress: NAT + 9 }))]);
    await commit.durable;
    // The commit was queued behind the run's first transaction only; with its two events (the
    // create and the eviction it caused) it deleted 2 * 2 + 256 rows itself.
    expect(retention.running).toBe(true);
    const { pruned, chunks } = await run;
    expect(pruned).toBe(ENDED - 260);
    expect(chunks).toBe(Math.ceil((ENDED - 260 + 1) / 1000));
    expect(table.history({ natAddress: NAT + 9, natPort: 60_000 })).toHaveLength(1);
  });

  it('ends a run at its current transaction when stopped', async () => {
    const clock = manualClock(T0 + 91 * DAY);
    const table = await filledTable(clock);
    const retention = new Retention(table, { retention: 90 * DAY, clock, chunkRows: 1000 });
    const run = retention.run();
    await retention.stop();
    expect((await run).chunks).toBe(1);
    expect(await retention.run()).toEqual({ pruned: 0, chunks: 0 });
  });
});
