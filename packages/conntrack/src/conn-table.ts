// The authoritative connection table: entries keyed by (protocol, NAT address, NAT port), at most
// one incarnation per key, bounded by a capacity with least-recently-used eviction and by an idle
// timeout. Every change goes through one batch that changes memory and store together or not at all.
//
// Atomicity uses an undo log rather than plan-then-apply: operations in a batch interact (a create
// may evict an entry created earlier in the same batch, a delete may end one just created), and
// running them for real against the live structures keeps one code path for those cases. Each
// mutation records what it changed; slots removed during the batch are not recycled until the
// commit succeeds, so undoing in reverse order restores the exact slots, LRU order and timestamps.
import { DELETE_REASONS } from './constants.js';
import { EntrySlab } from './entry-slab.js';
import { checkEntry, entryKey, type ConnKey } from './entry.js';
import { StoreError, asStoreError } from './errors.js';
import { KeyIndex } from './key-index.js';
import type { ConnStore } from './store.js';
import type {
  ConnEntry,
  ConnEvent,
  ConnOperation,
  DeleteReason,
  HistoryQuery,
  HistoryRecord,
  SideRecord,
} from './types.js';

export interface ConnTableOptions {
  /** Most entries held; a create beyond it first evicts the least recently used entry. */
  capacity: number;
  /** µs without a create or touch after which expireIdle() deletes an entry; Infinity disables. */
  idleTimeout: number;
  /** Receiver time, µs since the Unix epoch. */
  clock: () => number;
}

const INSERTED = 0;
const REMOVED = 1;
const TOUCHED = 2;
const UNDO_WIDTH = 5;

/**
 * The table a receiver keeps. Created with ConnTable.open(store, options), which loads the store's
 * open incarnations; it then owns the store and closes it in close().
 *
 * Contract of the mutating calls (apply, expireIdle): validate first (StoreError
 * `invalid-argument`, nothing changed), change memory, commit events plus side records to the
 * store in one transaction, return the events in the order they happened. If the commit throws,
 * memory is restored exactly and the StoreError propagates: the caller must not acknowledge.
 * All events of one call share one `at`, never earlier than the previous call's. A `created`
 * event carries the caller's entry object; a `deleted` event a fresh copy of the stored entry.
 * A call with no events and no side records does not touch the store.
 */
export class ConnTable {
  private readonly slab: EntrySlab;
  private readonly index: KeyIndex;
  private readonly undo: number[] = [];
  private readonly removed: number[] = [];
  private lastAt = 0;
  private closed = false;

  private constructor(
    private readonly store: ConnStore,
    private readonly options: Readonly<ConnTableOptions>,
  ) {
    // Columns and index start small and double as the table grows, so a large capacity costs
    // nothing until it is used.
    this.slab = new EntrySlab();
    this.index = new KeyIndex();
  }

  /**
   * Loads the store's current entries in start order. They count as used at open time, so each
   * gets a full idle timeout after a restart (touches are not persisted). A store holding more
   * than `capacity` entries (capacity lowered) is trimmed by the next creates' evictions.
   * The table owns the store from here on: if loading fails, the store is closed.
   */
  static open(store: ConnStore, options: ConnTableOptions): ConnTable {
    checkOptions(options);
    const table = new ConnTable(store, { ...options });
    try {
      table.load();
    } catch (error) {
      store.close();
      throw asStoreError(error, 'load failed');
    }
    return table;
  }

  get size(): number {
    return this.index.size;
  }

  get capacity(): number {
    return this.options.capacity;
  }

  /** Bytes of the typed arrays behind the table (columns and index), for capacity planning. */
  get byteLength(): number {
    return this.slab.byteLength + this.index.byteLength;
  }

  /** Applies a batch atomically (see the class contract) and returns its events. */
  apply(operations: readonly ConnOperation[], side: readonly SideRecord[] = []): ConnEvent[] {
    this.ensureOpen();
    for (let i = 0; i < operations.length; i++) checkOperation(operations[i]!, i);
    checkSide(side);
    const at = this.now();
    return this.transact(side, (events) => {
      for (const operation of operations) {
        if (operation.op === 'create') this.create(operation.entry, at, events);
        else this.delete(operation.entry, operation.reason, at, events);
      }
    });
  }

