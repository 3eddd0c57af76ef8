// The reading side of a SqliteStore connection (plus prune, which deletes by a query): prepared
// statements and the conversion of rows to the package's records.
import type Database from 'better-sqlite3';
import type { ClientHistoryQuery, HistoryQuery, HistoryRecord, StoredEntry } from '../types.js';
import { DELETE_REASONS, HISTORY_LIMIT, IpProtocol } from '../constants.js';
import { NAT_KEY_COLUMNS, natKey, natKeyFields } from './nat-key.js';

/**
 * The fields of a StoredEntry, in its order, for a SELECT list: from schema 3's packed server
 * endpoint and start delay, or from schema 2's columns (a reader reads a file it may not migrate).
 */
function entryColumns(schemaVersion: number): string {
  const serverAndTimes =
    schemaVersion === 2 ? 'server_address, server_port, created_at, started_at' : 'server >> 16, server & 65535, started_at - start_delay, started_at';
  return `${NAT_KEY_COLUMNS}, client_address, client_port, ${serverAndTimes}`;
}
/** Deletes at most ?2 ended rows with ended_at < ?1, oldest end first (through the conn_ended index); the writer's commits prune with it too. */
export const PRUNE_ENDED_SQL = 'DELETE FROM conn_history WHERE id IN (SELECT id FROM conn_history WHERE ended_at < ? ORDER BY ended_at LIMIT ?)';

const historyColumns = (schemaVersion: number) => `${entryColumns(schemaVersion)}, ended_at, end_reason, id`;
const PROTOCOLS: readonly number[] = Object.values(IpProtocol);

/**
 * The lookups of one NAT key, each a seek in conn_by_key (nat_key, started_at) that reads the rows
 * in the index's order and stops at the LIMIT: no sort, so a key with many incarnations costs what
 * one with few does.
 */
export function historySql(schemaVersion: number) {
  return {
    // Incarnations of one key never overlap, so the one held at t is the latest started at or before t.
    latestAt: `SELECT ${historyColumns(schemaVersion)} FROM conn_history WHERE nat_key = ? AND started_at <= ? ORDER BY started_at DESC, id DESC LIMIT 1`,
    recentOf: `SELECT ${historyColumns(schemaVersion)} FROM conn_history WHERE nat_key = ? ORDER BY started_at DESC, id DESC LIMIT ?`,
  } as const;
}

type EntryRow = [number, number, number, Buffer, number, number, number, number, number];
/** end_reason is 1 + the index of the reason in DELETE_REASONS. */
type HistoryRow = [...EntryRow, number | null, number | null, number];

export class Queries {
  private readonly readSide: Database.Statement<[string], Buffer>;
  private readonly readSides: Database.Statement<{ prefix: string }, [string, Buffer]>;
  private readonly current: Database.Statement<[], EntryRow>;
  private readonly latestAt: Database.Statement<[number, number], HistoryRow>;
  private readonly recentOf: Database.Statement<[number, number], HistoryRow>;
  private readonly endedAtStatement: Database.Statement<[number], HistoryRow>;
  private readonly pruneEnded: Database.Statement<[number, number]>;
  private readonly byClient: Database.Statement<[Buffer, number, number, number], HistoryRow>;

  /** `schemaVersion`: of the file behind `db`, the current one or (a reader's) SqliteFormat.oldestReadableVersion and later. */
  constructor(db: Database.Database, schemaVersion: number) {
    const sql = historySql(schemaVersion);
    const columns = historyColumns(schemaVersion);
    this.readSide = db.prepare<[string], Buffer>('SELECT value FROM side_record WHERE name = ?').pluck();
    this.readSides = db
      .prepare<{ prefix: string }, [string, Buffer]>('SELECT name, value FROM side_record WHERE substr(name, 1, length(:prefix)) = :prefix ORDER BY name')
      .raw();
    this.current = db.prepare<[], EntryRow>(`SELECT ${entryColumns(schemaVersion)} FROM conn_history WHERE ended_at IS NULL ORDER BY started_at, id`).raw();
    this.latestAt = db.prepare<[number, number], HistoryRow>(sql.latestAt).raw();
    this.recentOf = db.prepare<[number, number], HistoryRow>(sql.recentOf).raw();
    this.endedAtStatement = db.prepare<[number], HistoryRow>(`SELECT ${columns} FROM conn_history WHERE ended_at = ? ORDER BY id`).raw();
    this.pruneEnded = db.prepare<[number, number]>(PRUNE_ENDED_SQL);
    // No index by client: an admin's occasional question reads the whole history once.
    this.byClient = db
      .prepare<[Buffer, number, number, number], HistoryRow>(
        `SELECT ${columns} FROM conn_history WHERE client_address = ? AND started_at <= ? AND (ended_at IS NULL OR ended_at > ?)
         ORDER BY started_at DESC, id DESC LIMIT ?`,
      )
      .raw();
  }

  /** The open incarnations, oldest start first, read lazily. */
  *openIncarnations(): IterableIterator<StoredEntry> {
    for (const row of this.current.iterate()) yield toEntry(row);
  }

  getSide(name: string): Uint8Array | null {
    const value = this.readSide.get(name);
    return value === undefined ? null : new Uint8Array(value);
  }

  listSide(prefix: string): Array<[name: string, value: Uint8Array]> {
    return this.readSides.all({ prefix }).map(([name, value]) => [name, new Uint8Array(value)]);
  }

  history(query: HistoryQuery): HistoryRecord[] {
    const { natAddress, natPort, protocol, at } = query;
    // SQLite reads a negative LIMIT as "no limit"; the contract says at most `limit`.
    const limit = Math.max(0, query.limit ?? HISTORY_LIMIT);
    // Fields out of range would pack into another key; no entry has them.
    if (!natKeyFields(protocol ?? IpProtocol.tcp, natAddress, natPort)) return [];
    // One key per protocol (icmp, tcp, udp), each read on its own in index order, then merged.
    const rows: HistoryRow[] = [];
    for (const p of protocol === undefined ? PROTOCOLS : [protocol]) {
      const key = natKey(p, natAddress, natPort);
      if (at === undefined) rows.push(...this.recentOf.all(key, limit));
      else {
        const row = this.latestAt.get(key, at);
        if (row !== undefined && (row[9] === null || at < row[9])) rows.push(row);
      }
    }
    // Newest first: by start, then by insertion.
    return rows
      .sort((a, b) => b[8] - a[8] || b[11] - a[11])
      .slice(0, limit)
      .map(toRecord);
  }

  clientHistory(query: ClientHistoryQuery): HistoryRecord[] {
    const at = query.at ?? Number.MAX_SAFE_INTEGER;
    const ended = query.at ?? Number.MIN_SAFE_INTEGER;
    return this.byClient.all(Buffer.from(query.clientAddress), at, ended, Math.max(0, query.limit ?? HISTORY_LIMIT)).map(toRecord);
  }

  endedAt(at: number): HistoryRecord[] {
    return this.endedAtStatement.all(at).map(toRecord);
  }

  prune(before: number, limit: number): number {
    // LIMIT -1 is SQLite for "no limit", so a negative `limit` must become 0, not -1.
    return this.pruneEnded.run(before, Number.isFinite(limit) ? Math.max(0, limit) : -1).changes;
  }
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
  return { ...toEntry(row as unknown as EntryRow), endedAt: row[9], endReason: row[10] === null ? null : (DELETE_REASONS[row[10] - 1] ?? null) };
}
