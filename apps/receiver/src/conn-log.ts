// The connection log: the product server admins read. One line per event, exactly
//   2019-03-18 10:06:28.436754 Initialized 192.0.2.7
//   2019-03-18 10:06:28.491727 Created 192.0.2.7:3719 [2001:db8::17]:53186
//   2019-03-18 15:22:02.062254 Deleted 192.0.2.9:47102 [2001:db8::75]:33131
// with microsecond timestamps, UTC by default. Lines go to a file (reopened on SIGHUP, for
// logrotate) or to stdout. Writes are buffered per batch and issued in order after the batch is
// durably stored, so the log never shows an entry the store does not have.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { formatEndpoint4, formatEndpoint6, formatIpv4 } from '@nat64/service';

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
  return `${formatTimestamp(at, zone)} Initialized ${formatIpv4(gateway)}`;
}

export function entryLine(at: number, kind: 'Created' | 'Deleted', entry: LoggedEntry, zone: TimeZoneMode): string {
  return `${formatTimestamp(at, zone)} ${kind} ${formatEndpoint4(entry.natAddress, entry.natPort)} ${formatEndpoint6(entry.clientAddress, entry.clientPort)}`;
}

/** Parses the timestamp at the start of a log line back into microseconds (UTC or local). */
export function parseTimestamp(line: string, zone: TimeZoneMode): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6}) /.exec(line);
  if (!match) return undefined;
  const [year, month, day, hours, minutes, seconds, fraction] = match.slice(1).map(Number) as [number, number, number, number, number, number, number];
  const millis =
    zone === 'utc'
      ? Date.UTC(year, month - 1, day, hours, minutes, seconds)
      : new Date(year, month - 1, day, hours, minutes, seconds).getTime();
  return millis * 1000 + fraction;
}

export interface ConnectionLog {
  readonly zone: TimeZoneMode;
  /** Queues a line; written by the next flush(). */
  append(line: string): void;
  /** Writes queued lines in order. */
  flush(): void;
  /** Closes and reopens the file (after logrotate moved it). */
  reopen(): void;
  /** The timestamp of the last line already in the file, to resume after a crash; undefined for stdout or an empty file. */
  lastLoggedAt(): number | undefined;
  close(): void;
}

/** A log written with synchronous appends: the receiver ACKs only after its lines are handed to the kernel. */
export function openConnectionLog(target: { file: string } | { fd: number }, zone: TimeZoneMode): ConnectionLog {
  let fd = 'file' in target ? openAppend(target.file) : target.fd;
  let queued: string[] = [];
  return {
    zone,
    append(line) {
      queued.push(line);
    },
    flush() {
      if (queued.length === 0) return;
      const text = `${queued.join('\n')}\n`;
      queued = [];
      writeFully(fd, Buffer.from(text));
    },
    reopen() {
      if (!('file' in target)) return;
      const next = openAppend(target.file);
      closeSync(fd);
      fd = next;
    },
    lastLoggedAt() {
      if (!('file' in target)) return undefined;
      const last = readLastLine(fd);
      return last === undefined ? undefined : parseTimestamp(last, zone);
    },
    close() {
      if ('file' in target) closeSync(fd);
    },
  };
}

function openAppend(file: string): number {
  return openSync(file, 'a+', 0o640);
}

function writeFully(fd: number, bytes: Buffer): void {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
}

function readLastLine(fd: number): string | undefined {
  const size = fstatSync(fd).size;
  if (size === 0) return undefined;
  const chunk = Buffer.alloc(Math.min(size, 4096));
  readSync(fd, chunk, 0, chunk.length, size - chunk.length);
  const lines = chunk.toString('utf8').split('\n').filter((line) => line !== '');
  return lines.at(-1);
}
