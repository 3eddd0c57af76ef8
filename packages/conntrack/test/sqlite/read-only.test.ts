import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteReader, SqliteStore, StoreError } from '@nat64/conntrack';
import { SqliteReader as LeanSqliteReader } from '@nat64/conntrack/sqlite-reader';
import { NAT, T0, tcp } from '../helpers/entries.js';
import { sqliteHarness } from '../helpers/stores.js';

describe('sqlite-store read-only', () => {
  const cleanups: Array<() => void | Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  // SqliteStore.openReadOnly, and SqliteReader (the lean reader of `@nat64/conntrack/sqlite-reader`).
  describe.each([
    ['SqliteStore.openReadOnly', (path: string) => SqliteStore.openReadOnly(path)],
    ['SqliteReader.open', (path: string) => SqliteReader.open(path)],
  ])('%s', (_name, openReader) => {
    it('reads what the writer commits while the writer holds its lock', async () => {
      const h = sqliteHarness();
      cleanups.push(() => h.cleanup());
      const writer = await h.open();
      writer.commit([{ kind: 'created', entry: tcp(1), at: T0 }], [['side', new Uint8Array([7])]]);
      const reader = openReader(h.path);
      cleanups.push(() => reader.close());
      expect([...reader.loadCurrent()].map((entry) => entry.natPort)).toEqual([1]);
      writer.commit([{ kind: 'deleted', entry: tcp(1), at: T0 + 5, reason: 'gateway' }], []);
      expect(reader.history({ natAddress: NAT, natPort: 1 })[0]?.endedAt).toBe(T0 + 5);
      expect(reader.history({ natAddress: NAT, natPort: 1, at: T0 + 4 }).map((record) => record.natPort)).toEqual([1]);
      expect(reader.clientHistory({ clientAddress: tcp(1).clientAddress }).map((record) => record.natPort)).toEqual([1]);
    });

    it('says so when there is no store at the path, and refuses foreign files untouched', () => {
      const h = sqliteHarness();
      cleanups.push(() => h.cleanup());
      expect(() => openReader(h.path)).toThrow(/No connection store at/);
      writeFileSync(h.path, 'not a database at all, just text that is long enough to fill a header '.repeat(3));
      expect(() => openReader(h.path)).toThrow(StoreError);
      expect(() => openReader(h.path)).toThrow(expect.objectContaining({ code: 'not-sqlite' }));
    });

    it('refuses reads after close', async () => {
      const h = sqliteHarness();
      cleanups.push(() => h.cleanup());
      (await h.open()).close();
      const reader = openReader(h.path);
      reader.close();
      reader.close();
      expect(() => reader.history({ natAddress: NAT, natPort: 1 })).toThrow(expect.objectContaining({ code: 'closed' }));
    });
  });

  it('keeps side records readable through SqliteStore.openReadOnly', async () => {
    const h = sqliteHarness();
    cleanups.push(() => h.cleanup());
    const writer = await h.open();
    writer.commit([], [['side', new Uint8Array([7])]]);
    const reader = SqliteStore.openReadOnly(h.path);
    cleanups.push(() => reader.close());
    expect(reader.getSide('side')).toEqual(new Uint8Array([7]));
  });

  it('refuses to write', async () => {
    const h = sqliteHarness();
    cleanups.push(() => h.cleanup());
    (await h.open()).close();
    const reader = SqliteStore.openReadOnly(h.path);
    cleanups.push(() => reader.close());
    expect(() => reader.commit([{ kind: 'created', entry: tcp(1), at: T0 }], [])).toThrow(expect.objectContaining({ code: 'read-only' }));
  });

  it('is one SqliteReader, from the package or its sqlite-reader subpath', () => {
    expect(LeanSqliteReader).toBe(SqliteReader);
  });
});
