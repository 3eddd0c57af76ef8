// Translates errors from better-sqlite3 (SqliteError with an extended result code such as
// "SQLITE_IOERR_WRITE") into StoreError codes callers can branch on.
import { StoreError, type StoreErrorCode } from '../errors.js';

const BY_PRIMARY_CODE: ReadonlyArray<readonly [prefix: string, code: StoreErrorCode]> = [
  ['SQLITE_FULL', 'full'],
  ['SQLITE_BUSY', 'busy'],
  ['SQLITE_LOCKED', 'busy'],
  ['SQLITE_READONLY', 'read-only'],
  ['SQLITE_CORRUPT', 'corrupt'],
  ['SQLITE_NOTADB', 'corrupt'],
  ['SQLITE_CONSTRAINT', 'constraint'],
];

/** The result code of a SqliteError, or '' for anything else. */
export function sqliteCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : '';
}

export function fromSqlite(error: unknown, path: string, doing: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = sqliteCode(error);
  const kind = BY_PRIMARY_CODE.find(([prefix]) => code === prefix || code.startsWith(`${prefix}_`))?.[1] ?? 'io';
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreError(kind, `Cannot ${doing} ${path} (${detail}${code ? `, ${code}` : ''})`, path, { cause: error });
}

/** Runs `run`, turning what SQLite throws into a StoreError about `doing` to `path`. */
export function guarded<T>(path: string, doing: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw fromSqlite(error, path, doing);
  }
}

/**
 * The rows of a lazy query, each step guarded as a read of `path`. A caller that stops early
 * (break, or a throw in its loop) ends the query too, so that the connection can close.
 */
export function* guardedRows<T>(path: string, open: () => IterableIterator<T>): Generator<T, void, undefined> {
  const rows = guarded(path, 'read', open);
  try {
    for (;;) {
      const next = guarded(path, 'read', () => rows.next());
      if (next.done) return;
      yield next.value;
    }
  } finally {
    rows.return?.();
  }
}
