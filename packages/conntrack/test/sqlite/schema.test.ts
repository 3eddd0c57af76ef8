// Schema migrations: a file written by an older schema opens, keeps every row (and its id) and side
// record, and takes commits afterwards; a reader reads a schema 2 file as it is, without migrating it. The old file is built here by running that schema's DDL (a literal copy
// of what shipped), not from a binary fixture.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnTable, DELETE_REASONS, SqliteReader, SqliteStore, type DeleteReason, type HistoryRecord } from '@nat64/conntrack';
import { NAT, SECOND, SERVER, T0, client, manualClock, tcp } from '../helpers/entries.js';
import { SCHEMA_1, SCHEMA_2 } from '../helpers/old-schemas.js';

type Row = [protocol: number, natAddress: number, natPort: number, who: number, startedAt: number, endedAt: number | null, reason: string | null];

/** Every kind of row version 1 held (ICMP with server port 0, as the table checks): each protocol, the ends of every field's range, each end reason, two incarnations started together. */
const ROWS_1: Row[] = [
  [6, NAT, 1, 1, T0, T0 + SECOND, 'gateway'],
  [6, NAT, 1, 2, T0 + SECOND, T0 + 2 * SECOND, 'replaced'],
  [6, NAT, 1, 3, T0 + 2 * SECOND, null, null],
  [17, NAT, 1, 4, T0, T0 + 3 * SECOND, 'idle'],
  [1, NAT, 1, 5, T0 + SECOND, null, null],
  [17, 0xffff_ffff, 0xffff, 6, T0, T0 + SECOND, 'evicted'],
  [6, 0, 0, 7, T0, T0 + SECOND, 'admin'],
  [17, NAT, 2, 8, T0 + 5 * SECOND, T0 + 5 * SECOND, 'gateway'],
  [17, NAT, 2, 9, T0 + 5 * SECOND, null, null],
];

