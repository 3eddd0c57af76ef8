// The authoritative connection table: entries keyed by (protocol, NAT address, NAT port), at most
// one incarnation per key, bounded by a capacity with least-recently-used eviction and by an idle
// timeout. Every change goes through one batch that changes memory and store together or not at all.
//
// Atomicity uses an undo log (undo-log.ts) rather than plan-then-apply: operations in a batch
// interact (a create may evict an entry created earlier in the same batch, a delete may end one just
// created), and running them for real against the live structures keeps one code path for those
// cases. A pipelined batch cannot be undone that way once later batches built on it, so a failed
// background commit instead fails the table until recover() reloads it from the store.
import { checkOperation, checkOptions, checkRecord, checkSide } from './checks.js';
import { ClientIndex } from './client-index.js';
import { EntrySlab } from './entry-slab.js';
import { checkEntry, connKey, entryKey, type ConnKey } from './entry.js';
import { StoreError, asStoreError } from './errors.js';
import { EventRecords } from './event-records.js';
import { KeyIndex } from './key-index.js';
import { isPipelined, type ConnStore, type PipelinedConnStore } from './store.js';
import { CREATED_KIND, deleteKind, deleteReasonOf } from './sqlite/batch-codec.js';
import { UndoLog } from './undo-log.js';
import type { ConnEntry, ConnEvent, ConnOperation, DeleteReason, HistoryQuery, HistoryRecord, SideRecord } from './types.js';

export interface ConnTableOptions {
  /** Most entries held; a create beyond it first evicts the least recently used entry. */
  capacity: number;
  /** µs without a create or touch after which expireIdle() deletes an entry; Infinity disables. */
  idleTimeout: number;
  /** Receiver time, µs since the Unix epoch. */
  clock: () => number;
}

/** What a pipelined mutation returns. */
export interface PipelinedBatch {
  /** The events, as the synchronous call returns them; they stand once `durable` resolves. */
  events: ConnEvent[];
  /** Resolves once the batch is stored durably; rejects with the StoreError that lost it. */
  durable: Promise<void>;
}

/** What applyRecordsPipelined returns. */
export interface PipelinedRecords {
  /**
   * The events as records, in the order they happened: the table's own buffer, which its next
   * mutating call overwrites.
   */
  events: EventRecords;
  /** Resolves once the batch is stored durably; rejects with the StoreError that lost it. */
  durable: Promise<void>;
}

const RESOLVED: Promise<void> = Promise.resolve();
const ignore = () => {};

/**
 * The table a receiver keeps. Created with ConnTable.open(store, options), which loads the store's
 * open incarnations; it then owns the store and closes it in close() or closeAsync().
 *
 * Every mutating call validates first (StoreError `invalid-argument`, nothing changed), changes
 * memory, commits the events plus the side records to the store in one transaction, and returns
 * the events in the order they happened. All events of one call share one `at`, never earlier than
 * the previous call's. A `created` event carries the caller's entry object; a `deleted` event a
 * fresh copy of the stored entry. A call with no events and no side records does not touch the store.
 *
 * - apply and expireIdle commit before they return (on a PipelinedConnStore they block until the
 *   batch and everything queued before it is stored). If the commit fails, memory is restored
 *   exactly and the StoreError propagates: the caller must not acknowledge.
 * - applyPipelined and expireIdlePipelined return the events at once with a `durable` promise: the
 *   caller acknowledges once it resolves. Batches become durable in call order. They throw only
 *   before changing anything (`invalid-argument`, `closed`, `failed`). On a synchronous store the
 *   commit happens before they return: a settled promise, and on failure memory restored exactly
 *   and the promise rejected, the table usable as before. On a PipelinedConnStore the commit runs
 *   in the background; if it fails, memory is ahead of the store: that batch's promise and those of
 *   every batch after it reject with the StoreError, and the table is *failed*.
 * - A failed table (`failure` says why) refuses every mutating call (the four above, touch, prune)
 *   with StoreError `failed` (cause: the failure) until `await recover()` has rebuilt memory from
 *   what the store durably holds. Reads keep answering from memory, which may be ahead of the store
 *   until then. Nothing acknowledged is ever lost, nothing unacknowledged half-stored.
 */
export class ConnTable {
  private readonly slab: EntrySlab;
  private readonly index: KeyIndex;
  private readonly clients: ClientIndex;
  private readonly undo: UndoLog;
  /** The events of the last applyRecordsPipelined call. */
  private readonly records = new EventRecords();
  private readonly pipelined: PipelinedConnStore | undefined;
  private lastAt = 0;
  private closed = false;
  /** Set while recover() runs. */
  private recovering: Promise<void> | undefined;
  /** Set when a reload left memory incomplete. */
  private broken: StoreError | undefined;

