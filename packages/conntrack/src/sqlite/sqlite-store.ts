// The embedded default store: one SQLite file in WAL mode, written only through prepared
// statements, one transaction per commit. Opening refuses files that are not ours (see inspect.ts),
// takes the single-writer lock (see writer-lock.ts) and migrates older schemas forward.
import Database from 'better-sqlite3';
import { HISTORY_LIMIT, IpProtocol, SqliteDefault, SqliteFormat } from '../constants.js';
import { StoreError } from '../errors.js';
import type { ConnStore } from '../store.js';
import type {
  ConnEvent,
  DeleteReason,
  HistoryQuery,
  HistoryRecord,
  SideRecord,
  StoredEntry,
} from '../types.js';
import { inspectDatabase } from './inspect.js';
import { MIGRATIONS } from './schema.js';
import { fromSqlite } from './sqlite-errors.js';
import { WriterLock } from './writer-lock.js';

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

const ENTRY_COLUMNS =
  'protocol, nat_address, nat_port, client_address, client_port, server_address, server_port, created_at, started_at';
const HISTORY_COLUMNS = `${ENTRY_COLUMNS}, ended_at, end_reason, id`;
const PROTOCOLS: readonly number[] = Object.values(IpProtocol);

type EntryRow = [number, number, number, Buffer, number, number, number, number, number];
type HistoryRow = [...EntryRow, number | null, DeleteReason | null, number];

