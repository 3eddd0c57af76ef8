// Table changes as fixed-size records in the commit batch's event layout (batch-codec.ts), one
// growable buffer reused from commit to commit: the receiver reads a datagram's entries into
// records, the table applies them and writes its events as records, the store copies those bytes
// into its batch and the connection log writes its lines from them. No object per entry on the way.
import { checkFields, type EntryProblem } from './entry.js';
import { BatchLayout, CREATED_KIND, deleteKind, eventKind, readEvent, readEventEntry, writeEventFields } from './sqlite/batch-codec.js';
import type { ConnEntry, ConnEvent, ConnOperation } from './types.js';

const RECORD_BYTES = BatchLayout.eventBytes;
const RECORD_WORDS = RECORD_BYTES / 4;

/** The wire codec's entry or a ConnEntry, without its creation time. */
export type EntryFields = Omit<ConnEntry, 'createdAt'>;

export class EventRecords {
  /** The records, `length` of them from offset 0, RECORD_BYTES each; replaced when it grows. */
  bytes: Uint8Array;
  view: DataView;
  /** The same bytes as 32-bit words, for copying whole records (byte order does not matter there). */
  private words: Uint32Array;
  length = 0;

  constructor(records = 256) {
    this.bytes = new Uint8Array(Math.max(1, records) * RECORD_BYTES);
    this.view = new DataView(this.bytes.buffer);
    this.words = new Uint32Array(this.bytes.buffer);
  }

  /** Bytes the records take, from offset 0. */
  get byteLength(): number {
    return this.length * RECORD_BYTES;
  }

  clear(): void {
    this.length = 0;
  }

  /**
   * Appends `entry` created at `createdAt` with `kind` and time `at`, when every field is valid
   * (checkEntry); otherwise appends nothing and returns the first invalid field.
   */
  appendEntry(entry: EntryFields, createdAt: number, kind: number, at = 0): EntryProblem | undefined {
    const problem = checkFields(entry, createdAt);
    if (problem !== undefined) return problem;
    // reserve() first: it may replace the buffer and its view.
    const o = this.reserve();
    writeEventFields(this.view, this.bytes, o, entry, createdAt, at, kind);
    return undefined;
  }

  appendOperation(operation: ConnOperation): EntryProblem | undefined {
    const kind = operation.op === 'create' ? CREATED_KIND : deleteKind(operation.reason);
    return this.appendEntry(operation.entry, operation.entry.createdAt, kind);
  }

  appendEvent(event: ConnEvent): EntryProblem | undefined {
    return this.appendEntry(event.entry, event.entry.createdAt, eventKind(event), event.at);
  }

  /** Appends a copy of record `index` of `from` with the time `at`. */
  appendCopy(from: EventRecords, index: number, at: number): void {
    const o = this.reserve();
    const words = this.words;
    const source = from.words;
    const start = index * RECORD_WORDS;
    const into = o / 4;
    for (let i = 0; i < RECORD_WORDS; i++) words[into + i] = source[start + i]!;
    this.view.setFloat64(o + BatchLayout.at, at, true);
  }

  /** Room for one more record at the end; returns its offset. */
  reserve(): number {
    const o = this.length * RECORD_BYTES;
    if (o + RECORD_BYTES > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes.subarray(0, o));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
      this.words = new Uint32Array(grown.buffer);
    }
    this.length++;
    return o;
  }

  kind(index: number): number {
    return this.bytes[index * RECORD_BYTES + BatchLayout.kind]!;
  }

  protocol(index: number): number {
    return this.bytes[index * RECORD_BYTES + BatchLayout.protocol]!;
  }

  natAddress(index: number): number {
    return this.view.getUint32(index * RECORD_BYTES + BatchLayout.natAddress, true);
  }

  natPort(index: number): number {
    return this.view.getUint16(index * RECORD_BYTES + BatchLayout.natPort, true);
  }

  clientPort(index: number): number {
    return this.view.getUint16(index * RECORD_BYTES + BatchLayout.clientPort, true);
  }

  serverPort(index: number): number {
    return this.view.getUint16(index * RECORD_BYTES + BatchLayout.serverPort, true);
  }

  createdAt(index: number): number {
    return this.view.getFloat64(index * RECORD_BYTES + BatchLayout.createdAt, true);
  }

  /** Offset of record `index`'s client address in `bytes`. */
  clientAddressOffset(index: number): number {
    return index * RECORD_BYTES + BatchLayout.clientAddress;
  }

  /** Record `index` as an entry object of its own. */
  entry(index: number): ConnEntry {
    return readEventEntry(this.view, this.bytes, index * RECORD_BYTES);
  }

  /** The records as event objects (for stores that take those). */
  toEvents(): ConnEvent[] {
    const events: ConnEvent[] = [];
    for (let i = 0; i < this.length; i++) events.push(readEvent(this.view, this.bytes, i * RECORD_BYTES)!);
    return events;
  }
}