  private constructor(
    private readonly store: ConnStore,
    private readonly options: Readonly<ConnTableOptions>,
  ) {
    // The columns are reserved for the capacity (EntrySlab.reserve) and the indexes double a few
    // buckets at a time (KeyIndex), so that growing never stalls a commit.
    this.slab = EntrySlab.reserve(options.capacity);
    this.index = new KeyIndex();
    this.clients = new ClientIndex(this.slab);
    this.undo = new UndoLog(this.slab, this.index, this.clients);
    this.pipelined = isPipelined(store) ? store : undefined;
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

  /** Bytes of the typed arrays behind the table in use (columns of the slots handed out, and the indexes), for capacity planning. */
  get byteLength(): number {
    return this.slab.byteLength + this.index.byteLength + this.clients.byteLength;
  }

  /** The failure that made the table refuse changes until recover(), or undefined while it works. */
  get failure(): StoreError | undefined {
    return this.broken ?? this.pipelined?.failure;
  }

  /** Applies a batch atomically and returns its events once they are stored (see the class contract). */
  apply(operations: readonly ConnOperation[], side: readonly SideRecord[] = []): ConnEvent[] {
    const events = this.applyToMemory(operations, side);
    this.commitNow(events, side, true);
    return events;
  }

  /** Applies a batch to memory and commits it in the background (see the class contract). */
  applyPipelined(operations: readonly ConnOperation[], side: readonly SideRecord[] = []): PipelinedBatch {
    const events = this.applyToMemory(operations, side);
    return { events, durable: this.commitLater(events, side, true) };
  }

  /**
   * applyPipelined() of operations given as records (event-records.ts: `kind` a created or deleted
   * event's, `at` ignored), returning the events as records: the same changes, checks, events and
   * contract, without an object per entry.
   */
  applyRecordsPipelined(operations: EventRecords, side: readonly SideRecord[] = []): PipelinedRecords {
    this.ensureWritable();
    if (operations === this.records) throw new StoreError('invalid-argument', "operations cannot be the table's own events, which this call overwrites");
    for (let i = 0; i < operations.length; i++) checkRecord(operations, i);
    checkSide(side);
    const at = this.now();
    const events = this.records;
    events.clear();
    this.undo.clear();
    try {
      for (let i = 0; i < operations.length; i++) {
        const kind = operations.kind(i);
        if (kind === CREATED_KIND) this.createRecord(operations, i, at, events);
        else this.deleteRecord(operations, i, deleteReasonOf(kind)!, at, events);
      }
    } catch (error) {
      this.undo.rollback();
      throw asStoreError(error, 'apply failed');
    }
    return { events, durable: this.commitLater(events, side, true) };
  }

  /**
   * Deletes entries not created or touched for longer than the idle timeout, least recently used
   * first, at most `limit` per call (so a mass expiry can be spread over ticks), in one transaction.
   * `side` is committed with the expiries; when nothing expires, nothing is written at all.
   */
  expireIdle(limit = Infinity, side: readonly SideRecord[] = []): ConnEvent[] {
    const events = this.expireInMemory(limit, side);
    this.commitNow(events, side, false);
    return events;
  }

  /** expireIdle() committed in the background, as applyPipelined() is. */
  expireIdlePipelined(limit = Infinity, side: readonly SideRecord[] = []): PipelinedBatch {
    const events = this.expireInMemory(limit, side);
    return { events, durable: this.commitLater(events, side, false) };
  }

  /**
   * Rebuilds memory from what the store durably holds: its open incarnations, used as of now as at
   * open (side records live in the store only). On a PipelinedConnStore it first waits for
   * everything queued and has the store leave its failed state. Mutating calls throw
   * `failed` while it runs. Needed after a failure; harmless at any time. Rejects with the StoreError
   * when the store cannot be reloaded: the table then stays failed, and recover() may be tried again.
   */
  recover(): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    this.recovering ??= this.reload().finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  /** The entry held for a key, without marking it used. */
  get(key: ConnKey): ConnEntry | undefined {
    this.ensureOpen();
    const slot = key < 0 ? -1 : this.index.get(key);
    return slot < 0 ? undefined : this.slab.read(slot);
  }

  /**
   * The entry a client side holds (handoff v1 section 5.12): protocol, NAT address, client address
   * and port; of several, the one created last. Without marking it used.
   */
  findByClient(protocol: number, natAddress: number, clientAddress: Uint8Array, clientPort: number): ConnEntry | undefined {
    this.ensureOpen();
    if (clientAddress.length !== 16) return undefined;
    const slot = this.clients.find(protocol, natAddress, clientAddress, clientPort);
    return slot < 0 ? undefined : this.slab.read(slot);
  }

  /** Marks the entry for a key as used now (LRU and idle timeout). Memory only. */
  touch(key: ConnKey): boolean {
    this.ensureWritable();
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
    this.ensureWritable();
    return this.store.prune(before, limit);
  }

  /** Sets the store's retention bound (ConnStore.retain): later commits also delete history ended before `before`. */
  retain(before: number): void {
    this.ensureOpen();
    this.store.retain(before);
  }

  /**
   * prune() that does not block on a PipelinedConnStore: it takes its turn behind the batches
   * queued before it. On a synchronous store it prunes before it returns. Rejects with StoreError.
   */
  prunePipelined(before: number, limit: number): Promise<number> {
    try {
      this.ensureWritable();
      if (this.pipelined === undefined) return Promise.resolve(this.store.prune(before, limit));
    } catch (error) {
      return Promise.reject(asStoreError(error, 'prune failed'));
    }
    return this.pipelined.prunePipelined(before, limit);
  }

  /** Closes the store; on a PipelinedConnStore this blocks until the queued commits are stored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.close();
  }

  /** Waits for the queued commits to settle, then closes the store (and ends its thread). */
  async closeAsync(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pipelined) await this.pipelined.closeAsync();
    else this.store.close();
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
      this.clients.add(slot);
      if (stored.startedAt > this.lastAt) this.lastAt = stored.startedAt;
    }
  }

  private create(entry: ConnEntry, at: number, events: ConnEvent[]): void {
    const slab = this.slab;
    const key = entryKey(entry);
    const held = this.index.get(key);
    if (held >= 0 && slab.sameClient(held, entry)) return this.retouch(held, at);
    this.makeRoom(held, at, events);
    const slot = slab.allocate();
    slab.write(slot, entry, at);
    this.insert(slot, key);
    events.push({ kind: 'created', entry, at });
  }

  /** create() from record `index` of `records`. */
  private createRecord(records: EventRecords, index: number, at: number, events: EventRecords): void {
    const slab = this.slab;
    const key = connKey(records.protocol(index), records.natAddress(index), records.natPort(index));
    const held = this.index.get(key);
    if (held >= 0 && slab.sameClientRecord(held, records, index)) return this.retouch(held, at);
    this.makeRoom(held, at, events);
    const slot = slab.allocate();
    slab.writeRecord(slot, records, index, at);
    this.insert(slot, key);
    events.appendCopy(records, index, at);
  }

  /** A retransmitted create: nothing to store, but it shows the entry is in use. */
  private retouch(held: number, at: number): void {
    const slab = this.slab;
    this.undo.touched(held);
    slab.unlink(held);
    slab.linkTail(held);
    slab.lastUsed[held] = at;
  }

  /**
   * Before a create: replaces the other incarnation `held` of its key (whose index entry insert()
   * then overwrites rather than deleting and adding it again), or evicts while the table is full.
   */
  private makeRoom(held: number, at: number, events: ConnEvent[] | EventRecords): void {
    if (held >= 0) this.remove(held, 'replaced', at, events, true);
    else while (this.index.size >= this.options.capacity) this.remove(this.slab.head, 'evicted', at, events);
  }

  /** Links, indexes and records a slot just written. */
  private insert(slot: number, key: number): void {
    this.slab.linkTail(slot);
    this.index.set(key, slot);
    this.clients.add(slot);
    this.undo.inserted(slot);
  }

  private delete(entry: ConnEntry, reason: DeleteReason, at: number, events: ConnEvent[]): void {
    const held = this.index.get(entryKey(entry));
    if (held >= 0 && this.slab.sameClient(held, entry)) this.remove(held, reason, at, events);
  }

  /** delete() of record `index` of `records`. */
  private deleteRecord(records: EventRecords, index: number, reason: DeleteReason, at: number, events: EventRecords): void {
    const held = this.index.get(connKey(records.protocol(index), records.natAddress(index), records.natPort(index)));
    if (held >= 0 && this.slab.sameClientRecord(held, records, index)) this.remove(held, reason, at, events);
  }

  /**
   * Unlinks and unindexes a slot (but for its key, when `replaced`: the caller maps the key to the
   * new incarnation); it is recycled only once the batch commits.
   */
  private remove(slot: number, reason: DeleteReason, at: number, events: ConnEvent[] | EventRecords, replaced = false): void {
    const slab = this.slab;
    if (events instanceof EventRecords) slab.appendRecord(slot, events, deleteKind(reason), at);
    else events.push({ kind: 'deleted', entry: slab.read(slot), at, reason });
    this.undo.removed(slot);
    slab.unlink(slot);
    if (!replaced) this.index.delete(slab.key(slot));
    this.clients.remove(slot);
  }

  private applyToMemory(operations: readonly ConnOperation[], side: readonly SideRecord[]): ConnEvent[] {
    this.ensureWritable();
    for (let i = 0; i < operations.length; i++) checkOperation(operations[i]!, i);
    checkSide(side);
    const at = this.now();
    return this.mutate((events) => {
      for (const operation of operations) {
        if (operation.op === 'create') this.create(operation.entry, at, events);
        else this.delete(operation.entry, operation.reason, at, events);
      }
    });
  }

  private expireInMemory(limit: number, side: readonly SideRecord[]): ConnEvent[] {
    this.ensureWritable();
    checkSide(side);
    const at = this.now();
    const cutoff = at - this.options.idleTimeout;
    return this.mutate((events) => {
      const slab = this.slab;
      let expired = 0;
      while (expired < limit && slab.head >= 0 && slab.lastUsed[slab.head]! < cutoff) {
        this.remove(slab.head, 'idle', at, events);
        expired++;
      }
    });
  }

  /** Runs a batch's changes against memory, recording them in the undo log. */
  private mutate(change: (events: ConnEvent[]) => void): ConnEvent[] {
    const events: ConnEvent[] = [];
    this.undo.clear();
    try {
      change(events);
    } catch (error) {
      this.undo.rollback();
      throw asStoreError(error, 'apply failed');
    }
    return events;
  }

  /** Commits the batch `mutate` left in the undo log, or undoes it and throws. */
  private commitNow(events: ConnEvent[], side: readonly SideRecord[], sideAlone: boolean): void {
    if (events.length > 0 || (sideAlone && side.length > 0)) {
      try {
        this.store.commit(events, side);
      } catch (error) {
        this.undo.rollback();
        throw asStoreError(error, 'commit failed');
      }
    }
    this.undo.settle();
  }

  /** Queues the batch `mutate` left in the undo log; on a synchronous store, commits it now. */
  private commitLater(events: ConnEvent[] | EventRecords, side: readonly SideRecord[], sideAlone: boolean): Promise<void> {
    const store = this.pipelined;
    if (store === undefined || !(events.length > 0 || (sideAlone && side.length > 0))) {
      try {
        this.commitNow(events instanceof EventRecords ? events.toEvents() : events, side, sideAlone);
      } catch (error) {
        return rejected(error);
      }
      return RESOLVED;
    }
    let durable: Promise<void>;
    try {
      if (!(events instanceof EventRecords)) durable = store.commitPipelined(events, side);
      else if (store.commitRecordsPipelined) durable = store.commitRecordsPipelined(events, side);
      else durable = store.commitPipelined(events.toEvents(), side);
    } catch (error) {
      // Nothing was queued, so this batch can still be undone.
      this.undo.rollback();
      return rejected(asStoreError(error, 'commit failed'));
    }
    this.undo.settle();
    return durable;
  }

  private async reload(): Promise<void> {
    await this.pipelined?.recover();
    this.undo.clear();
    this.slab.clear();
    this.index.clear();
    this.clients.clear();
    try {
      this.load();
    } catch (error) {
      this.slab.clear();
      this.index.clear();
      this.clients.clear();
      this.broken = asStoreError(error, 'reload failed');
      throw this.broken;
    }
    this.broken = undefined;
  }

  /** Receiver time, never earlier than before, so stored intervals of one key never overlap. */
  private now(): number {
    const t = this.options.clock();
    if (t > this.lastAt) this.lastAt = t;
    return this.lastAt;
  }

  private ensureOpen(): void {
    if (this.closed) throw closedError();
  }

  private ensureWritable(): void {
    this.ensureOpen();
    if (this.recovering !== undefined) throw new StoreError('failed', 'connection table is being rebuilt from its store (recover())');
    const failure = this.failure;
    if (failure !== undefined) {
      throw new StoreError('failed', `connection table failed and needs recover(): ${failure.message}`, failure.path, { cause: failure });
    }
  }
}

function closedError(): StoreError {
  return new StoreError('closed', 'connection table is closed');
}

function rejected(error: unknown): Promise<void> {
  const promise = Promise.reject(asStoreError(error, 'commit failed'));
  promise.catch(ignore);
  return promise;
}
