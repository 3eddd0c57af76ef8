// The one error this package throws. `code` says what went wrong in a way callers branch on;
// `path` names the database or lock file when a file is involved.

export type StoreErrorCode =
  /** The caller passed an invalid entry, option or argument (a bug in the caller; nothing changed). */
  | 'invalid-argument'
  /** The file exists but is not an SQLite database. */
  | 'not-sqlite'
  /** The file is an SQLite database that belongs to something else. */
  | 'not-ours'
  /** The file holds a schema newer than this code understands. */
  | 'newer-schema'
  /** Another process has the store open for writing. */
  | 'locked'
  /** The write lock of the database stayed busy past the busy timeout. */
  | 'busy'
  /** The disk, or the configured size limit, is full. */
  | 'full'
  /** The database cannot be written (read-only file or file system). */
  | 'read-only'
  /** The database is damaged, or its contents contradict themselves. */
  | 'corrupt'
  /** A write contradicted the stored table (a row the store did not expect). */
  | 'constraint'
  /** Any other I/O failure. */
  | 'io'
  /** The store was used after close(). */
  | 'closed'
  /**
   * A background commit failed, so memory is ahead of the store: the table refuses changes until
   * recover() has rebuilt memory from what the store durably holds. `cause` is that failure.
   */
  | 'failed';

export class StoreError extends Error {
  override readonly name = 'StoreError';

  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Wraps anything a store threw into a StoreError, keeping one that already is. */
export function asStoreError(error: unknown, context: string): StoreError {
  if (error instanceof StoreError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreError('io', `${context}: ${detail}`, undefined, { cause: error });
}
