// Writes encoded commit batches (batch-codec.ts), one or several in one IMMEDIATE transaction (a
// group commit: one WAL append and one fsync for all of them), binding straight from the bytes:
// the created events go out as multi-row INSERTs of a few fixed sizes (one statement step per 64
// rows instead of per row), the deleted events as multi-row UPDATEs of the rows of their keys' open
// incarnations (one statement per end reason and time, `WHERE id IN (...)`), then the side records.
// The writer walks the events in order for its map of open keys and row ids; the statements may
// then run in another order (no index constrains open keys), but for one rule: an UPDATE may end a
// row created in the same batch, so the INSERTs waiting go out before any UPDATE does. So deletes
// between creates do not cut the INSERTs into small statements. Under a retention bound the same
// transaction then deletes, batch by batch, the oldest ended rows past it (ConnStore.retain).
//
// The writer keeps the open keys in memory, each with the id of its row (read from the file when it
// is constructed, then kept by its own commits; it must be the file's only writer): that is how a
// create of a held key is refused (StoreError `constraint`) and how a delete finds its row, without
// a unique index of open keys, which cost a B-tree insert at a random place per create. It assigns
// row ids itself. A transaction that fails puts the map and the next id back as they were.
import type Database from 'better-sqlite3';
import { DELETE_REASONS, SqliteTuning, retainedPerCommit } from '../constants.js';
import { StoreError } from '../errors.js';
import { KeyIndex } from '../key-index.js';
import { BatchLayout, CREATED_KIND } from './batch-codec.js';
import { natKey } from './nat-key.js';
import { PRUNE_ENDED_SQL } from './queries.js';

const INSERT_COLUMNS = 'id, nat_key, client_address, client_port, server, started_at, start_delay';
const COLUMN_COUNT = 7;
const TWO_16 = 0x1_0000;
/** No previous id in the undo log: the key was not open. */
const NONE = -1;

interface Statement {
  rows: number;
  statement: Database.Statement<unknown[]>;
  /** Reused for every call: the bound values of `rows` rows. */
  args: unknown[];
}

/** Statements of `sql(rows)` for each size of SqliteTuning.insertRows, largest first. */
function statements(db: Database.Database, sql: (rows: number) => string, fixed: number, perRow: number): Statement[] {
  return [...SqliteTuning.insertRows]
    .sort((a, b) => b - a)
    .map((rows) => ({ rows, statement: db.prepare(sql(rows)), args: new Array<unknown>(fixed + rows * perRow) }));
}

/** Deleted events of one end reason waiting for their UPDATE. */
interface PendingEnds {
  at: number;
  ids: number[];
}

export class CommitWriter {
  /** Largest first. */
  private readonly inserts: Statement[];
  /** Largest first: ended_at, end_reason, then the ids. */
  private readonly ends: Statement[];
  private readonly putSide: Database.Statement<unknown[]>;
  private readonly dropSide: Database.Statement<unknown[]>;
  private readonly pruneEnded: Database.Statement<unknown[]>;
  private readonly transaction: (batches: readonly Uint8Array[], retainBefore: number | undefined, pruned: number[]) => void;
  private readonly one: Uint8Array[] = [];
  private readonly onePruned: number[] = [0];
  private readonly decoder = new TextDecoder();
  /** Open key -> id of its row. */
  private readonly open = new KeyIndex(0, true);
  private lastId: number;
  /** What this commit changed in `open`, pairs of key and previous id (NONE), to undo on failure. */
  private readonly undoKeys: number[] = [];
  private readonly undoIds: number[] = [];
  /** Created events of the batch being written waiting for their INSERT: offsets and row ids. */
  private readonly rowOffsets: number[] = [];
  private readonly rowIds: number[] = [];
  /** By end reason (kind - 1). */
  private readonly pendingEnds: PendingEnds[] = DELETE_REASONS.map(() => ({ at: 0, ids: [] }));

