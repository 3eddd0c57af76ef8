// better-sqlite3 loaded through require(), not import: importing a CommonJS package makes Node's
// ESM loader scan its source for export names first (cjs-module-lexer), which cost `nat64-receiver
// lookup` about 12 ms of its start; require() loads it without the scan.
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';

const BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3') as typeof Database;

/** A connection to the database file at `path` (better-sqlite3's `new Database`). */
export function openDatabase(path: string, options: Database.Options): Database.Database {
  return new BetterSqlite3(path, options);
}
