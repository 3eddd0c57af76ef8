// What every connection to a store file reads, whether it writes too (SqliteStore) or only reads
// (SqliteReader): the open incarnations and the history, each read turning what SQLite throws into a
// StoreError that names the file; and opening an existing file for reading only.
import type Database from 'better-sqlite3';
import { SqliteDefault } from '../constants.js';
import { StoreError } from '../errors.js';
import type { ClientHistoryQuery, HistoryQuery, HistoryRecord, StoredEntry } from '../types.js';
import { openForReading } from './inspect.js';
import { Queries } from './queries.js';
import { fromSqlite, guarded, guardedRows } from './sqlite-errors.js';

export abstract class SqliteReading {
  protected queries: Queries;
  protected closed = false;

  protected constructor(
    protected db: Database.Database,
    readonly path: string,
  ) {
    this.queries = new Queries(db, schemaVersionOf(db));
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

  protected guard<T>(doing: string, run: () => T): T {
    return guarded(this.path, doing, run);
  }

  protected ensureOpen(): void {
    if (this.closed) throw new StoreError('closed', `store ${this.path} is closed`, this.path);
  }
}

/** The schema version of the store behind `db` (PRAGMA user_version). */
export function schemaVersionOf(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Opens the existing store at `path` for reading only, without the writer lock, and builds on the
 * connection, closing it if that fails. Reads a file of schema SqliteFormat.oldestReadableVersion
 * or later as it is (it may not migrate it). Throws StoreError `not-sqlite`, `not-ours`,
 * `newer-schema`, or `invalid-argument` when there is no store at `path` or its schema is older.
 */
export function openReading<T>(path: string, busyTimeoutMs: number | undefined, build: (db: Database.Database) => T): T {
  const db = openForReading(path, busyTimeoutMs ?? SqliteDefault.busyTimeoutMs);
  try {
    return build(db);
  } catch (error) {
    db.close();
    throw fromSqlite(error, path, 'open');
  }
}
