// The sender's way to fill CREATED, DELETED and RELEASE datagrams: entries go straight into a
// caller-owned buffer until the next one would pass the size limit, then finish() writes count and
// Length and, with a key, the tag. No intermediate objects; the epoch and cookie are encoded once
// per session into a template that begin() copies.
import { copyBytes, writeU16, writeU32, writeU64 } from '@nat64/wire';
import { checkRoom, checkU64, checkUint } from './bytes.js';
import { HANDOFF_VERSION, MessageType, Size } from './constants.js';
import { signDatagram, type AuthKey } from './auth.js';
import { checkEntry, writeEntry } from './entry.js';
import { entriesPerLength } from './mtu.js';
import type { BatchType, HandoffEntry } from './types.js';

export interface EntryBatchWriterOptions {
  /** Largest datagram to build, tag included: maxDatagramLength(path MTU). */
  maxLength: number;
  /** Tag every datagram with this key (§5.10). */
  key?: AuthKey;
}

/**
 * Builds batch datagrams in place. Usage per datagram:
 *   writer.begin(buf, offset, MessageType.CREATED, sequence);
 *   while (more && writer.append(next)) ...;   // false: full, `next` was not written
 *   const end = writer.finish();               // datagram is buf[offset, end)
 * setSession() must have been called once for the epoch (and again when the cookie changes).
 * The datagram belongs to the caller from finish() on, e.g. to keep for retransmission.
 */
export class EntryBatchWriter {
  private readonly key: AuthKey | undefined;
  private readonly maxEntries: number;
  private readonly session = new Uint8Array(16);
  private hasSession = false;
  private buf: Uint8Array | null = null;
  private offset = 0;
  private limit = 0;
  private entries = 0;

  constructor(options: EntryBatchWriterOptions) {
    this.key = options.key;
    this.maxEntries = entriesPerLength(options.maxLength, options.key !== undefined);
    if (this.maxEntries < 1) throw new RangeError(`maxLength ${options.maxLength} holds no entry`);
  }

  /** Epoch and cookie for every following datagram (cookie 0 before HELLO-ACK taught one, §6.2). */
  setSession(epoch: bigint, cookie: bigint): void {
    checkU64(epoch, 'epoch');
    checkU64(cookie, 'cookie');
    writeU64(this.session, 0, epoch);
    writeU64(this.session, 8, cookie);
    this.hasSession = true;
  }

  /** Starts a datagram at `offset` in `buf` with this reliable sequence number. */
  begin(buf: Uint8Array, offset: number, type: BatchType, sequence: number): void {
    if (!this.hasSession) throw new Error('setSession() must come before begin()');
    if (type !== MessageType.CREATED && type !== MessageType.DELETED && type !== MessageType.RELEASE) {
      throw new RangeError(`type must be CREATED, DELETED or RELEASE, got ${String(type)}`);
    }
    checkUint(sequence, 0xffff_ffff, 'sequence');
    const tag = this.key === undefined ? 0 : Size.TAG;
    checkRoom(buf, offset, Size.HEADER + Size.BATCH_PREFIX + Size.ENTRY + tag, 'batch datagram');
    this.limit = Math.min(this.maxEntries, entriesPerLength(buf.length - offset, this.key !== undefined));
    this.buf = buf;
    this.offset = offset;
    this.entries = 0;
    buf[offset] = HANDOFF_VERSION;
    buf[offset + 1] = type;
    writeU32(buf, offset + 2, 0); // Length (written by finish) and Flags
    writeU16(buf, offset + 6, 0);
    // 16 bytes: copied by hand, not through Uint8Array.set, a builtin call per datagram.
    copyBytes(this.session, 0, 16, buf, offset + 8);
    writeU32(buf, offset + 24, sequence);
    writeU32(buf, offset + Size.HEADER, 0); // Count (written by finish) and Reserved
  }

  /** Appends an entry, or returns false without writing when the datagram is full. Throws
   * RangeError for an entry whose fields do not fit (nothing is appended then). */
  append(value: HandoffEntry): boolean {
    const buf = this.buffer();
    if (this.entries === this.limit) return false;
    checkEntry(value);
    writeEntry(buf, this.offset + Size.HEADER + Size.BATCH_PREFIX + this.entries * Size.ENTRY, value);
    this.entries++;
    return true;
  }

  /** Entries appended to the current datagram. */
  get count(): number {
    return this.entries;
  }

  /** True when the next append() would return false. */
  get full(): boolean {
    return this.entries === this.limit;
  }

  /** Completes the datagram (at least one entry) and returns the offset after it. */
  finish(): number {
    const buf = this.buffer();
    if (this.entries === 0) throw new Error('a batch datagram needs at least one entry');
    const length = Size.HEADER + Size.BATCH_PREFIX + this.entries * Size.ENTRY;
    writeU16(buf, this.offset + 2, length);
    writeU16(buf, this.offset + Size.HEADER, this.entries);
    this.buf = null;
    return this.key === undefined ? this.offset + length : signDatagram(buf, this.offset, length, this.key);
  }

  private buffer(): Uint8Array {
    if (this.buf === null) throw new Error('begin() must come before append() and finish()');
    return this.buf;
  }
}
