// Opening the writing SQLite connection of a store: options, pragmas and the schema migration. The
// caller holds the writer lock (writer-lock.ts) for as long as the connection is open; a recovering
// store reopens the connection under the same lock.
import type Database from 'better-sqlite3';
import { openDatabase } from './better-sqlite3.js';
import { SqliteDefault, SqliteFormat } from '../constants.js';
import { StoreError } from '../errors.js';
import { MIGRATIONS } from './schema.js';
import { fromSqlite } from './sqlite-errors.js';

/**
 * What a returned commit survives.
 * - `full` (PRAGMA synchronous = FULL): the WAL is fsynced on every commit, so a commit survives a
 *   process crash, an OS crash and a power loss. Costs one fsync per commit.
 * - `normal` (PRAGMA synchronous = NORMAL): commits reach the WAL through the OS page cache and are
 *   fsynced at checkpoints only. A commit survives the process dying (kill -9 included: the kernel
 *   still writes the cache out) but an OS crash or power loss can lose the latest commits. The file
 *   never corrupts: it comes back at an earlier commit, entries and side records together.
 */
export type Durability = 'full' | 'normal';

export interface SqliteStoreOptions {
  /** Default `full`. */
  durability?: Durability;
  /** How long a commit waits for a write lock held by another connection, ms. Default 1000. */
  busyTimeoutMs?: number;
  /** SQLite page cache, KiB. Default 64 MiB. */
  cacheKiB?: number;
  /** Cap on the database size; a commit that would grow past it fails with StoreError `full`. */
  maxBytes?: number;
}

/** Options with defaults filled in and checked. */
export interface ConnectionSettings {
  durability: Durability;
  busyTimeoutMs: number;
  cacheKiB: number;
  maxBytes: number | undefined;
}

/** Fills in defaults; StoreError `invalid-argument` for an option out of range. */
export function connectionSettings(options: SqliteStoreOptions): ConnectionSettings {
  const settings: ConnectionSettings = {
    durability: options.durability ?? 'full',
    busyTimeoutMs: options.busyTimeoutMs ?? SqliteDefault.busyTimeoutMs,
    cacheKiB: options.cacheKiB ?? SqliteDefault.cacheKiB,
    maxBytes: options.maxBytes,
  };
  const fail = (what: string) => {
    throw new StoreError('invalid-argument', `SqliteStore option ${what}`);
  };
  const { durability, busyTimeoutMs, cacheKiB, maxBytes } = settings;
  if (durability !== 'full' && durability !== 'normal') fail(`durability must be 'full' or 'normal', got ${String(durability)}`);
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) fail(`busyTimeoutMs must be a non-negative integer`);
  if (!Number.isSafeInteger(cacheKiB) || cacheKiB < 0) fail(`cacheKiB must be a non-negative integer`);
  if (maxBytes !== undefined && !(maxBytes > 0)) fail(`maxBytes must be positive`);
  return settings;
}

/** Opens the connection in WAL mode with the settings' pragmas and brings the schema up to date. Throws StoreError. */
export function openWriter(path: string, settings: ConnectionSettings): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = openDatabase(path, { timeout: settings.busyTimeoutMs });
    // Takes effect only on a file without pages yet, before WAL mode writes the first.
    db.pragma(`page_size = ${SqliteDefault.pageBytes}`);
    if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal') {
      throw new StoreError('io', `Cannot open ${path} (WAL mode unavailable)`, path);
    }
    db.pragma(`synchronous = ${settings.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma(`cache_size = ${-settings.cacheKiB}`);
    // The statement journal of each multi-row INSERT (it may fail halfway) stays in memory: in a
    // temporary file it cost a write(2) per page the statement touched, a third of the insert time.
    db.pragma('temp_store = MEMORY');
    db.pragma(`journal_size_limit = ${SqliteDefault.walSizeLimitBytes}`);
    if (settings.maxBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(settings.maxBytes / pageSize))}`);
    }
    migrate(db, path);
    return db;
  } catch (error) {
    db?.close();
    throw fromSqlite(error, path, 'open');
  }
}

/** Brings the schema to the current version in one transaction; re-checks the version under the lock. */
function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    if (version > SqliteFormat.schemaVersion || (applicationId !== 0 && applicationId !== SqliteFormat.applicationId)) {
      throw new StoreError('newer-schema', `Refusing ${path}: it changed while opening (schema version ${version})`, path);
    }
    for (let step = version; step < SqliteFormat.schemaVersion; step++) db.exec(MIGRATIONS[step]!);
    if (applicationId === 0) db.pragma(`application_id = ${SqliteFormat.applicationId}`);
    if (version !== SqliteFormat.schemaVersion) db.pragma(`user_version = ${SqliteFormat.schemaVersion}`);
  }).immediate();
}
