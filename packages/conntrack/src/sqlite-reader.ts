// Reading a store while the receiver writes it, for tools that start, ask and exit (`nat64-receiver
// lookup`, `dump`): the subpath `@nat64/conntrack/sqlite-reader` loads the queries and the check
// of the file, none of the writer, its worker thread or the connection table, because loading
// modules is most of what such a tool costs.
import type Database from 'better-sqlite3';
import { SqliteDefault } from './constants.js';
import { StoreError } from './errors.js';
import { openForReading } from './sqlite/inspect.js';
import { Queries } from './sqlite/queries.js';
import { fromSqlite, guarded, guardedRows } from './sqlite/sqlite-errors.js';
import type { ClientHistoryQuery, HistoryQuery, HistoryRecord, StoredEntry } from './types.js';

export { StoreError } from './errors.js';

/** A store open for reading only, without the writer lock; it sees every committed transaction. */
export class SqliteReader {
  private readonly queries: Queries;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {
    this.queries = new Queries(db);
  }

  /**
   * Opens the existing store at `path`. Throws StoreError `not-sqlite`, `not-ours`, `newer-schema`,
   * or `invalid-argument` when there is no store at `path` or its schema is older than ours.
   */
  static open(path: string, options: { busyTimeoutMs?: number } = {}): SqliteReader {
    const db = openForReading(path, options.busyTimeoutMs ?? SqliteDefault.busyTimeoutMs);
    try {
      return new SqliteReader(db, path);
    } catch (error) {
      db.close();
      throw fromSqlite(error, path, 'open');
    }
  }

  /** The open incarnations, oldest start first, read lazily. */
  *loadCurrent(): Iterable<StoredEntry> {
    this.ensureOpen();
    yield* guardedRows(this.path, () => this.queries.openIncarnations());
  }

  /** Incarnations of a NAT endpoint, newest start first (see HistoryQuery). */
  history(query: HistoryQuery): HistoryRecord[] {
    this.ensureOpen();
    return this.guard('read', () => this.queries.history(query));
  }

  /** Incarnations of an IPv6 client address, newest start first; reads the whole history (no index by client). */
  clientHistory(query: ClientHistoryQuery): HistoryRecord[] {
    this.ensureOpen();
    return this.guard('read', () => this.queries.clientHistory(query));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.guard('close', () => this.db.close());
  }

  private guard<T>(doing: string, run: () => T): T {
    return guarded(this.path, doing, run);
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError('closed', `store ${this.path} is closed`, this.path);
  }
}
