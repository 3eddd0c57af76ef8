// The history lookups at scale: each reads one key's rows from the conn_by_key index in its order
// and stops at its LIMIT (SQLite's plan, read through EXPLAIN QUERY PLAN on a real store file),
// the newest incarnations of an endpoint read no table row beyond the answer, and the merge of the
// protocols' incarnations keeps "newest first" and the limit, as the per-key reads merged did.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteReader, SqliteStore, type ConnEntry, type ConnEvent, type HistoryRecord } from '@nat64/conntrack';
import { DELETE_REASONS } from '../../src/constants.js';
import { natKey } from '../../src/sqlite/nat-key.js';
import { HISTORY_SQL, NEWEST_OF_ENDPOINT_SQL } from '../../src/sqlite/queries.js';
import { NAT, SECOND, T0, tcp } from '../helpers/entries.js';

const dir = mkdtempSync(join(tmpdir(), 'conntrack-queries-'));
const path = join(dir, 'conntrack.db');

/** NAT port 1 held in turn by clients 1..6 (tcp, one a second), and by client 9 over udp and icmp at 2.5 and 4.5 s. */
beforeAll(() => {
  const store = SqliteStore.open(path);
  try {
    for (let who = 1; who <= 6; who++) {
      const events: ConnEvent[] = [];
      if (who > 1) events.push({ kind: 'deleted', entry: tcp(1, who - 1), at: T0 + who * SECOND, reason: 'replaced' });
      events.push({ kind: 'created', entry: tcp(1, who), at: T0 + who * SECOND });
      store.commit(events, []);
    }
    store.commit([{ kind: 'created', entry: tcp(1, 9, { protocol: 17 }), at: T0 + 2.5 * SECOND }], []);
    store.commit([{ kind: 'created', entry: tcp(1, 9, { protocol: 1, serverPort: 0 }), at: T0 + 4.5 * SECOND }], []);
  } finally {
    store.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('history lookups', () => {
  it('seek the conn_by_key index and read it in order, without sorting the rows of a key', () => {
    const db = new Database(path, { readonly: true });
    try {
      for (const [name, sql] of Object.entries(HISTORY_SQL)) {
        const parameters = sql.split('?').length - 1;
        const plan = db
          .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
          .all(...Array<number>(parameters).fill(1))
          .map((row) => row.detail);
        expect(plan, name).toEqual([expect.stringMatching(/^SEARCH conn_history USING INDEX conn_by_key \(nat_key=\?/)]);
      }
    } finally {
      db.close();
    }
  });

  it('read the newest incarnations of an endpoint from conn_by_key alone, then only their rows by id', () => {
    const db = new Database(path, { readonly: true });
    try {
      const plan = db
        .prepare<[Record<string, number>], { detail: string }>(`EXPLAIN QUERY PLAN ${NEWEST_OF_ENDPOINT_SQL}`)
        .all({ icmp: 1, tcp: 2, udp: 3, limit: 4 })
        .map((row) => row.detail);
      const reads = plan.filter((detail) => /\bconn_history\b/.test(detail));
      expect(reads).toEqual([
        'SEARCH conn_history USING INTEGER PRIMARY KEY (rowid=?)',
        ...Array<string>(3).fill('SEARCH conn_history USING COVERING INDEX conn_by_key (nat_key=?)'),
      ]);
    } finally {
      db.close();
    }
  });

  it('answer the newest incarnations of an endpoint as the per-key reads merged did, on generated histories', () => {
    const step = fc.record({
      protocol: fc.constantFrom(1, 6, 17),
      port: fc.constantFrom(1, 2),
      who: fc.integer({ min: 1, max: 60 }),
      // 0: the same instant as the step before, so starts tie and the row id decides
      advanceSeconds: fc.constantFrom(0, 0, 1, 2),
      endOnly: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const file = join(mkdtempSync(join(dir, 'generated-')), 'conntrack.db');
        const store = SqliteStore.open(file, { durability: 'normal' });
        try {
          const open = new Map<string, ConnEntry>();
          let at = T0;
          for (const { protocol, port, who, advanceSeconds, endOnly } of steps) {
            at += advanceSeconds * SECOND;
            const name = `${protocol}:${port}`;
            const held = open.get(name);
            const events: ConnEvent[] = [];
            if (held !== undefined) events.push({ kind: 'deleted', entry: held, at, reason: endOnly ? 'idle' : 'replaced' });
            if (held === undefined || !endOnly) {
              const entry = tcp(port, who, { protocol, serverPort: protocol === 1 ? 0 : 443 });
              events.push({ kind: 'created', entry, at });
              open.set(name, entry);
            } else open.delete(name);
            store.commit(events, []);
          }
        } finally {
          store.close();
        }
        const reader = SqliteReader.open(file);
        const db = new Database(file, { readonly: true });
        try {
          for (const natPort of [1, 2, 3]) {
            for (const limit of [0, 1, 2, 3, 5, 8, 100]) {
              expect(reader.history({ natAddress: NAT, natPort, limit })).toEqual(mergedPerKey(db, natPort, limit));
            }
          }
        } finally {
          reader.close();
          db.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('merge the protocols newest first and keep the limit', () => {
    const store = SqliteStore.openReadOnly(path);
    try {
      const held = (limit: number, at?: number) =>
        store.history({ natAddress: NAT, natPort: 1, limit, ...(at === undefined ? {} : { at }) }).map((record) => [record.protocol, record.startedAt - T0]);
      expect(held(4)).toEqual([
        [6, 6 * SECOND],
        [6, 5 * SECOND],
        [1, 4.5 * SECOND],
        [6, 4 * SECOND],
      ]);
      expect(held(20)).toHaveLength(8);
      expect(held(20, T0 + 4.6 * SECOND)).toEqual([
        [1, 4.5 * SECOND],
        [6, 4 * SECOND],
        [17, 2.5 * SECOND],
      ]);
      expect(held(1, T0 + 4.6 * SECOND)).toEqual([[1, 4.5 * SECOND]]);
      expect(held(0)).toEqual([]);
    } finally {
      store.close();
    }
  });
});

/** The newest `limit` incarnations of NAT port `natPort` as read before: each key's newest `limit` in index order, merged newest first. */
function mergedPerKey(db: Database.Database, natPort: number, limit: number): HistoryRecord[] {
  type Row = [number, number, number, Buffer, number, number, number, number, number, number | null, number | null, number];
  const recentOf = db.prepare<[number, number], Row>(HISTORY_SQL.recentOf).raw();
  return [1, 6, 17]
    .flatMap((protocol) => recentOf.all(natKey(protocol, NAT, natPort), limit))
    .sort((a, b) => b[8] - a[8] || b[11] - a[11])
    .slice(0, limit)
    .map((row) => ({
      protocol: row[0],
      natAddress: row[1],
      natPort: row[2],
      clientAddress: new Uint8Array(row[3]),
      clientPort: row[4],
      serverAddress: row[5],
      serverPort: row[6],
      createdAt: row[7],
      startedAt: row[8],
      endedAt: row[9],
      endReason: row[10] === null ? null : (DELETE_REASONS[row[10] - 1] ?? null),
    }));
}
