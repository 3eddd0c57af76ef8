// The connection log's file (or stdout): lines are appended whole, in order, and a failure to
// write or to reopen never throws, never drops a line and never glues two lines together.
//
// Lines are queued per commit and handed to the kernel with synchronous appends. When a write fails
// (ENOSPC, EIO, EROFS...) or the file cannot be reopened after a rotation (EACCES, a missing
// directory), the unwritten bytes stay queued, exactly from the byte where the kernel stopped, and
// are retried with a growing delay until they go through; callers waiting for their lines
// (afterWritten) wait as long. A line cut short by a full disk is finished by the retry; one cut
// short in a file being rotated away is cut off that file and written whole to the new one. At
// startup, a partial last line that a crash left behind is cut off (prepareTail), so that the
// lines recovered from the store are written whole after the last complete line.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { parseTimestamp, type ConnectionLog, type LogTail, type TimeZoneMode } from '@nat64/handoff-receiver';

/** Mode of a log file the receiver creates: the owner writes, its group (log readers) reads. */
export const LOG_FILE_MODE = 0o640;
/** First retry after a failure, ms; doubled on each failed retry up to RETRY_MAX_MS. */
export const RETRY_MIN_MS = 50;
export const RETRY_MAX_MS = 2000;

const NEWLINE = 0x0a;
const TAIL_CHUNK_BYTES = 64 * 1024;
/** Length of "YYYY-MM-DD HH:MM:SS.ffffff", the part every line of one commit shares. */
const TIMESTAMP_CHARS = 26;

export interface ConnectionLogHooks {
  /** Writing or reopening failed while the log was working: lines and whoever waits for them wait. Once per outage. */
  stalled?(error: NodeJS.ErrnoException, doing: 'write' | 'reopen'): void;
  /** Every failed attempt, the first included. */
  attemptFailed?(): void;
  /** The log works again after an outage; every held line is written. */
  resumed?(): void;
  /** The file was reopened (SIGHUP). */
  reopened?(): void;
}

interface Waiter {
  /** Bytes appended when the waiter registered: it is done once that many are written. */
  upTo: number;
  done: (written: boolean) => void;
}

interface Chunk {
  bytes: Uint8Array;
  /** The commit whose lines these are, if the caller said so. */
  commit: number | undefined;
}

/** Opens the log for appending (creating the file 0640); throws if it cannot be opened at all. */
export function openConnectionLog(target: { file: string } | { fd: number }, zone: TimeZoneMode, hooks: ConnectionLogHooks = {}): ConnectionLog {
  return 'file' in target ? new LogFile(target.file, openAppend(target.file), zone, hooks) : new LogFile(undefined, target.fd, zone, hooks);
}

class LogFile implements ConnectionLog {
  #fd: number;
  /** Lines appended one by one since the last of `#encoded`, not yet encoded. */
  #queued: string[] = [];
  /** Encoded lines not yet handed to `#chunks`, in order. */
  #encoded: Uint8Array[] = [];
  readonly #chunks: Chunk[] = [];
  /** Bytes of chunks[0] already written. */
  #offset = 0;
  #appendedBytes = 0;
  #writtenBytes = 0;
  readonly #waiters: Waiter[] = [];
  #reopenWanted = false;
  #stalled = false;
  #retryDelay = RETRY_MIN_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Closing: failures no longer wait for a retry; waiters are told their lines were not written. */
  #finishing = false;
  #closed = false;

  constructor(
    /** undefined: stdout or another descriptor that is never reopened. */
    private readonly file: string | undefined,
    fd: number,
    readonly zone: TimeZoneMode,
    private readonly hooks: ConnectionLogHooks,
  ) {
    this.#fd = fd;
  }

  get stalled(): boolean {
    return this.#stalled;
  }

  append(line: string): void {
    this.#queued.push(line);
  }

  appendEncoded(lines: Uint8Array): void {
    this.#encodeQueued();
    this.#encoded.push(lines);
  }