describe('schema', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'conntrack-schema-'));
    path = join(dir, 'c.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function writeVersion1(): void {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA_1);
    const insert = db.prepare(
      `INSERT INTO conn_history (protocol, nat_address, nat_port, client_address, client_port, server_address, server_port, created_at, started_at, ended_at, end_reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const [protocol, natAddress, natPort, who, startedAt, endedAt, reason] of ROWS_1) {
      insert.run(
        protocol,
        natAddress,
        natPort,
        Buffer.from(client(who)),
        50_000 + who,
        SERVER,
        protocol === 1 ? 0 : 443,
        T0 - 1000,
        startedAt,
        endedAt,
        reason,
      );
    }
    db.prepare('INSERT INTO side_record (name, value) VALUES (?, ?)').run('epoch/192.0.2.7', Buffer.from([1, 2, 3]));
    db.close();
  }

  /** ROWS_1 at ids 10, 20, ... (gaps a pruned history leaves), created at T0 - 1000 except the last, created after its start (clock skew). */
  function writeVersion2(): void {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA_2);
    const insert = db.prepare(
      `INSERT INTO conn_history (id, nat_key, client_address, client_port, server_address, server_port, created_at, started_at, ended_at, end_reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const [i, [protocol, natAddress, natPort, who, startedAt, endedAt, reason]] of ROWS_1.entries()) {
      insert.run(
        10 * (i + 1),
        protocol * 2 ** 48 + natAddress * 2 ** 16 + natPort,
        Buffer.from(client(who)),
        50_000 + who,
        SERVER,
        protocol === 1 ? 0 : 443,
        i === ROWS_1.length - 1 ? startedAt + 7 : T0 - 1000,
        startedAt,
        endedAt,
        reason === null ? null : DELETE_REASONS.indexOf(reason as DeleteReason) + 1,
      );
    }
    db.prepare('INSERT INTO side_record (name, value) VALUES (?, ?)').run('epoch/192.0.2.7', Buffer.from([1, 2, 3]));
    db.close();
  }

  /** id and NAT port of every row, in id order, read with SQL. */
  function rowIds(): Array<[number, number]> {
    const db = new Database(path, { readonly: true });
    try {
      // An existing file keeps its page size (4 KiB, SQLite's default); only new files take ours.
      expect(db.pragma('page_size', { simple: true })).toBe(4096);
      return db.prepare<[], [number, number]>('SELECT id, nat_key & 65535 FROM conn_history ORDER BY id').raw().all();
    } finally {
      db.close();
    }
  }

  const expected = (row: Row): HistoryRecord => ({
    ...tcp(row[2], row[3], { protocol: row[0], natAddress: row[1], serverPort: row[0] === 1 ? 0 : 443 }),
    startedAt: row[4],
    endedAt: row[5],
    endReason: row[6] as HistoryRecord['endReason'],
  });

  it('migrates a version 1 file: every incarnation, its end and the side records stay', () => {
    writeVersion1();
    const store = SqliteStore.open(path);
    try {
      // Oldest start first.
      expect([...store.loadCurrent()]).toEqual(
        [ROWS_1[4]!, ROWS_1[2]!, ROWS_1[8]!].map((row) => {
          const { endedAt: _e, endReason: _r, ...entry } = expected(row);
          return entry;
        }),
      );
      expect(store.history({ natAddress: NAT, natPort: 1 })).toEqual([ROWS_1[2]!, ROWS_1[4]!, ROWS_1[1]!, ROWS_1[3]!, ROWS_1[0]!].map(expected));
      expect(store.history({ natAddress: NAT, natPort: 1, protocol: 6, at: T0 + SECOND + 1 })).toEqual([expected(ROWS_1[1]!)]);
      expect(store.history({ natAddress: 0xffff_ffff, natPort: 0xffff })).toEqual([expected(ROWS_1[5]!)]);
      expect(store.history({ natAddress: 0, natPort: 0 })).toEqual([expected(ROWS_1[6]!)]);
      // Started together: the later row is the newer, as in version 1.
      expect(store.history({ natAddress: NAT, natPort: 2 })).toEqual([expected(ROWS_1[8]!), expected(ROWS_1[7]!)]);
      expect(store.endedAt(T0 + SECOND).map((row) => row.endReason)).toEqual(['gateway', 'evicted', 'admin']);
      expect(store.getSide('epoch/192.0.2.7')).toEqual(new Uint8Array([1, 2, 3]));
    } finally {
      store.close();
    }
  });

  it('takes commits on a migrated file: ends its open incarnations and refuses a create of a key it holds', () => {
    writeVersion1();
    const store = SqliteStore.open(path);
    try {
      expect(() => store.commit([{ kind: 'created', entry: tcp(1, 10), at: T0 + 9 * SECOND }], [])).toThrow(expect.objectContaining({ code: 'constraint' }));
      store.commit(
        [
          { kind: 'deleted', entry: tcp(1, 3), at: T0 + 9 * SECOND, reason: 'idle' },
          { kind: 'created', entry: tcp(1, 10), at: T0 + 9 * SECOND },
        ],
        [],
      );
      expect(store.history({ natAddress: NAT, natPort: 1, protocol: 6, limit: 2 })).toEqual([
        { ...tcp(1, 10), startedAt: T0 + 9 * SECOND, endedAt: null, endReason: null },
        { ...expected(ROWS_1[2]!), endedAt: T0 + 9 * SECOND, endReason: 'idle' },
      ]);
    } finally {
      store.close();
    }
  });

  it('opens a migrated file as a table, then reopens it without migrating again', () => {
    writeVersion1();
    const clock = manualClock(T0 + 10 * SECOND);
    const table = ConnTable.open(SqliteStore.open(path), { capacity: 100, idleTimeout: 0, clock });
    expect(table.size).toBe(3);
    table.close();
    const store = SqliteStore.open(path);
    expect([...store.loadCurrent()]).toHaveLength(3);
    store.close();
  });

  it('migrates a version 1 file to the current schema, keeping the row ids', () => {
    writeVersion1();
    SqliteStore.open(path).close();
    expect(rowIds()).toEqual(ROWS_1.map((row, i) => [i + 1, row[2]]));
  });

  it('migrates a version 2 file: every incarnation with its id, creation time, end and the side records stay', () => {
    writeVersion2();
    const skewed = ROWS_1[8]!;
    const expected2 = (row: Row) => ({ ...expected(row), ...(row === skewed ? { createdAt: skewed[4] + 7 } : {}) });
    const store = SqliteStore.open(path);
    try {
      expect([...store.loadCurrent()]).toEqual(
        [ROWS_1[4]!, ROWS_1[2]!, skewed].map((row) => {
          const { endedAt: _e, endReason: _r, ...entry } = expected2(row);
          return entry;
        }),
      );
      expect(store.history({ natAddress: NAT, natPort: 1 })).toEqual([ROWS_1[2]!, ROWS_1[4]!, ROWS_1[1]!, ROWS_1[3]!, ROWS_1[0]!].map(expected2));
      expect(store.history({ natAddress: 0xffff_ffff, natPort: 0xffff })).toEqual([expected2(ROWS_1[5]!)]);
      expect(store.history({ natAddress: NAT, natPort: 2 })).toEqual([expected2(skewed), expected2(ROWS_1[7]!)]);
      expect(store.endedAt(T0 + SECOND).map((row) => row.endReason)).toEqual(['gateway', 'evicted', 'admin']);
      expect(store.getSide('epoch/192.0.2.7')).toEqual(new Uint8Array([1, 2, 3]));
      // The open rows keep their ids: a delete ends row 30, and the next create takes id 91.
      store.commit(
        [
          { kind: 'deleted', entry: tcp(1, 3), at: T0 + 9 * SECOND, reason: 'idle' },
          { kind: 'created', entry: tcp(1, 10), at: T0 + 9 * SECOND },
        ],
        [],
      );
      expect(store.history({ natAddress: NAT, natPort: 1, protocol: 6, limit: 2 })).toEqual([
        { ...tcp(1, 10), startedAt: T0 + 9 * SECOND, endedAt: null, endReason: null },
        { ...expected2(ROWS_1[2]!), endedAt: T0 + 9 * SECOND, endReason: 'idle' },
      ]);
    } finally {
      store.close();
    }
    expect(rowIds()).toEqual([...ROWS_1.map((row, i): [number, number] => [10 * (i + 1), row[2]]), [91, 1]]);
  });

  it('reads a version 2 file without a writer, leaving it at version 2', () => {
    writeVersion2();
    const before = readFileSync(path);
    for (const reader of [SqliteReader.open(path), SqliteStore.openReadOnly(path)]) {
      try {
        expect([...reader.loadCurrent()].map((entry) => entry.natPort)).toEqual([1, 1, 2]);
        expect(reader.history({ natAddress: NAT, natPort: 2 })).toEqual([{ ...expected(ROWS_1[8]!), createdAt: ROWS_1[8]![4] + 7 }, expected(ROWS_1[7]!)]);
        expect(reader.history({ natAddress: NAT, natPort: 1, protocol: 6, at: T0 + SECOND + 1 })).toEqual([expected(ROWS_1[1]!)]);
      } finally {
        reader.close();
      }
    }
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  /** A store holding one open row, then `sql` run on it directly. */
  function storeWithRowAltered(sql: string): void {
    const store = SqliteStore.open(path);
    store.commit([{ kind: 'created', entry: tcp(1), at: T0 }], []);
    store.close();
    const db = new Database(path);
    try {
      db.prepare(sql).run();
    } finally {
      db.close();
    }
  }

  it('keeps a server endpoint that would unpack into another address out of the file (one CHECK for address and port)', () => {
    storeWithRowAltered('UPDATE conn_history SET server = 281474976710655');
    const db = new Database(path);
    try {
      expect(() => db.prepare('UPDATE conn_history SET server = 281474976710656').run()).toThrow(/CHECK constraint failed/);
      expect(() => db.prepare('UPDATE conn_history SET server = -1').run()).toThrow(/CHECK constraint failed/);
    } finally {
      db.close();
    }
    const reader = SqliteReader.open(path);
    try {
      expect(reader.history({ natAddress: NAT, natPort: 1 })[0]).toMatchObject({ serverAddress: 0xffff_ffff, serverPort: 0xffff });
    } finally {
      reader.close();
    }
  });

  it('refuses to load a creation time out of range (start_delay has no CHECK) as corrupt, closing the store', () => {
    storeWithRowAltered('UPDATE conn_history SET start_delay = started_at + 1');
    // The table stops reading at the bad row; the store must end that query to close, or the
    // failure would come out as the close's "busy" instead.
    expect(() => ConnTable.open(SqliteStore.open(path), { capacity: 10, idleTimeout: 0, clock: manualClock(T0) })).toThrow(
      expect.objectContaining({ code: 'corrupt' }),
    );
    SqliteStore.open(path).close();
  });

  it('asks for a writer to migrate a version 1 file it may only read', () => {
    writeVersion1();
    expect(() => SqliteStore.openReadOnly(path)).toThrow(/schema version 1; open it once for writing/);
    expect(() => SqliteReader.open(path)).toThrow(/schema version 1; open it once for writing/);
  });
});
