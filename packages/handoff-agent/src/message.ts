// One CREATED or DELETED datagram, built in place and kept for retransmission, and the pool that
// recycles them. A message owns its buffer (a slice of a shared slab) and its batch writer for good;
// the pool hands out the same ones again, so a steady flow of mappings allocates nothing.
import { EntryBatchWriter, HeaderFlag, Size, entriesPerLength, signDatagram, type BatchType, type HandoffEntry } from '@nat64/handoff-codec';
import { writeU32 } from '@nat64/wire';

/** Offsets of Epoch and Cookie in the common header (§5.1). */
const EPOCH_OFFSET = 8;
const COOKIE_OFFSET = 16;
const MESSAGES_PER_SLAB = 32;

/** Epoch and cookie of a peer as 32-bit halves, as they go on the wire. */
export interface Session {
  readonly epochHigh: number;
  readonly epochLow: number;
  readonly cookieHigh: number;
  readonly cookieLow: number;
}

function writeSession(buf: Uint8Array, session: Session, withoutCookie: boolean): void {
  writeU32(buf, EPOCH_OFFSET, session.epochHigh);
  writeU32(buf, EPOCH_OFFSET + 4, session.epochLow);
  writeU32(buf, COOKIE_OFFSET, withoutCookie ? 0 : session.cookieHigh);
  writeU32(buf, COOKIE_OFFSET + 4, withoutCookie ? 0 : session.cookieLow);
}

export class Message {
  /** The finished datagram (a view of `buf`); valid from finish() until the next begin(). */
  bytes: Uint8Array;
  type: BatchType = 3;
  /** Reliable sequence number; 0 for fire-and-forget. */
  sequence = 0;
  reliable = false;
  /** Still taking entries. */
  open = false;
  /** When first sent; -1 before. */
  firstSentAt = -1;
  sentAt = 0;
  /** When the next retransmission is due (Infinity when not sent or acknowledged). */
  deadline = Infinity;
  /**
   * The retransmission timeout this message is on, doubled at each retransmission (§6.3). -0, which is
   * 0 in every use, because V8 then keeps the field as a double from the start: with 0 it was a small
   * integer until the peer's RTO first came out fractional, and that change of representation, at any
   * time in a gateway's life, deoptimized every function that touches a message.
   */
  rto = -0;
  retransmissions = 0;
  acked = false;
  /** The gateway's reference of each entry (mappingCreated's `ref`), handed back with the entries when acknowledged. */
  readonly refs: Float64Array;

  private readonly writer: EntryBatchWriter;

  constructor(
    private readonly buf: Uint8Array,
    maxLength: number,
    private readonly key: Uint8Array | undefined,
  ) {
    this.writer = new EntryBatchWriter({ maxLength, ...(key === undefined ? {} : { key }) });
    this.refs = new Float64Array(entriesPerLength(maxLength, key !== undefined));
    // Epoch and cookie differ per peer; begin() writes them over this placeholder session, which
    // keeps 64-bit bigint arithmetic off the per-datagram path.
    this.writer.setSession(0n, 0n);
    this.bytes = buf.subarray(0, 0);
  }

  /** Entries in the datagram. */
  get count(): number {
    return this.writer.count;
  }

  get full(): boolean {
    return this.writer.full;
  }

  /** Starts a datagram under the peer's epoch and cookie, or Cookie 0 `withoutCookie` (§6.2). */
  begin(type: BatchType, sequence: number, reliable: boolean, session: Session, withoutCookie: boolean): void {
    this.writer.begin(this.buf, 0, type, sequence);
    writeSession(this.buf, session, withoutCookie);
    this.type = type;
    this.sequence = sequence;
    this.reliable = reliable;
    this.open = true;
  }

  /**
   * Appends an entry with this Reason (§5.3: the DELETED reason, else 0) and the gateway's `ref` for it;
   * false when full. Throws RangeError for an entry whose fields do not fit. The reason goes straight
   * into the datagram so that the gateway's entry object is neither copied nor changed.
   */
  append(entry: HandoffEntry, reason: number, ref = -1): boolean {
    if (!this.writer.append(entry)) return false;
    const index = this.writer.count - 1;
    this.buf[this.entryOffset(index) + 1] = reason;
    this.refs[index] = ref;
    return true;
  }

  /** Completes the datagram (length, count, tag); it must hold an entry. */
  finish(): void {
    const end = this.writer.finish();
    // Full datagrams all have one length: their view is made once.
    if (this.bytes.length !== end) this.bytes = this.buf.subarray(0, end);
    this.open = false;
  }

  /** Writes another epoch and cookie into the datagram, signing it again when tagged. */
  rewriteSession(session: Session): void {
    if (this.open) {
      writeSession(this.buf, session, false);
      return;
    }
    const buf = this.buf;
    let length = this.bytes.length;
    if (this.key !== undefined) {
      // Back to the untagged form signDatagram() starts from: Length without the tag, flag A clear.
      length -= Size.TAG;
      buf[2] = length >>> 8;
      buf[3] = length & 0xff;
      buf[4]! &= ~(HeaderFlag.AUTHENTICATED >>> 8);
    }
    writeSession(buf, session, false);
    if (this.key !== undefined) signDatagram(buf, 0, length, this.key);
  }

  /** Offset in `bytes` of entry `index`, to read it back for reports (readEntry). */
  entryOffset(index: number): number {
    return Size.HEADER + Size.BATCH_PREFIX + index * Size.ENTRY;
  }

  reset(): void {
    this.sequence = 0;
    this.open = false;
    this.reliable = false;
    this.firstSentAt = -1;
    this.sentAt = 0;
    this.deadline = Infinity;
    this.rto = 0;
    this.retransmissions = 0;
    this.acked = false;
  }
}

/** Recycles messages. Grows by slabs of 32 datagram buffers and never shrinks. */
export class MessagePool {
  private readonly free: Message[] = [];
  /** Messages ever allocated. */
  allocated = 0;

  constructor(
    private readonly maxLength: number,
    private readonly key: Uint8Array | undefined,
  ) {}

  take(): Message {
    if (this.free.length === 0) this.grow();
    return this.free.pop()!;
  }

  give(message: Message): void {
    message.reset();
    this.free.push(message);
  }

  /** Messages in use. */
  get inUse(): number {
    return this.allocated - this.free.length;
  }

  private grow(): void {
    const slab = new Uint8Array(this.maxLength * MESSAGES_PER_SLAB);
    for (let i = 0; i < MESSAGES_PER_SLAB; i++) {
      this.free.push(new Message(slab.subarray(i * this.maxLength, (i + 1) * this.maxLength), this.maxLength, this.key));
    }
    this.allocated += MESSAGES_PER_SLAB;
  }
}
