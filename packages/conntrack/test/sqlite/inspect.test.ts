import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, type StoreErrorCode } from '@nat64/conntrack';
import { inspectDatabase } from '../../src/sqlite/inspect.js';

describe('inspect', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'conntrack-inspect-'));
    path = join(dir, 'conntrack.db');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opening refuses with `code`, names the file, and leaves every file's bytes and no lock file behind. */
  function expectRefused(code: StoreErrorCode, reason: RegExp): void {
    const files = readdirSync(dir).sort();
    const bytes = files.map((file) => readFileSync(join(dir, file)));
    expect(() => SqliteStore.open(path)).toThrow(expect.objectContaining({ code, path, message: expect.stringMatching(reason) }));
    expect(() => SqliteStore.open(path)).toThrow(expect.objectContaining({ message: expect.stringContaining(path) }));
    for (const [i, file] of files.entries()) expect(readFileSync(join(dir, file)).equals(bytes[i]!)).toBe(true);
    expect(existsSync(`${path}-lock`)).toBe(false);
  }

  function sqliteFile(setup: string, target = path): void {
    const db = new Database(target);
    db.exec(setup);
    db.close();
  }

  it('accepts a missing or empty file as a new store', () => {
    expect(inspectDatabase(path)).toBe(0);
    writeFileSync(path, '');
    expect(inspectDatabase(path)).toBe(0);
  });

  it('refuses a file that is not an SQLite database', () => {
    writeFileSync(path, '2019-03-18 10:06:28.491727 Created 192.0.2.7:3719 [2001:db8::17]:53186\n');
    expectRefused('not-sqlite', /not an SQLite database/);
  });

  it('refuses a file with a forged SQLite header', () => {
    const forged = Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(4096, 0xa5)]);
    forged.fill(0, 68, 72); // no application id, so only SQLite itself can tell
    writeFileSync(path, forged);
    expectRefused('not-sqlite', /not an SQLite database/);
    forged.fill(0xa5, 68, 72);
    writeFileSync(path, forged);
    expectRefused('not-ours', /application_id 0xa5a5a5a5/);
  });

  it('refuses an SQLite database holding tables of another program', () => {
    sqliteFile("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('alice')");
    expectRefused('not-ours', /tables of another program: users/);
  });

  it('refuses an SQLite database of another program in WAL mode with an uncheckpointed WAL', () => {
    const other = join(dir, 'other.db');
    const db = new Database(other);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    // Copy the pair while the WAL still holds the data: what a crashed program leaves behind.
    copyFileSync(other, path);
    copyFileSync(`${other}-wal`, `${path}-wal`);
    db.close();
    rmSync(other);
    expectRefused('not-ours', /tables of another program: t/);
  });

  it('refuses an SQLite database with another application id', () => {
    sqliteFile('PRAGMA application_id = 1234; CREATE TABLE t (x)');
    expectRefused('not-ours', /application_id 0x4d2/);
  });

  it("refuses a blank SQLite database that carries someone else's user_version", () => {
    sqliteFile('PRAGMA user_version = 7');
    expectRefused('not-ours', /user_version 7/);
  });

  it('refuses a store written by a newer schema version', () => {
    SqliteStore.open(path).close();
    rmSync(`${path}-lock`);
    sqliteFile('PRAGMA user_version = 4');
    expect(inspectDatabase.bind(null, path)).toThrow(expect.objectContaining({ code: 'newer-schema' }));
    expectRefused('newer-schema', /schema version 4 is newer than 3/);
  });

  it('accepts its own store at the current version', () => {
    SqliteStore.open(path).close();
    expect(inspectDatabase(path)).toBe(3);
  });
});
