// Reading a store while the receiver writes it, for tools that start, ask and exit (`nat64-receiver
// lookup`, `dump`): the subpath `@nat64/conntrack/sqlite-reader` loads the queries and the check
// of the file, none of the writer, its worker thread or the connection table, because loading
// modules is most of what such a tool costs.
import { SqliteReading, openReading } from './sqlite/reading.js';

export { StoreError } from './errors.js';

/** A store open for reading only, without the writer lock; it sees every committed transaction. */
export class SqliteReader extends SqliteReading {
  /**
   * Opens the existing store at `path`. Throws StoreError `not-sqlite`, `not-ours`, `newer-schema`,
   * or `invalid-argument` when there is no store at `path` or its schema is too old to read as it is (schema 1: a writer migrates it).
   */
  static open(path: string, options: { busyTimeoutMs?: number } = {}): SqliteReader {
    return openReading(path, options.busyTimeoutMs, (db) => new SqliteReader(db, path));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.guard('close', () => this.db.close());
  }
}
