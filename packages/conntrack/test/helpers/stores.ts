// Store harnesses: the same tests run against MemoryStore, SqliteStore and SqliteWorkerStore (real
// files in a temp directory, removed in cleanup), plus a wrapper that makes commits fail on demand.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, SqliteStore, StoreError, type ConnStore, type SqliteStoreOptions, type SqliteWorkerStore } from '@nat64/conntrack';
import { checkBuild } from './build.js';

export interface StoreHarness {
  readonly name: string;
  /** The store of this harness, opened on first use. */
  open(): Promise<ConnStore>;
  /** Closes the current handle and opens the same data again, as a restarted process would. */
  reopen(): Promise<ConnStore>;
  cleanup(): Promise<void>;
}

export function memoryHarness(): StoreHarness {
  let store: MemoryStore | undefined;
  return {
    name: 'MemoryStore',
    open: async () => (store ??= new MemoryStore()),
    async reopen() {
      const previous = store ?? new MemoryStore();
      previous.close();
      store = previous.reopen();
      return store;
    },
    async cleanup() {
      store?.close();
    },
  };
}

export function sqliteHarness(options: SqliteStoreOptions = {}): StoreHarness & { readonly path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'conntrack-'));
  const path = join(dir, 'conntrack.db');
  let store: SqliteStore | undefined;
  return {
    name: 'SqliteStore',
    path,
    open: async () => (store ??= SqliteStore.open(path, options)),
    async reopen() {
      store?.close();
      store = SqliteStore.open(path, options);
      return store;
    },
    async cleanup() {
      store?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A SqliteStore on a writer thread; reopen() ends the thread and starts a new one. */
export function workerHarness(options: SqliteStoreOptions = {}): StoreHarness & { readonly path: string } {
  checkBuild();
  const dir = mkdtempSync(join(tmpdir(), 'conntrack-worker-'));
  const path = join(dir, 'conntrack.db');
  let store: SqliteWorkerStore | undefined;
  return {
    name: 'SqliteWorkerStore',
    path,
    open: async () => (store ??= await SqliteStore.openInWorker(path, options)),
    async reopen() {
      await store?.closeAsync();
      store = await SqliteStore.openInWorker(path, options);
      return store;
    },
    async cleanup() {
      await store?.closeAsync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Delegates to a store; commits fail while `failing` is set, before reaching the inner store. */
export class FailingStore implements ConnStore {
  failing: 'store-error' | 'plain-error' | false = false;
  commits = 0;

  constructor(readonly inner: ConnStore) {}

  loadCurrent() {
    return this.inner.loadCurrent();
  }
  commit(...args: Parameters<ConnStore['commit']>) {
    if (this.failing === 'store-error') throw new StoreError('full', 'injected: disk full');
    if (this.failing === 'plain-error') throw new Error('injected: EIO');
    this.inner.commit(...args);
    this.commits++;
  }
  getSide(name: string) {
    return this.inner.getSide(name);
  }
  listSide(prefix: string) {
    return this.inner.listSide(prefix);
  }
  history(...args: Parameters<ConnStore['history']>) {
    return this.inner.history(...args);
  }
  endedAt(at: number) {
    return this.inner.endedAt(at);
  }
  prune(...args: Parameters<ConnStore['prune']>) {
    return this.inner.prune(...args);
  }
  retain(before: number) {
    this.inner.retain(before);
  }
  get prunedByCommits() {
    return this.inner.prunedByCommits;
  }
  close() {
    this.inner.close();
  }
}
