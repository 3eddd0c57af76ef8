// What `nat64-receiver lookup` does once its arguments are read, by the commander program
// (lookup-command.ts) or without it (lookup-main.ts): find the database, ask, print, and the exit
// code of each error. Loads no command-line library and, unless --config is given, no config reader.
import { writeSync } from 'node:fs';
import { StoreError } from '@nat64/conntrack/sqlite-reader';
import { ExitCode } from '@nat64/service/exit-codes';
import type { LookupOptions } from './lookup-arguments.js';
import { DEFAULT_DATABASE } from './paths.js';
import { formatHistoryRecord, historyRecordJson, lookup, QueryError } from './queries.js';

/** Prints the incarnations found, one a line (or JSON lines); none sets exit code 1. */
export async function runLookup(endpoint: string | undefined, options: LookupOptions): Promise<void> {
  const zone = options.localTime ? 'local' : 'utc';
  const records = await lookup({
    database: await databasePath(options),
    ...(endpoint !== undefined ? { endpoint } : { client: options.client! }),
    zone,
    limit: options.limit,
    ...(options.proto ? { protocol: options.proto } : {}),
    ...(options.at !== undefined ? { at: options.at } : {}),
  });
  writeOut(records.map((record) => `${options.json ? JSON.stringify(historyRecordJson(record)) : formatHistoryRecord(record, zone)}\n`).join(''));
  if (records.length === 0) {
    console.error(`no entry for ${endpoint ?? String(options.client)}${options.at ? ` at ${options.at}` : ''}`);
    process.exitCode = 1;
  }
}

/**
 * Writes `text` to stdout in one go, without the stream that console.log creates (loading Node's
 * stream modules cost a lookup about 8 ms); through that stream when the descriptor would block,
 * and no more once the reader has gone (EPIPE, as console.log stops quietly).
 */
function writeOut(text: string): void {
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') process.stdout.write(bytes.subarray(written));
    else if (code !== 'EPIPE') throw error;
  }
}

/** The database of `--db`, else the `database` setting of the config file of `--config`, else the default. */
async function databasePath(options: LookupOptions): Promise<string> {
  if (options.db !== undefined) return options.db;
  if (options.config !== undefined) return configuredDatabase(options.config);
  return DEFAULT_DATABASE;
}

/**
 * The `database` setting of a receiver config file, checked as the daemon checks it. The rest of
 * the file is not read: a lookup needs nothing else, and should answer even when a setting it does
 * not use is wrong or names a file (keyFile) that this user cannot read.
 */
async function configuredDatabase(file: string): Promise<string> {
  const { ConfigError, ConfigReader, readJsonFile } = await import('@nat64/service/config');
  const settings = readJsonFile(file);
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) throw new ConfigError(file, 'expected a JSON object of settings');
  return ConfigReader.read(settings, file, (reader) => reader.string('database', DEFAULT_DATABASE));
}

/** The exit code of an error a lookup can end with (a bad question, or the store's), else undefined. */
export function lookupExitCode(error: unknown): number | undefined {
  if (error instanceof QueryError) return ExitCode.usage;
  if (error instanceof StoreError) {
    if (error.code === 'locked' || error.code === 'busy') return ExitCode.unavailable;
    if (error.code === 'not-sqlite' || error.code === 'not-ours' || error.code === 'newer-schema' || error.code === 'corrupt') return ExitCode.dataError;
    if (error.code === 'invalid-argument') return ExitCode.noInput;
    return ExitCode.ioError;
  }
  return undefined;
}

/** Ends the process as the full program does for an error of `lookup`: its message on stderr, and its exit code. */
export async function exitAfterLookupError(error: unknown): Promise<never> {
  console.error(`nat64-receiver: ${error instanceof Error ? error.message : String(error)}`);
  const { ConfigError } = await import('@nat64/service/config');
  process.exit(lookupExitCode(error) ?? (error instanceof ConfigError ? ExitCode.config : ExitCode.software));
}
