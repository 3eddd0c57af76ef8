// Store harnesses: the same tests run against MemoryStore and SqliteStore (a real file in a temp
// directory, removed in cleanup), plus a wrapper that makes commits fail on demand.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, SqliteStore, StoreError, type ConnStore, type SqliteStoreOptions } from '@nat64/conntrack';

export interface StoreHarness {
  readonly name: string;
  /** The store of this harness, opened on first use. */
  open(): ConnStore;
  /** Closes the current handle and opens the same data again, as a restarted process would. */
  reopen(): ConnStore;
  cleanup(): void;
}

export function memoryHarness(): StoreHarness {
  let store: MemoryStore | undefined;
  return {
    name: 'MemoryStore',
    open: () => (store ??= new MemoryStore()),
    reopen() {
      const previous = store ?? new MemoryStore();
      previous.close();
      store = previous.reopen();
      return store;
    },
    cleanup() {
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
    open: () => (store ??= SqliteStore.open(path, options)),
    reopen() {
      store?.close();
      store = SqliteStore.open(path, options);
      return store;
    },
    cleanup() {
      store?.close();
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
  close() {
    this.inner.close();
  }
}