  /**
   * Deletes entries not created or touched for longer than the idle timeout, least recently used
   * first, at most `limit` per call (so a mass expiry can be spread over ticks), in one transaction.
   * `side` is committed with the expiries; when nothing expires, nothing is written at all.
   */
  expireIdle(limit = Infinity, side: readonly SideRecord[] = []): ConnEvent[] {
    this.ensureOpen();
    checkSide(side);
    const at = this.now();
    const cutoff = at - this.options.idleTimeout;
    return this.transact(side, (events) => {
      const slab = this.slab;
      let expired = 0;
      while (expired < limit && slab.head >= 0 && slab.lastUsed[slab.head]! < cutoff) {
        this.remove(slab.head, 'idle', at, events);
        expired++;
      }
    }, true);
  }

  /** The entry held for a key, without marking it used. */
  get(key: ConnKey): ConnEntry | undefined {
    this.ensureOpen();
    const slot = key < 0 ? -1 : this.index.get(key);
    return slot < 0 ? undefined : this.slab.read(slot);
  }

  /** Marks the entry for a key as used now (LRU and idle timeout). Memory only. */
  touch(key: ConnKey): boolean {
    this.ensureOpen();
    const slot = key < 0 ? -1 : this.index.get(key);
    if (slot < 0) return false;
    this.slab.unlink(slot);
    this.slab.linkTail(slot);
    this.slab.lastUsed[slot] = this.now();
    return true;
  }

  /** All entries, least recently used first. The table must not change during the iteration. */
  *entries(): IterableIterator<ConnEntry> {
    this.ensureOpen();
    for (let slot = this.slab.head; slot >= 0; slot = this.slab.next[slot]!) yield this.slab.read(slot);
  }

  getSide(name: string): Uint8Array | null {
    this.ensureOpen();
    return this.store.getSide(name);
  }

  listSide(prefix: string): Array<[name: string, value: Uint8Array]> {
    this.ensureOpen();
    return this.store.listSide(prefix);
  }

  history(query: HistoryQuery): HistoryRecord[] {
    this.ensureOpen();
    return this.store.history(query);
  }

  /** Incarnations that ended at `at`, the time of one apply() call: its deletions. */
  endedAt(at: number): HistoryRecord[] {
    this.ensureOpen();
    return this.store.endedAt(at);
  }

  prune(before: number, limit?: number): number {
    this.ensureOpen();
    return this.store.prune(before, limit);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.close();
  }

  private load(): void {
    const slab = this.slab;
    const at = this.now();
    for (const stored of this.store.loadCurrent()) {
      const key = entryKey(stored);
      if (checkEntry(stored) !== undefined || this.index.get(key) >= 0) {
        throw new StoreError('corrupt', 'stored table holds an invalid or duplicate entry');
      }
      const slot = slab.allocate();
      slab.write(slot, stored, at);
      slab.linkTail(slot);
      this.index.set(key, slot);
      if (stored.startedAt > this.lastAt) this.lastAt = stored.startedAt;
    }
  }

  private create(entry: ConnEntry, at: number, events: ConnEvent[]): void {
    const slab = this.slab;
    const key = entryKey(entry);
    const held = this.index.get(key);
    if (held >= 0) {
      if (slab.sameClient(held, entry)) {
        // A retransmitted create: nothing to store, but it shows the entry is in use.
        this.undo.push(TOUCHED, held, slab.prev[held]!, slab.next[held]!, slab.lastUsed[held]!);
        slab.unlink(held);
        slab.linkTail(held);
        slab.lastUsed[held] = at;
        return;
      }
      this.remove(held, 'replaced', at, events);
    } else {
      while (this.index.size >= this.options.capacity) this.remove(slab.head, 'evicted', at, events);
    }
    const slot = slab.allocate();
    slab.write(slot, entry, at);
    slab.linkTail(slot);
    this.index.set(key, slot);
    this.undo.push(INSERTED, slot, 0, 0, 0);
    events.push({ kind: 'created', entry, at });
  }

