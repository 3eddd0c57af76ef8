// Who may read the store's files. The database, its WAL and shared-memory files and the lock file
// hold every client address the receiver saw, so they are created readable by their owner only
// (0600): SQLite creates the WAL and -shm files with the mode of the database file, so creating the
// database file ourselves, before SQLite does, sets all three. Files a previous version created
// readable by everyone lose the permissions of other users when the store opens them.
import { chmodSync, closeSync, openSync, statSync } from 'node:fs';

/** Mode of files the store creates. */
export const STORE_FILE_MODE = 0o600;

const COMPANION_SUFFIXES = ['', '-wal', '-shm'] as const;
const OTHERS = 0o007;

/** Creates `path` empty with mode 0600 (whatever the umask) when it does not exist; leaves an existing file as it is. */
export function createPrivateFile(path: string): void {
  closeSync(openSync(path, 'a', STORE_FILE_MODE));
}

/** Takes away other users' permissions on the database and its WAL and -shm files, where they exist. */
export function restrictDatabaseFiles(databasePath: string): void {
  for (const suffix of COMPANION_SUFFIXES) {
    const path = databasePath + suffix;
    let mode: number;
    try {
      mode = statSync(path).mode;
    } catch {
      continue;
    }
    if ((mode & OTHERS) !== 0) chmodSync(path, mode & 0o7777 & ~OTHERS);
  }
}
