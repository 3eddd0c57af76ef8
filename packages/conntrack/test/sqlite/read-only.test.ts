import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, StoreError } from '@nat64/conntrack';
import { NAT, T0, tcp } from '../helpers/entries.js';
import { sqliteHarness } from '../helpers/stores.js';

describe('sqlite-store read-only', () => {
  const cleanups: Array<() => void | Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('reads what the writer commits while the writer holds its lock', async () => {
    const h = sqliteHarness();
    cleanups.push(() => h.cleanup());
    const writer = await h.open();
    writer.commit([{ kind: 'created', entry: tcp(1), at: T0 }], [['side', new Uint8Array([7])]]);
    const reader = SqliteStore.openReadOnly(h.path);
    cleanups.push(() => reader.close());
    expect([...reader.loadCurrent()].map((entry) => entry.natPort)).toEqual([1]);
    expect(reader.getSide('side')).toEqual(new Uint8Array([7]));
    writer.commit([{ kind: 'deleted', entry: tcp(1), at: T0 + 5, reason: 'gateway' }], []);
    expect(reader.history({ natAddress: NAT, natPort: 1 })[0]?.endedAt).toBe(T0 + 5);
  });

  it('refuses to write', async () => {
    const h = sqliteHarness();
    cleanups.push(() => h.cleanup());
    (await h.open()).close();
    const reader = SqliteStore.openReadOnly(h.path);
    cleanups.push(() => reader.close());
    expect(() => reader.commit([{ kind: 'created', entry: tcp(1), at: T0 }], [])).toThrow(expect.objectContaining({ code: 'read-only' }));
  });

  it('says so when there is no store at the path, and refuses foreign files untouched', () => {
    const h = sqliteHarness();
    cleanups.push(() => h.cleanup());
    expect(() => SqliteStore.openReadOnly(h.path)).toThrow(/No connection store at/);
    writeFileSync(h.path, 'not a database at all, just text that is long enough to fill a header '.repeat(3));
    expect(() => SqliteStore.openReadOnly(h.path)).toThrow(StoreError);
  });
});