  constructor(db: Database.Database) {
    const row = `(${Array(COLUMN_COUNT).fill('?').join(', ')})`;
    this.inserts = statements(db, (rows) => `INSERT INTO conn_history (${INSERT_COLUMNS}) VALUES ${Array(rows).fill(row).join(', ')}`, 0, COLUMN_COUNT);
    this.ends = statements(db, (rows) => `UPDATE conn_history SET ended_at = ?, end_reason = ? WHERE id IN (${Array(rows).fill('?').join(', ')})`, 2, 1);
    this.putSide = db.prepare('INSERT INTO side_record (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
    this.dropSide = db.prepare('DELETE FROM side_record WHERE name = ?');
    this.pruneEnded = db.prepare(PRUNE_ENDED_SQL);
    this.transaction = db.transaction((batches: readonly Uint8Array[], retainBefore: number | undefined, pruned: number[]) => {
      for (let i = 0; i < batches.length; i++) {
        const eventCount = this.run(batches[i]!);
        pruned[i] = retainBefore === undefined ? 0 : this.pruneEnded.run(retainBefore, retainedPerCommit(eventCount)).changes;
      }
    }).immediate;
    for (const [key, id] of db.prepare<[], [number, number]>('SELECT nat_key, id FROM conn_history WHERE ended_at IS NULL').raw().iterate()) {
      this.open.set(key, id);
    }
    this.lastId = db.prepare<[], number | null>('SELECT max(id) FROM conn_history').pluck().get() ?? 0;
  }

  /**
   * Stores the batch in `bytes` or nothing of it, and with it deletes ended rows past `retainBefore`
   * if given, returning how many it deleted; throws what SQLite threw, or StoreError `corrupt` for
   * bytes that are no batch.
   */
  write(bytes: Uint8Array, retainBefore?: number): number {
    this.one[0] = bytes;
    this.writeGroup(this.one, retainBefore, this.onePruned);
    return this.onePruned[0]!;
  }

  /**
   * Stores the batches in order, in one transaction, or nothing of any of them; `pruned[i]` is then
   * how many ended rows batch i deleted under `retainBefore`. Throws as write() does.
   */
  writeGroup(batches: readonly Uint8Array[], retainBefore: number | undefined, pruned: number[]): void {
    const lastId = this.lastId;
    this.undoKeys.length = 0;
    this.undoIds.length = 0;
    try {
      this.transaction(batches, retainBefore, pruned);
    } catch (error) {
      this.lastId = lastId;
      for (let i = this.undoKeys.length - 1; i >= 0; i--) {
        const previous = this.undoIds[i]!;
        if (previous === NONE) this.open.delete(this.undoKeys[i]!);
        else this.open.set(this.undoKeys[i]!, previous);
      }
      throw error;
    }
  }

  /** Writes the batch's events and side records; returns the number of events. */
  private run(bytes: Uint8Array): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const eventCount = view.getUint32(0, true);
    const sideCount = view.getUint32(4, true);
    const eventsEnd = BatchLayout.headerBytes + eventCount * BatchLayout.eventBytes;
    if (eventsEnd > bytes.length) throw malformed(0, 'events truncated');
    this.rowOffsets.length = 0;
    this.rowIds.length = 0;
    for (const pending of this.pendingEnds) pending.ids.length = 0;
    const largestInsert = this.inserts[0]!.rows;
    const largestEnd = this.ends[0]!.rows;
    let o: number = BatchLayout.headerBytes;
    for (; o < eventsEnd; o += BatchLayout.eventBytes) {
      const kind = bytes[o + BatchLayout.kind]!;
      const key = keyAt(view, bytes, o);
      if (kind === CREATED_KIND) {
        if (this.open.get(key) >= 0) throw new StoreError('constraint', `Cannot store a created entry whose key is already held (event at offset ${o})`);
        const id = ++this.lastId;
        this.open.set(key, id);
        this.undoKeys.push(key);
        this.undoIds.push(NONE);
        this.rowOffsets.push(o);
        this.rowIds.push(id);
        if (this.rowOffsets.length === largestInsert) this.insertRows(view, bytes);
        continue;
      }
      const pending = this.pendingEnds[kind - 1];
      if (pending === undefined) throw malformed(o + BatchLayout.kind, `unknown event kind ${kind}`);
      const id = this.open.get(key);
      if (id < 0) continue;
      this.open.delete(key);
      this.undoKeys.push(key);
      this.undoIds.push(id);
      const at = view.getFloat64(o + BatchLayout.at, true);
      if (pending.ids.length > 0 && pending.at !== at) this.endRows(view, bytes, kind);
      pending.at = at;
      pending.ids.push(id);
      if (pending.ids.length === largestEnd) this.endRows(view, bytes, kind);
    }
    this.insertRows(view, bytes);
    for (let kind = 1; kind <= this.pendingEnds.length; kind++) this.endRows(view, bytes, kind);
    for (let i = 0; i < sideCount; i++) {
      if (o + 4 > bytes.length) throw malformed(o, 'side record truncated');
      const nameLength = view.getUint32(o, true);
      if (o + 8 + nameLength > bytes.length) throw malformed(o, 'side record truncated');
      const name = this.decoder.decode(bytes.subarray(o + 4, o + 4 + nameLength));
      o += 4 + nameLength;
      const valueLength = view.getUint32(o, true);
      o += 4;
      if (valueLength === BatchLayout.nullValue) {
        this.dropSide.run(name);
      } else {
        if (o + valueLength > bytes.length) throw malformed(o, 'side record value truncated');
        this.putSide.run(name, bytes.subarray(o, o + valueLength));
        o += valueLength;
      }
    }
    return eventCount;
  }

