// The single-writer lock of a store: an exclusive SQLite lock on a small companion file
// "<database>-lock", held by a connection that stays inside BEGIN EXCLUSIVE until release.
//
// Why this and not a pid file or probing the database: the lock is a POSIX record lock taken by
// SQLite, which the kernel drops when the process dies, so `kill -9` never leaves a stale lock and
// no pid can be mistaken for a live one; and it sits on its own file, so readers (an admin's
// sqlite3 shell, a backup) can still open the WAL database while the receiver runs. SQLite also
// tracks its locks per file across connections of one process, so a second open in the same
// process is refused too. The lock file stays behind after release; it holds no data.
import type Database from 'better-sqlite3';
import { openDatabase } from './better-sqlite3.js';
import { SqliteFormat } from '../constants.js';
import { StoreError } from '../errors.js';
import { createPrivateFile } from './file-modes.js';
import { fromSqlite, sqliteCode } from './sqlite-errors.js';

export class WriterLock {
  private constructor(
    private readonly connection: Database.Database,
    readonly lockPath: string,
  ) {}

  /** Takes the writer lock of `databasePath` or throws StoreError `locked` (held elsewhere) or `io`. */
  static acquire(databasePath: string): WriterLock {
    const lockPath = databasePath + SqliteFormat.lockSuffix;
    let connection: Database.Database | undefined;
    try {
      createPrivateFile(lockPath);
      connection = openDatabase(lockPath, { timeout: 0 });
      // An in-memory journal: holding the lock writes nothing and leaves no journal file.
      connection.pragma('journal_mode = MEMORY');
      connection.exec('BEGIN EXCLUSIVE');
      return new WriterLock(connection, lockPath);
    } catch (error) {
      connection?.close();
      if (sqliteCode(error).startsWith('SQLITE_BUSY')) {
        throw new StoreError('locked', `Cannot open ${databasePath} (another process has it open for writing: ${lockPath} is locked)`, databasePath, {
          cause: error,
        });
      }
      throw fromSqlite(error, lockPath, 'lock');
    }
  }

  release(): void {
    if (this.connection.open) this.connection.close();
  }
}
