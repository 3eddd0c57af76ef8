// The real receiver process on a database an older version wrote: it says that it migrates the file
// before starting and when that is done (to its log, and to systemd as start time it needs), and the
// entries it held are there afterwards.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '@nat64/conntrack';
import { SCHEMA_2 } from '../../../packages/conntrack/test/helpers/old-schemas.js';
import { listenNotify } from '../../../packages/sd-notify/test/support.js';
import { MAIN, startChildReceiver } from './support/child.js';

/** 2019-03-18 10:06:28.491727 UTC in microseconds. */
const STARTED = Date.UTC(2019, 2, 18, 10, 6, 28) * 1000 + 491_727;

/** A database as schema 2 left it, holding one open entry: tcp 192.0.2.7:3719 [2001:db8::17]:53186 -> 198.51.100.10:443. */
function writeSchema2(database: string): void {
  const db = new Database(database);
  db.pragma('journal_mode = WAL');
  db.exec(SCHEMA_2);
  const client = Buffer.alloc(16);
  client.set([0x20, 0x01, 0x0d, 0xb8]);
  client[15] = 0x17;
  db.prepare(
    `INSERT INTO conn_history (id, nat_key, client_address, client_port, server_address, server_port, created_at, started_at)
     VALUES (1, ?, ?, 53186, 3325256714, 443, ?, ?)`,
  ).run(6 * 2 ** 48 + 0xc0000207 * 2 ** 16 + 3719, client, STARTED - 50, STARTED);
  db.close();
}

describe('receiver upgrade', { timeout: 60_000 }, () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates a schema-2 database at start, saying so before and after, and keeps its entries', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nat64-upgrade-'));
    const database = join(dir, 'old.db');
    writeSchema2(database);
    expect(SqliteStore.fileSchemaVersion(database)).toBe(2);

    const receiver = await startChildReceiver(dir, { db: database });
    const lines = receiver
      .stderr()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg: string; schema?: number; newSchema?: number; seconds?: number });
    const before = lines.findIndex((line) => line.msg.startsWith('bringing the database to the current schema'));
    const after = lines.findIndex((line) => line.msg === 'database brought to the current schema');
    expect(lines[before]).toMatchObject({ schema: 2, newSchema: SqliteStore.schemaVersion });
    expect(lines[after]?.seconds).toBeGreaterThanOrEqual(0);
    expect(before).toBeGreaterThanOrEqual(0);
    expect(after).toBeGreaterThan(before);
    expect(await receiver.stop()).toBe(0);

    expect(SqliteStore.fileSchemaVersion(database)).toBe(SqliteStore.schemaVersion);
    const found = execFileSync(process.execPath, [MAIN, 'lookup', '192.0.2.7:3719', '--db', database], { encoding: 'utf8' });
    expect(found).toContain('tcp 192.0.2.7:3719 [2001:db8::17]:53186 server 198.51.100.10:443 from 2019-03-18 10:06:28.491727');
  });

  it('extends the start timeout of systemd while it migrates, before READY=1 (Type=notify)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nat64-upgrade-'));
    const database = join(dir, 'old.db');
    writeSchema2(database);
    const socket = join(dir, 'notify');
    const notify = await listenNotify(socket);
    try {
      const receiver = await startChildReceiver(dir, { db: database, env: { ...process.env, NOTIFY_SOCKET: socket } });
      await notify.next((message) => message.includes('READY=1'));
      const extended = notify.messages.findIndex((message) => message.startsWith('EXTEND_TIMEOUT_USEC=30000000\nSTATUS=migrating '));
      expect(extended).toBeGreaterThanOrEqual(0);
      expect(extended).toBeLessThan(notify.messages.findIndex((message) => message.includes('READY=1')));
      expect(await receiver.stop()).toBe(0);
    } finally {
      notify.close();
    }
  });

  it('says nothing of the kind for a new database', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nat64-upgrade-'));
    const receiver = await startChildReceiver(dir, { db: join(dir, 'new.db') });
    expect(receiver.stderr()).not.toContain('current schema');
    expect(await receiver.stop()).toBe(0);
  });
});
