// Decides whether a file may become or stay our store, before anything writes to it. Reads the raw
// header first (no SQLite involved), then, if needed, looks inside through a read-only connection,
// which sees committed WAL content and can neither write nor checkpoint the file; a reader keeps
// that connection (openForReading). A refused file is left byte for byte as it was.
import { closeSync, openSync, readSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { openDatabase } from './better-sqlite3.js';
import { SqliteFormat } from '../constants.js';
import { StoreError } from '../errors.js';
import { fromSqlite, sqliteCode } from './sqlite-errors.js';

/** Schema version of an acceptable file; 0 for a missing, empty or blank SQLite file. */
export function inspectDatabase(path: string): number {
  if (!checkHeader(path)) return 0;
  let connection: Database.Database | undefined;
  try {
    connection = openDatabase(path, { readonly: true, fileMustExist: true });
    return inspectInside(connection, path);
  } catch (error) {
    throw inspectError(error, path);
  } finally {
    connection?.close();
  }
}

/**
 * Opens an existing store of schema SqliteFormat.oldestReadableVersion or later for reading only,
 * through the connection that inspected it (one open, not two), without migrating it. Throws
 * `not-sqlite`, `not-ours`, `newer-schema`, or `invalid-argument` when there is no store at `path`
 * or its schema is older.
 */
export function openForReading(path: string, busyTimeoutMs: number): Database.Database {
  if (!checkHeader(path)) throw noStore(path);
  let connection: Database.Database | undefined;
  try {
    connection = openDatabase(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
    const version = inspectInside(connection, path);
    if (version === 0) throw noStore(path);
    if (version < SqliteFormat.oldestReadableVersion) {
      throw new StoreError('invalid-argument', `${path} has schema version ${version}; open it once for writing to migrate it`, path);
    }
    return connection;
  } catch (error) {
    connection?.close();
    throw inspectError(error, path);
  }
}

/** Whether the file has a header, and refuses one that is not SQLite's or names another program. */
function checkHeader(path: string): boolean {
  const header = readHeader(path);
  if (header === undefined || header.length === 0) return false;
  const magic = Buffer.from(SqliteFormat.magic, 'latin1');
  if (header.length < SqliteFormat.headerBytes || !header.subarray(0, magic.length).equals(magic)) {
    throw new StoreError('not-sqlite', `Refusing ${path}: not an SQLite database`, path);
  }
  const headerApplicationId = header.readUInt32BE(68);
  if (headerApplicationId !== 0 && headerApplicationId !== SqliteFormat.applicationId) {
    throw notOurs(path, `application_id 0x${headerApplicationId.toString(16)}`);
  }
  return true;
}

/** The schema version of the file behind a read-only connection, which sees committed WAL content. */
function inspectInside(connection: Database.Database, path: string): number {
  const applicationId = connection.pragma('application_id', { simple: true }) as number;
  const version = connection.pragma('user_version', { simple: true }) as number;
  if (applicationId === SqliteFormat.applicationId) {
    if (version > SqliteFormat.schemaVersion) {
      throw new StoreError(
        'newer-schema',
        `Refusing ${path}: schema version ${version} is newer than ${SqliteFormat.schemaVersion}, the newest this program understands`,
        path,
      );
    }
    return version;
  }
  if (applicationId !== 0) throw notOurs(path, `application_id 0x${applicationId.toString(16)}`);
  const objects = connection.prepare<[], string>("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
  if (objects.length > 0) throw notOurs(path, `it holds tables of another program: ${objects.slice(0, 5).join(', ')}`);
  if (version !== 0) throw notOurs(path, `user_version ${version} without our application_id`);
  return 0;
}

function readHeader(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError('io', `Cannot read ${path} (${(error as Error).message})`, path, { cause: error });
  }
  try {
    const header = Buffer.alloc(SqliteFormat.headerBytes);
    const read = readSync(fd, header, 0, header.length, 0);
    return header.subarray(0, read);
  } catch (error) {
    throw new StoreError('io', `Cannot read ${path} (${(error as Error).message})`, path, { cause: error });
  } finally {
    closeSync(fd);
  }
}

function inspectError(error: unknown, path: string): StoreError {
  if (sqliteCode(error) === 'SQLITE_NOTADB') {
    return new StoreError('not-sqlite', `Refusing ${path}: not an SQLite database`, path, { cause: error });
  }
  return fromSqlite(error, path, 'inspect');
}

function noStore(path: string): StoreError {
  return new StoreError('invalid-argument', `No connection store at ${path}`, path);
}

function notOurs(path: string, why: string): StoreError {
  return new StoreError('not-ours', `Refusing ${path}: not a connection store (${why})`, path);
}
