import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '@nat64/conntrack';
import { WriterLock } from '../../src/sqlite/writer-lock.js';
import { startStoreProcess, type StoreProcess } from '../helpers/child.js';

describe('writer-lock', () => {
  let dir: string;
  let path: string;
  const cleanups: Array<() => void | Promise<void>> = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'conntrack-lock-'));
    path = join(dir, 'conntrack.db');
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets one holder at a time take the lock, in one process', () => {
    const lock = WriterLock.acquire(path);
    expect(() => WriterLock.acquire(path)).toThrow(expect.objectContaining({ code: 'locked' }));
    lock.release();
    lock.release();
    WriterLock.acquire(path).release();
  });

  it('refuses a second open of the same store while the first is open, naming the file', () => {
    const first = SqliteStore.open(path);
    cleanups.push(() => first.close());
    expect(() => SqliteStore.open(path)).toThrow(
      expect.objectContaining({ code: 'locked', path, message: expect.stringContaining(`${path} (another process has it open for writing`) }),
    );
    first.close();
    SqliteStore.open(path).close();
  });

  it('refuses to open a store another process has open, and opens it once that process is killed', async () => {
    const holder: StoreProcess = startStoreProcess('hold', path);
    cleanups.push(() => holder.kill());
    await holder.waitFor(/^ready$/);
    expect(() => SqliteStore.open(path)).toThrow(expect.objectContaining({ code: 'locked' }));
    await holder.kill();
    SqliteStore.open(path).close();
  }, 30_000);
});
