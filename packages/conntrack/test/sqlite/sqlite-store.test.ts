import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnTable, SqliteStore, StoreError } from '@nat64/conntrack';
import { SECOND, T0, create, manualClock, tcp } from '../helpers/entries.js';
import { snapshot } from '../helpers/snapshot.js';
import { startStoreProcess, type StoreProcess } from '../helpers/child.js';
import { sqliteHarness } from '../helpers/stores.js';
import { storeContract } from '../store-suite.js';

describe('sqlite-store', () => {
  storeContract(() => sqliteHarness());

  const cleanups: Array<() => void | Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const harness = (options: Parameters<typeof sqliteHarness>[0] = {}) => {
    const h = sqliteHarness(options);
    cleanups.push(() => h.cleanup());
    return h;
  };

  describe('file format', () => {
    it('creates a WAL database carrying our application id and schema version in its header', async () => {
      const h = harness();
      await h.open();
      (await h.reopen()).close();
      const header = readFileSync(h.path).subarray(0, 100);
      expect(header.subarray(0, 16)).toEqual(Buffer.from('SQLite format 3\0', 'latin1'));
      expect(header.readUInt16BE(16)).toBe(8192); // page size
      expect([header[18], header[19]]).toEqual([2, 2]); // file format read/write version 2 = WAL
      expect(header.subarray(60, 64)).toEqual(Buffer.from([0x00, 0x00, 0x00, 0x03])); // user_version 3
      expect(header.subarray(68, 72)).toEqual(Buffer.from([0x4e, 0x36, 0x34, 0x43])); // application_id "N64C"
    });

    it('initializes an empty file and a blank SQLite database', async () => {
      const h = harness();
      writeFileSync(h.path, '');
      (await h.open()).commit([{ kind: 'created', entry: tcp(1), at: T0 }], []);
      (await h.reopen()).close();
      const blank = harness();
      new Database(blank.path).exec('VACUUM').close();
      expect(readFileSync(blank.path).length).toBeGreaterThan(0);
      (await blank.open()).commit([{ kind: 'created', entry: tcp(1), at: T0 }], []);
      expect([...(await blank.reopen()).loadCurrent()]).toHaveLength(1);
    });

    it('refuses invalid options', () => {
      const h = harness();
      expect(() => SqliteStore.open(h.path, { durability: 'fast' as 'full' })).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
      expect(() => SqliteStore.open(h.path, { busyTimeoutMs: -1 })).toThrow(StoreError);
      expect(() => SqliteStore.open(h.path, { maxBytes: 0 })).toThrow(StoreError);
    });

    it('names the file when it cannot be created', () => {
      const path = '/nonexistent-conntrack-dir/conntrack.db';
      expect(() => SqliteStore.open(path)).toThrow(expect.objectContaining({ code: 'io', message: expect.stringContaining(path) }));
    });
  });

  describe('durability', () => {
    it('opens with normal durability and keeps commits across a reopen', async () => {
      const h = harness({ durability: 'normal' });
      expect(((await h.open()) as SqliteStore).durability).toBe('normal');
      (await h.open()).commit([{ kind: 'created', entry: tcp(1), at: T0 }], [['w', new Uint8Array([1])]]);
      const again = await h.reopen();
      expect([...again.loadCurrent()]).toHaveLength(1);
      expect(again.getSide('w')).toEqual(new Uint8Array([1]));
    });

    for (const durability of ['full', 'normal'] as const) {
      it(`keeps every acknowledged batch, and no partial one, when the writer is killed with SIGKILL (${durability})`, async () => {
        const h = harness();
        const writer: StoreProcess = startStoreProcess('write', h.path, durability);
        cleanups.push(() => writer.kill());
        await writer.waitFor(/^acked 20$/);
        // Kill at an arbitrary point of a later batch, mid-transaction as likely as not.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
        await writer.kill();
        const acked = Math.max(...writer.lines.map((line) => Number(/^acked (\d+)$/.exec(line)?.[1] ?? -1)));
        const table = ConnTable.open(await h.open(), { capacity: 1_000_000, idleTimeout: Infinity, clock: manualClock() });
        const stored = new DataView(table.getSide('batch')!.buffer).getUint32(0);
        // The process may have committed one batch after its last line reached us, never fewer.
        expect(stored).toBeGreaterThanOrEqual(acked);
        expect(table.size).toBe((stored + 1) * 100);
        const addresses = new Set(Array.from(table.entries(), (entry) => entry.natAddress));
        expect(addresses.size).toBe(stored + 1);
        table.close();
      }, 30_000);
    }
  });

  describe('failed commits', () => {
    it('fails with full when a commit would outgrow maxBytes, leaving memory and file as they were', async () => {
      const h = harness({ maxBytes: 64 * 1024 });
      const clock = manualClock();
      let table = ConnTable.open(await h.open(), { capacity: 100_000, idleTimeout: Infinity, clock });
      let batch = 0;
      let failure: unknown;
      for (; batch < 100 && failure === undefined; batch++) {
        clock.advance(SECOND);
        const operations = Array.from({ length: 50 }, (_, i) => create(tcp(batch * 50 + i)));
        try {
          table.apply(operations, [['batch', new Uint8Array([batch])]]);
        } catch (error) {
          failure = error;
        }
      }
      expect(failure).toBeInstanceOf(StoreError);
      expect(failure).toMatchObject({ code: 'full', path: h.path });
      const failed = batch - 1;
      expect(failed).toBeGreaterThan(0);
      const before = snapshot(table);
      expect(before).toHaveLength(failed * 50);
      expect(table.getSide('batch')).toEqual(new Uint8Array([failed - 1]));
      table.close();

      table = ConnTable.open(SqliteStore.open(h.path), { capacity: 100_000, idleTimeout: Infinity, clock });
      expect(snapshot(table)).toEqual(before);
      expect(table.getSide('batch')).toEqual(new Uint8Array([failed - 1]));
      expect(table.apply([create(tcp(65_000))])).toHaveLength(1);
      table.close();
    });

    it('fails with busy while another connection holds the write lock, and commits once it is released', async () => {
      const h = harness({ busyTimeoutMs: 20 });
      const table = ConnTable.open(await h.open(), { capacity: 100, idleTimeout: Infinity, clock: manualClock() });
      table.apply([create(tcp(1))]);
      const before = snapshot(table);
      const other = new Database(h.path);
      cleanups.push(() => void other.close());
      other.exec('BEGIN IMMEDIATE');
      expect(() => table.apply([create(tcp(1, 2)), create(tcp(2))], [['w', new Uint8Array([1])]])).toThrow(expect.objectContaining({ code: 'busy' }));
      expect(snapshot(table)).toEqual(before);
      other.exec('ROLLBACK');
      expect(table.apply([create(tcp(1, 2)), create(tcp(2))], [['w', new Uint8Array([1])]])).toHaveLength(3);
      expect(table.getSide('w')).toEqual(new Uint8Array([1]));
      table.close();
    });
  });
});
