// The history lookups at scale: each reads one key's rows from the conn_by_key index in its order
// and stops at its LIMIT (SQLite's plan, read through EXPLAIN QUERY PLAN on a real store file),
// and the merge of the protocols' incarnations keeps "newest first" and the limit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore, type ConnEvent } from '@nat64/conntrack';
import { SqliteFormat } from '../../src/constants.js';
import { historySql } from '../../src/sqlite/queries.js';
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
      expect(db.pragma('user_version', { simple: true })).toBe(SqliteFormat.schemaVersion);
      for (const [name, sql] of Object.entries(historySql(SqliteFormat.schemaVersion))) {
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