/** A ConnStore in an SQLite file. Open with SqliteStore.open(path, options); see ConnStore for the contract. */
export class SqliteStore implements ConnStore {
  private readonly insert: Database.Statement;
  private readonly end: Database.Statement;
  private readonly putSide: Database.Statement;
  private readonly dropSide: Database.Statement;
  private readonly readSide: Database.Statement<[string], Buffer>;
  private readonly readSides: Database.Statement<{ prefix: string }, [string, Buffer]>;
  private readonly current: Database.Statement<[], EntryRow>;
  private readonly latestAt: Database.Statement<[number, number, number, number], HistoryRow>;
  private readonly recent: Database.Statement<[number, number, number], HistoryRow>;
  private readonly recentOf: Database.Statement<[number, number, number, number], HistoryRow>;
  private readonly endedAtStatement: Database.Statement<[number], HistoryRow>;
  private readonly pruneEnded: Database.Statement<[number, number]>;
  private readonly transaction: (events: readonly ConnEvent[], side: readonly SideRecord[]) => void;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly lock: WriterLock | undefined,
    readonly path: string,
    readonly durability: Durability,
  ) {
    this.insert = db.prepare(`INSERT INTO conn_history (${ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.end = db.prepare(
      'UPDATE conn_history SET ended_at = ?, end_reason = ? WHERE protocol = ? AND nat_address = ? AND nat_port = ? AND ended_at IS NULL',
    );
    this.putSide = db.prepare('INSERT INTO side_record (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
    this.dropSide = db.prepare('DELETE FROM side_record WHERE name = ?');
    this.readSide = db.prepare<[string], Buffer>('SELECT value FROM side_record WHERE name = ?').pluck();
    this.readSides = db
      .prepare<{ prefix: string }, [string, Buffer]>(
        'SELECT name, value FROM side_record WHERE substr(name, 1, length(:prefix)) = :prefix ORDER BY name',
      )
      .raw();
    this.current = db
      .prepare<[], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM conn_history WHERE ended_at IS NULL ORDER BY started_at, id`)
      .raw();
    // Incarnations of one key never overlap, so the one held at t is the latest started at or before t.
    this.latestAt = db
      .prepare<[number, number, number, number], HistoryRow>(
        `SELECT ${HISTORY_COLUMNS} FROM conn_history WHERE nat_address = ? AND nat_port = ? AND protocol = ? AND started_at <= ?
         ORDER BY started_at DESC, id DESC LIMIT 1`,
      )
      .raw();
    this.recent = db
      .prepare<[number, number, number], HistoryRow>(
        `SELECT ${HISTORY_COLUMNS} FROM conn_history WHERE nat_address = ? AND nat_port = ? ORDER BY started_at DESC, id DESC LIMIT ?`,
      )
      .raw();
    this.recentOf = db
      .prepare<[number, number, number, number], HistoryRow>(
        `SELECT ${HISTORY_COLUMNS} FROM conn_history WHERE nat_address = ? AND nat_port = ? AND protocol = ?
         ORDER BY started_at DESC, id DESC LIMIT ?`,
      )
      .raw();
    this.endedAtStatement = db
      .prepare<[number], HistoryRow>(`SELECT ${HISTORY_COLUMNS} FROM conn_history WHERE ended_at = ? ORDER BY id`)
      .raw();
    this.pruneEnded = db.prepare<[number, number]>(
      'DELETE FROM conn_history WHERE id IN (SELECT id FROM conn_history WHERE ended_at < ? ORDER BY ended_at LIMIT ?)',
    );
    this.transaction = db.transaction((events: readonly ConnEvent[], side: readonly SideRecord[]) => {
      for (const event of events) {
        const e = event.entry;
        if (event.kind === 'created') {
          this.insert.run(e.protocol, e.natAddress, e.natPort, e.clientAddress, e.clientPort, e.serverAddress, e.serverPort, e.createdAt, event.at);
        } else {
          this.end.run(event.at, event.reason, e.protocol, e.natAddress, e.natPort);
        }
      }
      for (const [name, value] of side) {
        if (value === null) this.dropSide.run(name);
        else this.putSide.run(name, value);
      }
    }).immediate;
  }

  /**
   * Opens or creates the store at `path`. Throws StoreError naming the file: `not-sqlite`,
   * `not-ours` or `newer-schema` (file left untouched), `locked` (another process writes it),
   * `invalid-argument`, or the code of an I/O failure.
   */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    const durability = options.durability ?? 'full';
    const busyTimeoutMs = options.busyTimeoutMs ?? SqliteDefault.busyTimeoutMs;
    const cacheKiB = options.cacheKiB ?? SqliteDefault.cacheKiB;
    checkOptions(durability, busyTimeoutMs, cacheKiB, options.maxBytes);
    inspectDatabase(path);
    const lock = WriterLock.acquire(path);
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { timeout: busyTimeoutMs });
      if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal') {
        throw new StoreError('io', `Cannot open ${path} (WAL mode unavailable)`, path);
      }
      db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma(`cache_size = ${-cacheKiB}`);
      db.pragma(`journal_size_limit = ${SqliteDefault.walSizeLimitBytes}`);
      if (options.maxBytes !== undefined) {
        const pageSize = db.pragma('page_size', { simple: true }) as number;
        db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxBytes / pageSize))}`);
      }
      migrate(db, path);
      return new SqliteStore(db, lock, path, durability);
    } catch (error) {
      db?.close();
      lock.release();
      throw fromSqlite(error, path, 'open');
    }
  }

  /**
   * Opens an existing store for reading only, without the writer lock, so that tools (lookups,
   * dumps) can read while the receiver writes. It sees every committed transaction; commit() and
   * prune() fail with StoreError `read-only`. Throws `not-sqlite`, `not-ours`, `newer-schema`, or
   * `invalid-argument` when there is no store at `path` or its schema is older than ours.
   */
  static openReadOnly(path: string, options: Pick<SqliteStoreOptions, 'busyTimeoutMs'> = {}): SqliteStore {
    const version = inspectDatabase(path);
    if (version !== SqliteFormat.schemaVersion) {
      throw new StoreError(
        'invalid-argument',
        version === 0 ? `No connection store at ${path}` : `${path} has schema version ${version}; open it once for writing to migrate it`,
        path,
      );
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true, timeout: options.busyTimeoutMs ?? SqliteDefault.busyTimeoutMs });
      return new SqliteStore(db, undefined, path, 'normal');
    } catch (error) {
      db?.close();
      throw fromSqlite(error, path, 'open');
    }
  }

  *loadCurrent(): Iterable<StoredEntry> {
    this.ensureOpen();
    let rows: IterableIterator<EntryRow>;
    try {
      rows = this.current.iterate();
    } catch (error) {
      throw fromSqlite(error, this.path, 'read');
    }
    for (;;) {
      let next: IteratorResult<EntryRow>;
      try {
        next = rows.next();
      } catch (error) {
        throw fromSqlite(error, this.path, 'read');
      }
      if (next.done) return;
      yield toEntry(next.value);
    }
  }

  commit(events: readonly ConnEvent[], side: readonly SideRecord[]): void {
    this.ensureOpen();
    try {
      this.transaction(events, side);
    } catch (error) {
      throw fromSqlite(error, this.path, 'commit to');
    }
  }

  getSide(name: string): Uint8Array | null {
    this.ensureOpen();
    const value = this.guard('read', () => this.readSide.get(name));
    return value === undefined ? null : new Uint8Array(value);
  }

  listSide(prefix: string): Array<[name: string, value: Uint8Array]> {
    this.ensureOpen();
    return this.guard('read', () => this.readSides.all({ prefix })).map(([name, value]) => [name, new Uint8Array(value)]);
  }

  history(query: HistoryQuery): HistoryRecord[] {
    this.ensureOpen();
    const { natAddress, natPort, protocol, at } = query;
    // SQLite reads a negative LIMIT as "no limit"; the contract says at most `limit`.
    const limit = Math.max(0, query.limit ?? HISTORY_LIMIT);
    const rows = this.guard('read', () => {
      if (at === undefined) {
        return protocol === undefined
          ? this.recent.all(natAddress, natPort, limit)
          : this.recentOf.all(natAddress, natPort, protocol, limit);
      }
      const held: HistoryRow[] = [];
      for (const p of protocol === undefined ? PROTOCOLS : [protocol]) {
        const row = this.latestAt.get(natAddress, natPort, p, at);
        if (row !== undefined && (row[9] === null || at < row[9])) held.push(row);
      }
      // Newest first as in the other queries: by start, then by insertion.
      return held.sort((a, b) => b[8] - a[8] || b[11] - a[11]).slice(0, limit);
    });
    return rows.map(toRecord);
  }

  endedAt(at: number): HistoryRecord[] {
    this.ensureOpen();
    return this.guard('read', () => this.endedAtStatement.all(at)).map(toRecord);
  }

  prune(before: number, limit = Infinity): number {
    this.ensureOpen();
    // LIMIT -1 is SQLite for "no limit", so a negative `limit` must become 0, not -1.
    return this.guard('prune', () => this.pruneEnded.run(before, Number.isFinite(limit) ? Math.max(0, limit) : -1).changes);
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

  private guard<T>(doing: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw fromSqlite(error, this.path, doing);
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError('closed', `store ${this.path} is closed`, this.path);
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

function checkOptions(durability: string, busyTimeoutMs: number, cacheKiB: number, maxBytes: number | undefined): void {
  const fail = (what: string) => {
    throw new StoreError('invalid-argument', `SqliteStore option ${what}`);
  };
  if (durability !== 'full' && durability !== 'normal') fail(`durability must be 'full' or 'normal', got ${durability}`);
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) fail(`busyTimeoutMs must be a non-negative integer`);
  if (!Number.isSafeInteger(cacheKiB) || cacheKiB < 0) fail(`cacheKiB must be a non-negative integer`);
  if (maxBytes !== undefined && !(maxBytes > 0)) fail(`maxBytes must be positive`);
}

function toEntry(row: EntryRow): StoredEntry {
  return {
    protocol: row[0],
    natAddress: row[1],
    natPort: row[2],
    clientAddress: new Uint8Array(row[3]),
    clientPort: row[4],
    serverAddress: row[5],
    serverPort: row[6],
    createdAt: row[7],
    startedAt: row[8],
  };
}

function toRecord(row: HistoryRow): HistoryRecord {
  return { ...toEntry(row as unknown as EntryRow), endedAt: row[9], endReason: row[10] };
}