  flush(commit?: number): void {
    this.#queue(commit);
    if (this.#closed || this.#retryTimer !== undefined || this.#chunks.length === 0) return;
    this.#drain();
  }

  afterWritten(done: (written: boolean) => void): void {
    if (this.#appendedBytes <= this.#writtenBytes) {
      done(true);
      return;
    }
    if (this.#closed || (this.#finishing && this.#stalled)) {
      done(false);
      return;
    }
    this.#waiters.push({ upTo: this.#appendedBytes, done });
  }

  unwrittenCommits(): number[] {
    const commits: number[] = [];
    for (const chunk of this.#chunks) if (chunk.commit !== undefined && commits.at(-1) !== chunk.commit) commits.push(chunk.commit);
    return commits;
  }

  reopen(): void {
    if (this.file === undefined || this.#closed) return;
    this.#reopenWanted = true;
    if (this.#retryTimer === undefined) this.#drain();
  }

  prepareTail(): LogTail | undefined {
    if (this.file === undefined) return undefined;
    return cutAndReadTail(this.#fd, this.zone);
  }

  finish(): void {
    this.#finishing = true;
    if (this.#retryTimer !== undefined) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      this.#drain();
    }
    this.#settleWaiters();
  }

  close(): void {
    if (this.#closed) return;
    this.#finishing = true;
    this.#queue(undefined);
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#chunks.length > 0) this.#drain();
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter.done(false);
    if (this.file !== undefined) closeQuietly(this.#fd);
  }

  #encodeQueued(): void {
    if (this.#queued.length === 0) return;
    this.#encoded.push(Buffer.from(`${this.#queued.join('\n')}\n`));
    this.#queued = [];
  }

  #queue(commit: number | undefined): void {
    this.#encodeQueued();
    for (const lines of this.#encoded) {
      this.#chunks.push({ bytes: lines, commit });
      this.#appendedBytes += lines.length;
    }
    this.#encoded = [];
  }

  /** Tries to write everything queued (reopening first if asked); true when nothing is left. */
  #drain(): boolean {
    try {
      if (this.#reopenWanted) this.#switchFile();
      this.#writeChunks();
    } catch (error) {
      this.#fail(error as NodeJS.ErrnoException, this.#reopenWanted ? 'reopen' : 'write');
      return false;
    }
    if (this.#stalled) {
      this.#stalled = false;
      this.#retryDelay = RETRY_MIN_MS;
      this.hooks.resumed?.();
    }
    this.#settleWaiters();
    return true;
  }

  #writeChunks(): void {
    const chunks = this.#chunks;
    while (chunks.length > 0) {
      const chunk = chunks[0]!;
      while (this.#offset < chunk.bytes.length) {
        const wrote = writeSync(this.#fd, chunk.bytes, this.#offset, chunk.bytes.length - this.#offset);
        this.#offset += wrote;
        this.#writtenBytes += wrote;
      }
      chunks.shift();
      this.#offset = 0;
    }
  }

  #switchFile(): void {
    const next = openAppend(this.file!);
    // A line the old file only got part of is cut off there and written whole to the new one.
    const chunk = this.#chunks[0];
    const offset = this.#offset;
    if (chunk && offset > 0) {
      const lineStart = chunk.bytes.lastIndexOf(NEWLINE, offset - 1) + 1;
      if (offset > lineStart) {
        try {
          ftruncateSync(this.#fd, fstatSync(this.#fd).size - (offset - lineStart));
        } catch {
          // The old file keeps the fragment; the new one still gets the whole line.
        }
        this.#writtenBytes -= offset - lineStart;
        this.#offset = lineStart;
      }
    }
    closeQuietly(this.#fd);
    this.#fd = next;
    this.#reopenWanted = false;
    this.hooks.reopened?.();
  }

  #fail(error: NodeJS.ErrnoException, doing: 'write' | 'reopen'): void {
    this.hooks.attemptFailed?.();
    if (!this.#stalled) {
      this.#stalled = true;
      this.hooks.stalled?.(error, doing);
    }
    if (this.#finishing) {
      this.#settleWaiters();
      return;
    }
    this.#retryTimer ??= setTimeout(() => {
      this.#retryTimer = undefined;
      if (!this.#closed) this.#drain();
    }, this.#retryDelay);
    this.#retryDelay = Math.min(this.#retryDelay * 2, RETRY_MAX_MS);
  }

  #settleWaiters(): void {
    const waiters = this.#waiters;
    while (waiters.length > 0 && waiters[0]!.upTo <= this.#writtenBytes) waiters.shift()!.done(true);
    if (this.#finishing && this.#stalled) for (const waiter of waiters.splice(0)) waiter.done(false);
  }
}

function openAppend(file: string): number {
  return openSync(file, 'a+', LOG_FILE_MODE);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing is left to write through it.
  }
}

/**
 * Cuts a partial last line off the file (the end of a write a crash or a full disk interrupted),
 * then reads the complete lines at the end of the file that share the last line's timestamp.
 */
function cutAndReadTail(fd: number, zone: TimeZoneMode): LogTail {
  const size = fstatSync(fd).size;
  let tail = Buffer.alloc(0);
  let start = size;
  // Read backwards until the bytes hold a complete line with another timestamp, or the whole file.
  for (;;) {
    const length = Math.min(start, TAIL_CHUNK_BYTES);
    start -= length;
    const chunk = Buffer.alloc(length);
    readSync(fd, chunk, 0, length, start);
    tail = Buffer.concat([chunk, tail]);
    if (start === 0) break;
    const lines = completeLines(tail, false).filter(isEntryLine);
    if (lines.length > 1 && lines[0]!.slice(0, TIMESTAMP_CHARS) !== lines.at(-1)!.slice(0, TIMESTAMP_CHARS)) break;
  }
  const cutBytes = tail.length - (tail.lastIndexOf(NEWLINE) + 1);
  if (cutBytes > 0) ftruncateSync(fd, size - cutBytes);
  const lines = completeLines(tail, start === 0).filter(isEntryLine);
  const last = lines.at(-1);
  if (last === undefined) return { lastAt: undefined, lastLines: [], cutBytes };
  const stamp = last.slice(0, TIMESTAMP_CHARS);
  return { lastAt: parseTimestamp(last, zone), lastLines: lines.filter((line) => line.slice(0, TIMESTAMP_CHARS) === stamp), cutBytes };
}

/**
 * Lines of commits (Initialized, Created, Deleted). Other lines (bypass tunnel events) are written
 * outside commits, possibly after a durable commit whose lines a crash kept out of the file: their
 * timestamps must not count as logged commits.
 */
function isEntryLine(line: string): boolean {
  const event = line.slice(TIMESTAMP_CHARS + 1, TIMESTAMP_CHARS + 2);
  return event === 'I' || event === 'C' || event === 'D';
}

/** The complete lines in `bytes`; the first counts only when `fromStart` (otherwise it may be cut). */
function completeLines(bytes: Buffer, fromStart: boolean): string[] {
  const end = bytes.lastIndexOf(NEWLINE);
  if (end < 0) return [];
  const lines = bytes.toString('utf8', 0, end).split('\n');
  if (!fromStart) lines.shift();
  return lines.filter((line) => line !== '');
}
