// A ConnStore in memory, with the same semantics as SqliteStore (history rows, one open row per
// key, ordered events, side records, atomic commit), for unit tests and for running without a
// disk. reopen() hands out a new store over the same data, the way reopening a file would.
import { HISTORY_LIMIT, retainedPerCommit } from './constants.js';
import { entryKey, ownEntry } from './entry.js';
import { StoreError } from './errors.js';
import type { ConnStore } from './store.js';
import type { ConnEntry, ConnEvent, HistoryQuery, HistoryRecord, SideRecord, StoredEntry } from './types.js';

interface MemoryData {
  /** In commit order (start order when times never go backwards). */
  rows: HistoryRecord[];
  /** Key to the open row of that key. */
  open: Map<number, HistoryRecord>;
  side: Map<string, Uint8Array>;
}

export class MemoryStore implements ConnStore {
  private closed = false;
  private retainBefore: number | undefined;
  prunedByCommits = 0;

  constructor(private readonly data: MemoryData = { rows: [], open: new Map(), side: new Map() }) {}

  /** A new store over the same data; this one stays usable until closed. */
  reopen(): MemoryStore {
    return new MemoryStore(this.data);
  }

  loadCurrent(): Iterable<StoredEntry> {
    this.ensureOpen();
    return this.data.rows
      .filter((row) => row.endedAt === null)
      .sort((a, b) => a.startedAt - b.startedAt)
      .map((row) => copyRecord(row));
  }

  commit(events: readonly ConnEvent[], side: readonly SideRecord[]): void {
    this.ensureOpen();
    // Plan against an overlay of the open rows first, so a contradiction throws before anything changes.
    const open = new Map<number, HistoryRecord | null>();
    const isOpen = (key: number) => (open.has(key) ? open.get(key) !== null : this.data.open.has(key));
    const plan: Array<() => void> = [];
    for (const event of events) {
      const key = entryKey(event.entry);
      if (event.kind === 'created') {
        if (isOpen(key)) throw new StoreError('constraint', 'created an entry whose key is already held');
        const row: HistoryRecord = { ...copyEntry(event.entry), startedAt: event.at, endedAt: null, endReason: null };
        open.set(key, row);
        plan.push(() => {
          this.data.rows.push(row);
          this.data.open.set(key, row);
        });
      } else if (isOpen(key)) {
        const row = open.get(key) ?? this.data.open.get(key)!;
        open.set(key, null);
        const { at, reason } = event;
        plan.push(() => {
          row.endedAt = at;
          row.endReason = reason;
          this.data.open.delete(key);
        });
      }
    }
    for (const step of plan) step();
    for (const [name, value] of side) {
      if (value === null) this.data.side.delete(name);
      else this.data.side.set(name, value.slice());
    }
    if (this.retainBefore !== undefined) this.pruneOldestEnded(this.retainBefore, retainedPerCommit(events.length));
  }

  retain(before: number): void {
    this.ensureOpen();
    this.retainBefore = before;
  }

  getSide(name: string): Uint8Array | null {
    this.ensureOpen();
    return this.data.side.get(name)?.slice() ?? null;
  }

  listSide(prefix: string): Array<[name: string, value: Uint8Array]> {
    this.ensureOpen();
    return [...this.data.side]
      .filter(([name]) => name.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => [name, value.slice()]);
  }

  history(query: HistoryQuery): HistoryRecord[] {
    this.ensureOpen();
    const { natAddress, natPort, protocol, at } = query;
    const matches: HistoryRecord[] = [];
    for (let i = this.data.rows.length - 1; i >= 0 && matches.length < (query.limit ?? HISTORY_LIMIT); i--) {
      const row = this.data.rows[i]!;
      if (row.natAddress !== natAddress || row.natPort !== natPort) continue;
      if (protocol !== undefined && row.protocol !== protocol) continue;
      if (at !== undefined && !(row.startedAt <= at && (row.endedAt === null || at < row.endedAt))) continue;
      matches.push(copyRecord(row));
    }
    // Rows are in commit order, which is start order; a stable sort keeps ties newest first.
    return matches.sort((a, b) => b.startedAt - a.startedAt);
  }

  endedAt(at: number): HistoryRecord[] {
    this.ensureOpen();
    return this.data.rows.filter((row) => row.endedAt === at).map(copyRecord);
  }

  prune(before: number, limit = Infinity): number {
    this.ensureOpen();
    let pruned = 0;
    this.data.rows = this.data.rows.filter((row) => {
      const prunable = pruned < limit && row.endedAt !== null && row.endedAt < before;
      if (prunable) pruned++;
      return !prunable;
    });
    return pruned;
  }

  private pruneOldestEnded(before: number, limit: number): void {
    const doomed = new Set(
      this.data.rows
        .filter((row) => row.endedAt !== null && row.endedAt < before)
        .sort((a, b) => a.endedAt! - b.endedAt!)
        .slice(0, limit),
    );
    if (doomed.size > 0) this.data.rows = this.data.rows.filter((row) => !doomed.has(row));
    this.prunedByCommits += doomed.size;
  }

  close(): void {
    this.closed = true;
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError('closed', 'memory store is closed');
  }
}

function copyEntry(entry: ConnEntry): ConnEntry {
  return ownEntry(entry, entry.createdAt);
}

function copyRecord(row: HistoryRecord): HistoryRecord {
  return { ...copyEntry(row), startedAt: row.startedAt, endedAt: row.endedAt, endReason: row.endReason };
}
