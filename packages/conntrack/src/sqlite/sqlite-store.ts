// The embedded default store: one SQLite file in WAL mode, written only through prepared
// statements, one transaction per commit. Opening refuses files that are not ours (see inspect.ts),
// takes the single-writer lock (see writer-lock.ts) and migrates older schemas forward
// (connection.ts). Commits are encoded once (batch-codec.ts) and written from the bytes
// (commit-writer.ts), the same path the worker-thread store (worker/) takes.
import type Database from 'better-sqlite3';
import { SqliteFormat } from '../constants.js';
import { StoreError } from '../errors.js';
import type { ConnStore } from '../store.js';
import type { ConnEvent, HistoryRecord, SideRecord } from '../types.js';
import { encode, encodingLength } from './batch-codec.js';
import { CommitWriter } from './commit-writer.js';
import { connectionSettings, openWriter, type ConnectionSettings, type Durability, type SqliteStoreOptions } from './connection.js';
import { createPrivateFile, restrictDatabaseFiles } from './file-modes.js';
import { inspectDatabase } from './inspect.js';
import { Queries } from './queries.js';
import { SqliteReading, openReading, schemaVersionOf } from './reading.js';
import { fromSqlite } from './sqlite-errors.js';
import { SqliteWorkerStore } from './worker/worker-store.js';
import { WriterLock } from './writer-lock.js';

export type { Durability, SqliteStoreOptions } from './connection.js';

const SCRATCH_BYTES = 64 * 1024;

/** A ConnStore in an SQLite file. Open with SqliteStore.open(path, options); see ConnStore for the contract. */
export class SqliteStore extends SqliteReading implements ConnStore {
  /** Undefined when open for reading only (it reads the open keys, which a reader does not need). */
  private writer: CommitWriter | undefined;
  /** Where commit() encodes its batch; grows to the largest batch seen. */
  private scratch = new Uint8Array(SCRATCH_BYTES);
  private retainBefore: number | undefined;
  prunedByCommits = 0;
  private readonly single: Uint8Array[] = [];
  private readonly singlePruned: number[] = [0];

  private constructor(
    db: Database.Database,
    private readonly lock: WriterLock | undefined,
    path: string,
    readonly durability: Durability,
    private readonly settings: ConnectionSettings | undefined,
  ) {
    super(db, path);
    this.writer = settings === undefined ? undefined : new CommitWriter(db);
  }

