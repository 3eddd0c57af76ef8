// The persistence boundary of the connection table. Synchronous implementations: MemoryStore for
// unit tests and SqliteStore, the embedded default; pipelined: SqliteWorkerStore, which commits on
// a writer thread.
import type { StoreError } from './errors.js';
import type { EventRecords } from './event-records.js';
import type { ConnEvent, HistoryQuery, HistoryRecord, SideRecord, StoredEntry } from './types.js';

/**
 * Where the authoritative table and its history live. Single writer: one ConnTable owns a store.
 *
 * Contract:
 * - `commit` is atomic and durable: when it returns, every event and side record of the call is
 *   stored (durable as far as the store's durability setting promises); when it throws, nothing of
 *   the call is stored and the store is usable again. Events apply in order: `created` opens an
 *   incarnation (startedAt = event.at), `deleted` ends the open incarnation of that key
 *   (endedAt = event.at, endReason = event.reason). Side records apply in order after the events;
 *   `null` deletes.
 * - The store copies what it keeps; callers may reuse their buffers after a call returns.
 * - Every method throws StoreError only: `closed` after close(), otherwise the code of the failure.
 */
export interface ConnStore {
  /** The open incarnations, oldest start first. Read once by ConnTable.open. */
  loadCurrent(): Iterable<StoredEntry>;
  commit(events: readonly ConnEvent[], side: readonly SideRecord[]): void;
  getSide(name: string): Uint8Array | null;
  /** Side records whose name starts with `prefix`, ordered by name. */
  listSide(prefix: string): Array<[name: string, value: Uint8Array]>;
  /** Incarnations of a NAT endpoint, newest start first (see HistoryQuery). */
  history(query: HistoryQuery): HistoryRecord[];
  /** Incarnations that ended exactly at `at` (one commit's deletions), oldest start first. */
  endedAt(at: number): HistoryRecord[];
  /** Deletes at most `limit` ended incarnations with endedAt < `before`; returns how many. Open ones stay. */
  prune(before: number, limit?: number): number;
  /**
   * Sets the retention bound: from now on every commit also deletes, inside its own transaction,
   * ended incarnations with endedAt < `before`, oldest end first, at most
   * RetentionDefault.rowsPerEvent per event of the commit plus RetentionDefault.rowsPerCommit.
   * A later call replaces the bound. Without a call, commits delete nothing.
   */
  retain(before: number): void;
  /** Ended incarnations that commits deleted under the retention bound since the store was opened. */
  readonly prunedByCommits: number;
  /** Releases the store; later calls throw StoreError `closed`. Idempotent. */
  close(): void;
}

/**
 * A store that can also commit in the background, so that the caller's thread goes on while the
 * last batch is written. Every ConnStore method still works and keeps its contract; those that
 * answer synchronously first wait for the queued commits (reads see everything queued before them).
 *
 * Contract of the pipeline:
 * - `commitPipelined` copies the batch before it returns and queues it. The promise resolves once
 *   the batch (events and side records, one transaction) is stored as durably as the store's
 *   durability setting promises. Batches are stored strictly in call order.
 * - It throws only when it queued nothing: StoreError `closed`, or `invalid-argument` for a batch
 *   that cannot be stored. Every other failure arrives through the promise.
 * - If a queued commit fails, nothing of that batch is stored, and neither is anything of the
 *   batches queued after it: their promises reject with the same StoreError. The store is then
 *   *failed* (`failure` holds that error, set before any of the rejections is delivered): later
 *   commits reject at once and prune() throws it, until recover(). Reads keep answering from what
 *   is stored.
 * - The promises never count as unhandled rejections: `failure` is the record of a failure.
 */
export interface PipelinedConnStore extends ConnStore {
  commitPipelined(events: readonly ConnEvent[], side: readonly SideRecord[]): Promise<void>;
  /**
   * commitPipelined() of events given as records (event-records.ts), which it copies before it
   * returns. Optional: without it, the table hands such a store event objects.
   */
  commitRecordsPipelined?(events: EventRecords, side: readonly SideRecord[]): Promise<void>;
  /**
   * prune() queued behind the batches already queued, without blocking the caller: commits queued
   * after it wait for this one transaction only. Resolves with how many incarnations it deleted;
   * rejects with the StoreError (`closed`, the failure of a failed store, or its own, which does
   * not fail the store).
   */
  prunePipelined(before: number, limit: number): Promise<number>;
  /** The failure that put the store in the failed state, or undefined while it works. */
  readonly failure: StoreError | undefined;
  /**
   * Waits for everything queued, then leaves the failed state, reopening the connection to the file
   * under the same writer lock (another process cannot slip in). Call it while nothing is being
   * queued; afterwards loadCurrent() and the side records tell exactly what is durable. Rejects
   * when the store cannot be reopened (it then stays failed) or is closed.
   */
  recover(): Promise<void>;
  /** Waits for every queued commit to settle, then closes the store. Idempotent. */
  closeAsync(): Promise<void>;
}

/** Whether a store commits in the background (see PipelinedConnStore). */
export function isPipelined(store: ConnStore): store is PipelinedConnStore {
  return typeof (store as Partial<PipelinedConnStore>).commitPipelined === 'function';
}
