import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '@nat64/conntrack';
import { client } from '../helpers/entries.js';

const entry = {
  protocol: 6,
  natAddress: 0xc000_0207,
  natPort: 3719,
  clientAddress: client(0x17),
  clientPort: 53_186,
  serverAddress: 0xc633_6401,
  serverPort: 443,
  createdAt: 1,
};
const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('file-modes', () => {
  let dir: string;
  let umask: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nat64-modes-'));
    // A umask that takes nothing away: the modes below are the store's own doing.
    umask = process.umask(0);
  });
  afterEach(() => {
    process.umask(umask);
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the database, its WAL, -shm and lock files readable by their owner only', () => {
    const path = join(dir, 'connections.db');
    const store = SqliteStore.open(path);
    store.commit([{ kind: 'created', entry, at: 10 }], [['secret', new Uint8Array([1])]]);
    for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-lock`]) expect([file, modeOf(file)]).toEqual([file, 0o600]);
    store.close();
  });

  it('creates them so from a worker thread as well', async () => {
    const path = join(dir, 'worker.db');
    const store = await SqliteStore.openInWorker(path);
    await store.commitPipelined([{ kind: 'created', entry, at: 10 }], []);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect([file, modeOf(file)]).toEqual([file, 0o600]);
    await store.closeAsync();
  });

  it('takes other users’ permissions away from a database an older version left readable by all', () => {
    const path = join(dir, 'old.db');
    SqliteStore.open(path).close();
    chmodSync(path, 0o644);
    const store = SqliteStore.open(path);
    expect(modeOf(path)).toBe(0o640);
    store.close();
  });

  it('leaves a file it refuses untouched, mode included', () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'not a database at all, just some text that is long enough to have a header', { mode: 0o644 });
    expect(() => SqliteStore.open(path)).toThrow(/not an SQLite database/);
    expect(modeOf(path)).toBe(0o644);
  });
});