  private delete(entry: ConnEntry, reason: DeleteReason, at: number, events: ConnEvent[]): void {
    const held = this.index.get(entryKey(entry));
    if (held >= 0 && this.slab.sameClient(held, entry)) this.remove(held, reason, at, events);
  }

  /** Unlinks and unindexes a slot; it is recycled only once the batch commits. */
  private remove(slot: number, reason: DeleteReason, at: number, events: ConnEvent[]): void {
    const slab = this.slab;
    events.push({ kind: 'deleted', entry: slab.read(slot), at, reason });
    this.undo.push(REMOVED, slot, slab.prev[slot]!, slab.next[slot]!, 0);
    slab.unlink(slot);
    this.index.delete(slab.key(slot));
    this.removed.push(slot);
  }

  private transact(side: readonly SideRecord[], mutate: (events: ConnEvent[]) => void, sideNeedsEvents = false): ConnEvent[] {
    const events: ConnEvent[] = [];
    this.undo.length = 0;
    this.removed.length = 0;
    try {
      mutate(events);
      if (events.length > 0 || (side.length > 0 && !sideNeedsEvents)) this.store.commit(events, side);
    } catch (error) {
      this.rollback();
      throw asStoreError(error, 'commit failed');
    }
    for (const slot of this.removed) this.slab.release(slot);
    this.undo.length = 0;
    this.removed.length = 0;
    return events;
  }

  private rollback(): void {
    const slab = this.slab;
    const undo = this.undo;
    for (let i = undo.length - UNDO_WIDTH; i >= 0; i -= UNDO_WIDTH) {
      const slot = undo[i + 1]!;
      switch (undo[i]) {
        case INSERTED:
          this.index.delete(slab.key(slot));
          slab.unlink(slot);
          slab.release(slot);
          break;
        case REMOVED:
          slab.linkBetween(slot, undo[i + 2]!, undo[i + 3]!);
          this.index.set(slab.key(slot), slot);
          break;
        case TOUCHED:
          slab.unlink(slot);
          slab.linkBetween(slot, undo[i + 2]!, undo[i + 3]!);
          slab.lastUsed[slot] = undo[i + 4]!;
          break;
      }
    }
    undo.length = 0;
    this.removed.length = 0;
  }

  /** Receiver time, never earlier than before, so stored intervals of one key never overlap. */
  private now(): number {
    const t = this.options.clock();
    if (t > this.lastAt) this.lastAt = t;
    return this.lastAt;
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError('closed', 'connection table is closed');
  }
}

function checkOptions(options: ConnTableOptions): void {
  if (!Number.isSafeInteger(options.capacity) || options.capacity < 1 || options.capacity > 0x7fff_ffff) {
    throw new StoreError('invalid-argument', `capacity must be an integer from 1 to 2^31-1, got ${options.capacity}`);
  }
  if (!(options.idleTimeout >= 0)) {
    throw new StoreError('invalid-argument', `idleTimeout must be a non-negative number of µs, got ${options.idleTimeout}`);
  }
  if (typeof options.clock !== 'function') throw new StoreError('invalid-argument', 'clock must be a function');
}

function checkOperation(operation: ConnOperation, index: number): void {
  const problem = checkEntry(operation.entry);
  if (problem !== undefined) {
    throw new StoreError('invalid-argument', `operation ${index}: invalid entry (${problem})`);
  }
  if (operation.op === 'delete' ? !DELETE_REASONS.includes(operation.reason) : operation.op !== 'create') {
    throw new StoreError('invalid-argument', `operation ${index}: unknown operation or delete reason`);
  }
}

function checkSide(side: readonly SideRecord[]): void {
  for (const [name, value] of side) {
    if (typeof name !== 'string' || !(value === null || value instanceof Uint8Array)) {
      throw new StoreError('invalid-argument', 'side records are [name: string, value: Uint8Array | null]');
    }
  }
}