  /** Inserts the created events waiting, largest statements first. */
  private insertRows(view: DataView, bytes: Uint8Array): void {
    const offsets = this.rowOffsets;
    const ids = this.rowIds;
    let next = 0;
    for (const insert of this.inserts) {
      while (offsets.length - next >= insert.rows) {
        const args = insert.args;
        let k = 0;
        for (let row = 0; row < insert.rows; row++, next++) {
          const o = offsets[next]!;
          args[k++] = ids[next]!;
          args[k++] = keyAt(view, bytes, o);
          args[k++] = bytes.subarray(o + BatchLayout.clientAddress, o + BatchLayout.eventBytes);
          args[k++] = view.getUint16(o + BatchLayout.clientPort, true);
          args[k++] = view.getUint32(o + BatchLayout.serverAddress, true) * TWO_16 + view.getUint16(o + BatchLayout.serverPort, true);
          const at = view.getFloat64(o + BatchLayout.at, true);
          args[k++] = at;
          args[k++] = at - view.getFloat64(o + BatchLayout.createdAt, true);
        }
        insert.statement.run(args);
      }
    }
    offsets.length = 0;
    ids.length = 0;
  }

  /** Ends the rows waiting for end reason `kind`, after inserting the created rows waiting (it may end one of them). */
  private endRows(view: DataView, bytes: Uint8Array, kind: number): void {
    const pending = this.pendingEnds[kind - 1]!;
    if (pending.ids.length === 0) return;
    this.insertRows(view, bytes);
    let next = 0;
    for (const end of this.ends) {
      while (pending.ids.length - next >= end.rows) {
        const args = end.args;
        args[0] = pending.at;
        args[1] = kind;
        for (let row = 0; row < end.rows; row++) args[2 + row] = pending.ids[next++]!;
        end.statement.run(args);
      }
    }
    pending.ids.length = 0;
  }
}

function keyAt(view: DataView, bytes: Uint8Array, o: number): number {
  return natKey(bytes[o + BatchLayout.protocol]!, view.getUint32(o + BatchLayout.natAddress, true), view.getUint16(o + BatchLayout.natPort, true));
}

function malformed(offset: number, why: string): StoreError {
  return new StoreError('corrupt', `Cannot decode commit batch at offset ${offset} (${why})`);
}
