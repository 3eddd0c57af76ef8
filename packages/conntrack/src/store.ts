// The persistence boundary of the connection table. Two implementations: MemoryStore for unit
// tests and SqliteStore, the embedded default.
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
  /** Releases the store; later calls throw StoreError `closed`. Idempotent. */
  close(): void;
}
