// The connection log: the product server admins read. One line per event, exactly
//   2019-03-18 10:06:28.436754 Initialized 192.0.2.7
//   2019-03-18 10:06:28.491727 Created 192.0.2.7:3719 [2001:db8::17]:53186
//   2019-03-18 15:22:02.062254 Deleted 192.0.2.9:47102 [2001:db8::75]:33131
// with microsecond timestamps, UTC by default. Lines go to a file (reopened on SIGHUP, for
// logrotate) or to stdout (log-file.ts). Writes are buffered per batch and issued in order after
// the batch is durably stored, so the log never shows an entry the store does not have.
// The subpath, not the package: `nat64-receiver lookup` loads this module without the logger.
import { formatEndpoint4, formatEndpoint6 } from '@nat64/service/addresses';
import { uint32ToIpv4Text } from '@nat64/wire/address';

export type TimeZoneMode = 'utc' | 'local';

export interface LoggedEntry {
  natAddress: number;
  natPort: number;
  clientAddress: Uint8Array;
  clientPort: number;
}

// Every line of one commit carries the commit's time, so the last text is worth remembering.
let memoMicros = Number.NaN;
let memoZone: TimeZoneMode = 'utc';
let memoText = '';

/** Formats a microsecond timestamp as "YYYY-MM-DD HH:MM:SS.ffffff". */
export function formatTimestamp(micros: number, zone: TimeZoneMode): string {
  if (micros === memoMicros && zone === memoZone) return memoText;
  memoText = formatTimestampUncached(micros, zone);
  memoMicros = micros;
  memoZone = zone;
  return memoText;
}

function formatTimestampUncached(micros: number, zone: TimeZoneMode): string {
  const millis = Math.floor(micros / 1000);
  const date = new Date(millis);
  const utc = zone === 'utc';
  const year = utc ? date.getUTCFullYear() : date.getFullYear();
  const month = (utc ? date.getUTCMonth() : date.getMonth()) + 1;
  const day = utc ? date.getUTCDate() : date.getDate();
  const hours = utc ? date.getUTCHours() : date.getHours();
  const minutes = utc ? date.getUTCMinutes() : date.getMinutes();
  const seconds = utc ? date.getUTCSeconds() : date.getSeconds();
  const fraction = micros - Math.floor(micros / 1_000_000) * 1_000_000;
  return `${year}-${pad2(month)}-${pad2(day)} ${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${String(fraction).padStart(6, '0')}`;
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

export function initializedLine(at: number, gateway: number, zone: TimeZoneMode): string {
  return `${formatTimestamp(at, zone)} Initialized ${uint32ToIpv4Text(gateway)}`;
}

export function entryLine(at: number, kind: 'Created' | 'Deleted', entry: LoggedEntry, zone: TimeZoneMode): string {
  return `${formatTimestamp(at, zone)} ${kind} ${formatEndpoint4(entry.natAddress, entry.natPort)} ${formatEndpoint6(entry.clientAddress, entry.clientPort)}`;
}

/** Parses the timestamp at the start of a log line back into microseconds (UTC or local). */
export function parseTimestamp(line: string, zone: TimeZoneMode): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6}) /.exec(line);
  if (!match) return undefined;
  const [year, month, day, hours, minutes, seconds, fraction] = match.slice(1).map(Number) as [number, number, number, number, number, number, number];
  const millis = zone === 'utc' ? Date.UTC(year, month - 1, day, hours, minutes, seconds) : new Date(year, month - 1, day, hours, minutes, seconds).getTime();
  return millis * 1000 + fraction;
}

/** The end of a log file as a restarted receiver finds it (see ConnectionLog.prepareTail). */
export interface LogTail {
  /** Time of the last complete line; undefined for an empty file. */
  lastAt: number | undefined;
  /** The complete lines at the end of the file that carry that time (one commit's lines, or their start). */
  lastLines: string[];
  /** Bytes of a partial last line that were cut off. */
  cutBytes: number;
}

/**
 * Where the connection log goes: a file (reopened on SIGHUP, for logrotate) or stdout. Never throws
 * after it is open: a failed write or reopen keeps the lines and retries (see log-file.ts).
 */
export interface ConnectionLog {
  readonly zone: TimeZoneMode;
  /** Queues a line; handed to the file by the next flush(). */
  append(line: string): void;
  /** Queues lines already encoded (UTF-8, each ending in a newline), after those queued before; handed to the file by the next flush(). */
  appendEncoded(lines: Uint8Array): void;
  /** Writes the queued lines in order, as the lines of `commit` (its time) when given. */
  flush(commit?: number): void;
  /**
   * Calls `done(true)` once every line flushed so far is in the file (at once when it already is),
   * or `done(false)` when the log is closed, or finishing, with them still unwritten.
   */
  afterWritten(done: (written: boolean) => void): void;
  /** Lines are waiting because writing or reopening failed; retries are under way. */
  readonly stalled: boolean;
  /** Times of the commits whose flushed lines are not all written yet, oldest first. */
  unwrittenCommits(): number[];
  /** Closes and reopens the file (after logrotate moved it); a failure stalls the log until a retry succeeds. */
  reopen(): void;
  /**
   * At startup, before anything is appended: cuts a partial last line off the file and tells what
   * the file ends with, to resume after a crash; undefined for stdout.
   */
  prepareTail(): LogTail | undefined;
  /** From now on a failure is not retried: waiters of unwritten lines get false (shutdown). */
  finish(): void;
  /** One last attempt to write what is queued, then closes. Unwritten lines are left to log recovery. */
  close(): void;
}