  /**
   * Opens or creates the store at `path`; the files it creates are readable by their owner only
   * (file-modes.ts). Throws StoreError naming the file: `not-sqlite`,
   * `not-ours` or `newer-schema` (file left untouched), `locked` (another process writes it),
   * `invalid-argument`, or the code of an I/O failure.
   */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    const settings = connectionSettings(options);
    inspectDatabase(path);
    const lock = WriterLock.acquire(path);
    try {
      createPrivateFile(path);
      restrictDatabaseFiles(path);
      return new SqliteStore(openWriter(path, settings), lock, path, settings.durability, settings);
    } catch (error) {
      lock.release();
      throw fromSqlite(error, path, 'open');
    }
  }

  /** The schema version open() brings a file to. */
  static readonly schemaVersion: number = SqliteFormat.schemaVersion;

  /**
   * The schema version of the store at `path`, 0 when there is none yet (a missing or empty file):
   * below schemaVersion, open() migrates it first. Throws as open() does for a file it would refuse.
   */
  static fileSchemaVersion(path: string): number {
    return inspectDatabase(path);
  }

  /**
   * Opens the store at `path` as open() does, but on a worker thread that owns the connection and
   * the writer lock, so that commits run beside the caller's thread: see SqliteWorkerStore. Rejects
   * with the StoreError open() would throw.
   */
  static openInWorker(path: string, options: SqliteStoreOptions = {}): Promise<SqliteWorkerStore> {
    return SqliteWorkerStore.open(path, options);
  }

  /**
   * Opens an existing store for reading only, without the writer lock, so that tools (lookups,
   * dumps) can read while the receiver writes (a tool that starts, asks and exits loads less
   * through SqliteReader). It sees every committed transaction; commit() and
   * prune() fail with StoreError `read-only`. Throws `not-sqlite`, `not-ours`, `newer-schema`, or
   * `invalid-argument` when there is no store at `path` or its schema is too old to read as it is (schema 1: a writer migrates it).
   */
  static openReadOnly(path: string, options: Pick<SqliteStoreOptions, 'busyTimeoutMs'> = {}): SqliteStore {
    return openReading(path, options.busyTimeoutMs, (db) => new SqliteStore(db, undefined, path, 'normal', undefined));
  }

  commit(events: readonly ConnEvent[], side: readonly SideRecord[]): void {
    this.ensureOpen();
    const batch = { events, side };
    const length = encodingLength(batch);
    if (length > this.scratch.length) this.scratch = new Uint8Array(Math.max(length, this.scratch.length * 2));
    encode(batch, this.scratch, 0);
    this.commitEncoded(this.scratch.subarray(0, length));
  }

  /**
   * commit() of a batch already encoded by batch-codec.ts; returns how many ended incarnations it
   * deleted under the retention bound. For the writer thread; not part of the public API.
   */
  commitEncoded(bytes: Uint8Array): number {
    this.single[0] = bytes;
    this.commitEncodedGroup(this.single, this.singlePruned);
    return this.singlePruned[0]!;
  }

  /**
   * commitEncoded() of several batches in one transaction (one fsync): all of them or none;
   * `pruned[i]` is then what batch i deleted under the retention bound. For the writer thread.
   */
  commitEncodedGroup(batches: readonly Uint8Array[], pruned: number[]): void {
    this.ensureOpen();
    if (this.writer === undefined) throw new StoreError('read-only', `store ${this.path} is open for reading only`, this.path);
    try {
      this.writer.writeGroup(batches, this.retainBefore, pruned);
    } catch (error) {
      throw fromSqlite(error, this.path, 'commit to');
    }
    for (let i = 0; i < batches.length; i++) this.prunedByCommits += pruned[i]!;
  }

  /**
   * Closes and reopens the database connection, keeping the writer lock, so that no other process
   * can take the file in between; clears whatever state a failed write left in the connection.
   * For the writer thread's recovery; not part of the public API.
   */
  reconnect(): void {
    this.ensureOpen();
    if (this.settings === undefined) throw new StoreError('read-only', `store ${this.path} is open for reading only`, this.path);
    try {
      this.db.close();
    } catch {
      // A connection that cannot even close is what reconnecting replaces.
    }
    this.db = openWriter(this.path, this.settings);
    this.writer = new CommitWriter(this.db);
    this.queries = new Queries(this.db, schemaVersionOf(this.db));
  }

  /** Copies WAL content back into the database file if no reader stops it (PRAGMA wal_checkpoint(PASSIVE)). */
  checkpoint(): void {
    this.ensureOpen();
    this.guard('checkpoint', () => this.db.pragma('wal_checkpoint(PASSIVE)'));
  }

  getSide(name: string): Uint8Array | null {
    this.ensureOpen();
    return this.guard('read', () => this.queries.getSide(name));
  }

  listSide(prefix: string): Array<[name: string, value: Uint8Array]> {
    this.ensureOpen();
    return this.guard('read', () => this.queries.listSide(prefix));
  }

  endedAt(at: number): HistoryRecord[] {
    this.ensureOpen();
    return this.guard('read', () => this.queries.endedAt(at));
  }

  prune(before: number, limit = Infinity): number {
    this.ensureOpen();
    return this.guard('prune', () => this.queries.prune(before, limit));
  }

  retain(before: number): void {
    this.ensureOpen();
    if (this.settings === undefined) throw new StoreError('read-only', `store ${this.path} is open for reading only`, this.path);
    this.retainBefore = before;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.close();
    } catch (error) {
      throw fromSqlite(error, this.path, 'close');
    } finally {
      this.lock?.release();
    }
  }
}
