import { writeFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnTable, SqliteStore, type StoreError, connKey, type ConnTableOptions, type SqliteWorkerStore } from '@nat64/conntrack';
import { NAT, SECOND, T0, create, manualClock, tcp } from '../../helpers/entries.js';
import { snapshot, view } from '../../helpers/snapshot.js';
import { startStoreProcess } from '../../helpers/child.js';
import { workerHarness } from '../../helpers/stores.js';
import { storeContract } from '../../store-suite.js';
import { tableSemantics } from '../../table-suite.js';

describe('worker-store', () => {
  describe('ConnStore contract', () => storeContract(() => workerHarness()));
  describe('table semantics', () => tableSemantics(() => workerHarness()));

  const cleanups: Array<() => void | Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const harness = (options: Parameters<typeof workerHarness>[0] = {}) => {
    const h = workerHarness(options);
    cleanups.push(() => h.cleanup());
    return h;
  };
  const openTable = async (h: ReturnType<typeof workerHarness>, options: Partial<ConnTableOptions> = {}) =>
    ConnTable.open(await h.open(), { capacity: 100_000, idleTimeout: Infinity, clock: manualClock(), ...options });
  const readOnly = (path: string) => {
    const reader = SqliteStore.openReadOnly(path);
    cleanups.push(() => reader.close());
    return reader;
  };
  /** Batch n: 10 creates on NAT ports 10n..10n+9 and side record "seq" = n. */
  const numbered = (n: number) => [Array.from({ length: 10 }, (_, i) => create(tcp(10 * n + i))), [['seq', new Uint8Array([n >> 8, n & 0xff])]]] as const;
  const seqOf = (value: Uint8Array | null) => (value === null ? -1 : (value[0]! << 8) | value[1]!);

  describe('pipeline', () => {
    it('has a batch on disk, entries and side records, by the time its promise resolves', async () => {
      const h = harness();
      const table = await openTable(h);
      const reader = readOnly(h.path);
      const seen: number[] = [];
      const durables = Array.from({ length: 30 }, (_, n) =>
        table.applyPipelined(...numbered(n)).durable.then(() => {
          // Another connection, which sees only committed transactions.
          seen.push(seqOf(reader.getSide('seq')));
          expect(reader.history({ natAddress: NAT, natPort: 10 * n + 9 })).toHaveLength(1);
        }),
      );
      await Promise.all(durables);
      expect(seen.every((seq, n) => seq >= n)).toBe(true);
      expect([...reader.loadCurrent()]).toHaveLength(300);
    });

    it('stores batches in call order and resolves them in that order', async () => {
      const h = harness();
      const clock = manualClock();
      const table = await openTable(h, { clock });
      const order: number[] = [];
      const durables: Array<Promise<void>> = [];
      // Each batch replaces the previous batch's entries, so the history shows the order of commits.
      for (let n = 0; n < 200; n++) {
        clock.advance(1);
        const operations = Array.from({ length: 5 }, (_, port) => create(tcp(port, n + 1)));
        durables.push(table.applyPipelined(operations, [['seq', new Uint8Array([n >> 8, n & 0xff])]]).durable.then(() => void order.push(n)));
      }
      await Promise.all(durables);
      expect(order).toEqual(Array.from({ length: 200 }, (_, n) => n));
      const history = table.history({ natAddress: NAT, natPort: 3, limit: 1000 });
      expect(history.map((record) => record.clientPort - 50_000)).toEqual(Array.from({ length: 200 }, (_, n) => 200 - n));
      expect(history.slice(1).map((record) => record.endReason)).toEqual(Array(199).fill('replaced'));
      expect(seqOf(table.getSide('seq'))).toBe(199);
    });

    it('answers reads after the batches queued before them', async () => {
      const h = harness();
      const table = await openTable(h);
      for (let n = 0; n < 5; n++) void table.applyPipelined(...numbered(n));
      expect(seqOf(table.getSide('seq'))).toBe(4);
      expect(table.history({ natAddress: NAT, natPort: 49 })).toHaveLength(1);
    });

    it('blocks apply() until its batch is stored, and undoes only that batch when it fails', async () => {
      const h = harness({ busyTimeoutMs: 0 });
      const table = await openTable(h);
      table.apply([create(tcp(1))]);
      const before = snapshot(table);
      const other = new Database(h.path);
      cleanups.push(() => void other.close());
      other.exec('BEGIN IMMEDIATE');
      expect(() => table.apply([create(tcp(1, 2)), create(tcp(2))], [['w', new Uint8Array([1])]])).toThrow(expect.objectContaining({ code: 'busy' }));
      expect(snapshot(table)).toEqual(before);
      expect(table.failure).toBeUndefined();
      other.exec('ROLLBACK');
      expect(table.apply([create(tcp(1, 2)), create(tcp(2))], [['w', new Uint8Array([1])]])).toHaveLength(3);
      expect(readOnly(h.path).getSide('w')).toEqual(new Uint8Array([1]));
    });
  });

  describe('failure and recovery', () => {
    it('rejects the batch that fills the disk and every batch after it, fails the table, and recover() reloads what is durable', async () => {
      const h = harness({ maxBytes: 160 * 1024 });
      const clock = manualClock();
      const table = await openTable(h, { clock });
      // Batch n: 50 creates on ports (50n + i) mod 200 by client n, so from batch 4 on every create
      // replaces an entry and the file fills with ended incarnations that prune() can free.
      const batch = (n: number) => Array.from({ length: 50 }, (_, i) => create(tcp((50 * n + i) % 200, n + 1)));
      const outcomes: Array<Promise<'resolved' | StoreError>> = [];
      for (let n = 0; n < 400 && table.failure === undefined; n++) {
        clock.advance(SECOND);
        const { durable } = table.applyPipelined(batch(n), [['batch', new Uint8Array([n >> 8, n & 0xff])]]);
        outcomes.push(
          durable.then(
            () => 'resolved' as const,
            (error: StoreError) => error,
          ),
        );
        // Keep a few batches in flight, so that the failure finds some queued behind it.
        if (n % 8 === 7) await outcomes[n - 4];
      }
      const results = await Promise.all(outcomes);
      const stored = results.indexOf(results.find((result) => result !== 'resolved')!);
      expect(stored).toBeGreaterThan(4);
      expect(results.length - stored).toBeGreaterThan(1);
      const failure = results[stored];
      expect(failure).toMatchObject({ name: 'StoreError', code: 'full', path: h.path });
      expect(results.slice(stored).every((result) => result === failure)).toBe(true);
      expect(table.failure).toBe(failure);

      for (const mutate of [
        () => table.apply([create(tcp(999))]),
        () => table.applyPipelined([create(tcp(999))]),
        () => table.expireIdle(),
        () => table.expireIdlePipelined(),
        () => table.touch(connKey(6, NAT, 0)),
        () => table.prune(Number.MAX_SAFE_INTEGER),
      ]) {
        expect(mutate).toThrow(expect.objectContaining({ code: 'failed', cause: failure }));
      }
      expect(table.get(connKey(6, NAT, 0))).toBeDefined();

      await table.recover();
      expect(table.failure).toBeUndefined();
      const durable = [...readOnly(h.path).loadCurrent()].map(view);
      expect(snapshot(table)).toEqual(durable);
      expect(table.getSide('batch')).toEqual(new Uint8Array([(stored - 1) >> 8, (stored - 1) & 0xff]));
      // Batch stored-1 is the last on disk: its 50 entries are held by client `stored`.
      expect(snapshot(table).filter((entry) => entry.client === view(tcp(0, stored)).client)).toHaveLength(50);

      expect(table.prune(Number.MAX_SAFE_INTEGER)).toBeGreaterThan(0);
      clock.advance(SECOND);
      const { events, durable: more } = table.applyPipelined([create(tcp(1000))], [['batch', new Uint8Array([9, 9])]]);
      expect(events).toHaveLength(1);
      await more;
      expect(readOnly(h.path).getSide('batch')).toEqual(new Uint8Array([9, 9]));
    });

    it('keeps the batches before the one that fills the disk when they wait for the writer together (group commit)', async () => {
      // Batch n: 50 creates of client n on ports 50n..50n+49, and side record "batch" = n.
      const batch = (n: number) =>
        [Array.from({ length: 50 }, (_, i) => create(tcp(50 * n + i, n + 1))), [['batch', new Uint8Array([n >> 8, n & 0xff])]]] as const;
      const maxBytes = 96 * 1024;
      // How many batches fit, committed one at a time.
      const alone = await openTable(harness({ maxBytes }));
      let fit = 0;
      for (; fit < 1000; fit++) {
        try {
          alone.apply(...batch(fit));
        } catch (error) {
          expect(error).toMatchObject({ code: 'full' });
          break;
        }
      }
      expect(fit).toBeGreaterThan(6);

      const h = harness({ maxBytes, busyTimeoutMs: 10_000 });
      const table = await openTable(h);
      for (let n = 0; n < fit - 4; n++) table.apply(...batch(n));
      // Another connection holds the write lock, so the writer waits for it while the batches queue
      // up: they reach the writer together.
      const other = new Database(h.path);
      cleanups.push(() => void other.close());
      other.exec('BEGIN IMMEDIATE');
      const outcomes = Array.from({ length: 8 }, (_, i) =>
        table.applyPipelined(...batch(fit - 4 + i)).durable.then(
          () => 'resolved' as const,
          (error: StoreError) => error.code,
        ),
      );
      setTimeout(() => other.exec('ROLLBACK'), 200);
      const results = await Promise.all(outcomes);
      const stored = results.indexOf('full');
      expect(results).toEqual([...Array(stored).fill('resolved'), ...Array(8 - stored).fill('full')]);
      // Those that fit stand (storing none, or only the one that may have waited alone, would not).
      expect(stored).toBeGreaterThan(1);
      const reader = readOnly(h.path);
      expect(reader.getSide('batch')).toEqual(new Uint8Array([0, fit - 4 + stored - 1]));
      expect([...reader.loadCurrent()]).toHaveLength(50 * (fit - 4 + stored));
    });

    it('fails everything waiting when the writer thread dies, and stays failed', async () => {
      const h = harness();
      const table = await openTable(h);
      const store = (await h.open()) as SqliteWorkerStore;
      table.apply([create(tcp(1))]);
      const worker = (store as unknown as { worker: Worker }).worker;
      const { durable } = table.applyPipelined([create(tcp(2))]);
      await worker.terminate();
      await expect(durable).rejects.toMatchObject({ code: 'io', message: expect.stringContaining('writer thread') });
      expect(table.failure?.code).toBe('io');
      expect(() => table.apply([create(tcp(3))])).toThrow(expect.objectContaining({ code: 'failed' }));
      expect(() => table.getSide('w')).toThrow(expect.objectContaining({ code: 'io' }));
      await expect(table.recover()).rejects.toMatchObject({ code: 'io' });
      await table.closeAsync();
    });
  });

  describe('open', () => {
    it('refuses what SqliteStore.open refuses, with the same error, and leaves no thread behind', async () => {
      const h = harness();
      writeFileSync(h.path, 'not a database, only text long enough to fill an SQLite header and some more '.repeat(3));
      await expect(SqliteStore.openInWorker(h.path)).rejects.toMatchObject({ code: 'not-sqlite', path: h.path });
      await expect(SqliteStore.openInWorker(h.path, { durability: 'fast' as 'full' })).rejects.toMatchObject({ code: 'invalid-argument' });
    });

    it('keeps the writer lock on its thread: a second open in this process is refused', async () => {
      const h = harness();
      await h.open();
      expect(() => SqliteStore.open(h.path)).toThrow(expect.objectContaining({ code: 'locked' }));
      await expect(SqliteStore.openInWorker(h.path)).rejects.toMatchObject({ code: 'locked' });
    });
  });

  describe('across processes', () => {
    it('refuses a store another process holds on a writer thread, and opens it once that process is killed', async () => {
      const h = harness();
      const holder = startStoreProcess('hold-worker', h.path);
      cleanups.push(() => holder.kill());
      await holder.waitFor(/^ready$/);
      expect(() => SqliteStore.open(h.path)).toThrow(expect.objectContaining({ code: 'locked' }));
      await expect(SqliteStore.openInWorker(h.path)).rejects.toMatchObject({ code: 'locked' });
      await holder.kill();
      await h.open();
      const refused = startStoreProcess('hold', h.path);
      cleanups.push(() => refused.kill());
      await refused.waitFor(/^refused locked$/);
      expect(await refused.exited).toBe(3);
    }, 30_000);

    for (const durability of ['full', 'normal'] as const) {
      it(`keeps every batch whose promise resolved, and no partial one, when the process is killed with SIGKILL (${durability})`, async () => {
        const h = harness();
        const writer = startStoreProcess('pipeline', h.path, durability);
        cleanups.push(() => writer.kill());
        await writer.waitFor(/^acked 20$/);
        // Kill at an arbitrary point, with batches in flight as likely as not.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
        await writer.kill();
        const acked = Math.max(...writer.lines.map((line) => Number(/^acked (\d+)$/.exec(line)?.[1] ?? -1)));
        const table = await openTable(h, { capacity: 1_000_000 });
        const stored = new DataView(table.getSide('batch')!.buffer).getUint32(0);
        expect(stored).toBeGreaterThanOrEqual(acked);
        expect(table.size).toBe((stored + 1) * 100);
        expect(new Set(Array.from(table.entries(), (entry) => entry.natAddress)).size).toBe(stored + 1);
      }, 30_000);
    }

    it('stores every queued batch on closeAsync(), after which the process ends by itself', async () => {
      const h = harness();
      const child = startStoreProcess('close-and-exit', h.path, 'normal');
      cleanups.push(() => child.kill());
      await child.waitFor(/^closed 50$/);
      expect(await child.exited).toBe(0);
      const table = await openTable(h, { capacity: 1_000_000 });
      expect(table.size).toBe(50 * 100);
      expect(new DataView(table.getSide('batch')!.buffer).getUint32(0)).toBe(49);
    }, 30_000);

    it('keeps the process alive while batches are queued and lets it end once they are stored, even unclosed', async () => {
      const h = harness();
      const child = startStoreProcess('forget-close', h.path, 'normal');
      cleanups.push(() => child.kill());
      await child.waitFor(/^resolved 50$/);
      expect(await child.exited).toBe(0);
      const table = await openTable(h, { capacity: 1_000_000 });
      expect(table.size).toBe(50 * 100);
    }, 30_000);
  });

  describe('close', () => {
    it('waits for the queued batches, then releases the lock', async () => {
      for (const close of ['closeAsync', 'close'] as const) {
        const h = harness();
        const table = await openTable(h);
        const settled: number[] = [];
        for (let n = 0; n < 20; n++) void table.applyPipelined(...numbered(n)).durable.then(() => void settled.push(n));
        if (close === 'closeAsync') await table.closeAsync();
        else table.close();
        await null;
        expect(settled).toHaveLength(20);
        SqliteStore.open(h.path).close();
        expect(seqOf(readOnly(h.path).getSide('seq'))).toBe(19);
      }
    });

    it('refuses use after close', async () => {
      const h = harness();
      const store = (await h.open()) as SqliteWorkerStore;
      await store.closeAsync();
      await store.closeAsync();
      store.close();
      expect(() => store.commitPipelined([], [])).toThrow(expect.objectContaining({ code: 'closed' }));
      expect(() => store.getSide('w')).toThrow(expect.objectContaining({ code: 'closed' }));
      await expect(store.recover()).rejects.toMatchObject({ code: 'closed' });
    });
  });
});

describe('worker-store events', () => {
  it('stamps the receiver time of each batch on its rows', async () => {
    const h = workerHarness();
    try {
      const clock = manualClock();
      const table = ConnTable.open(await h.open(), { capacity: 10, idleTimeout: Infinity, clock });
      await table.applyPipelined([create(tcp(1))]).durable;
      clock.advance(SECOND);
      await table.applyPipelined([create(tcp(1, 2))]).durable;
      expect(table.history({ natAddress: NAT, natPort: 1 }).map((record) => [record.startedAt, record.endedAt])).toEqual([
        [T0 + SECOND, null],
        [T0, T0 + SECOND],
      ]);
    } finally {
      await h.cleanup();
    }
  });
});
