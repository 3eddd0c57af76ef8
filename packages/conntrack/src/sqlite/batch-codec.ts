// The binary form of one commit: its events and side records in one byte range. The table's thread
// encodes a batch once, into an ArrayBuffer that is transferred to the writer thread (no structured
// clone of thousands of objects), and SqliteStore writes from the same bytes. Both ends are threads
// of one process, but the layout is fixed little-endian anyway so that it can be written down:
//
//   batch  = eventCount u32 | sideCount u32 | event * eventCount | side * sideCount
//   event  (48 bytes, so times stay 8-aligned after the 8-byte header)
//     +0  at f64             receiver time of the event, µs
//     +8  createdAt f64      gateway's creation time, µs
//     +16 natAddress u32     +20 serverAddress u32
//     +24 natPort u16        +26 clientPort u16      +28 serverPort u16
//     +30 protocol u8        +31 kind u8: 0 created, 1 + index in DELETE_REASONS for deleted
//     +32 clientAddress, 16 bytes
//   side   = nameLength u32 | name UTF-8 | valueLength u32 (0xffffffff: null, a deletion) | value
//
// Times are whole µs below 2^53, which a float64 holds exactly.
import { DELETE_REASONS } from '../constants.js';
import { checkEntry } from '../entry.js';
import { StoreError } from '../errors.js';
import type { EventRecords } from '../event-records.js';
import type { ConnEntry, ConnEvent, DeleteReason, SideRecord } from '../types.js';

export interface CommitBatch {
  events: readonly ConnEvent[];
  side: readonly SideRecord[];
}

/** Offsets of the layout above, for readers that bind straight from the bytes. */
export const BatchLayout = {
  headerBytes: 8,
  eventBytes: 48,
  at: 0,
  createdAt: 8,
  natAddress: 16,
  serverAddress: 20,
  natPort: 24,
  clientPort: 26,
  serverPort: 28,
  protocol: 30,
  kind: 31,
  clientAddress: 32,
  /** valueLength of a side record that deletes. */
  nullValue: 0xffff_ffff,
} as const;

/** `kind` of a created event; a deleted event has 1 + the index of its reason. */
export const CREATED_KIND = 0;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodingLength(batch: CommitBatch): number {
  let length = BatchLayout.headerBytes + batch.events.length * BatchLayout.eventBytes;
  for (const [name, value] of batch.side) length += 8 + Buffer.byteLength(name, 'utf8') + (value === null ? 0 : value.length);
  return length;
}

/**
 * Writes `batch` at `offset` and returns the offset after it. Checks every event first-hand (the
 * bytes would silently wrap an out-of-range number): StoreError `invalid-argument` naming the
 * event, with the buffer then holding part of the batch. RangeError when the buffer has no room.
 */
export function encode(batch: CommitBatch, buf: Uint8Array, offset = 0): number {
  const { events, side } = batch;
  const end = offset + encodingLength(batch);
  if (!(offset >= 0 && end <= buf.length)) throw new RangeError(`commit batch needs ${end - offset} bytes at offset ${offset} of ${buf.length}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(offset, events.length, true);
  view.setUint32(offset + 4, side.length, true);
  let o = offset + BatchLayout.headerBytes;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    writeEvent(view, buf, o, event.entry, event.at, eventKind(event), i);
    o += BatchLayout.eventBytes;
  }
  return encodeSide(side, view, buf, o, end);
}

/**
 * encode() of a batch whose events are already records (event-records.ts): their bytes are copied
 * as they are, so they must hold valid events (ConnTable writes only such).
 */
export function encodeRecords(events: EventRecords, side: readonly SideRecord[], buf: Uint8Array, offset = 0): number {
  const end = offset + recordsEncodingLength(events, side);
  if (!(offset >= 0 && end <= buf.length)) throw new RangeError(`commit batch needs ${end - offset} bytes at offset ${offset} of ${buf.length}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(offset, events.length, true);
  view.setUint32(offset + 4, side.length, true);
  const o = offset + BatchLayout.headerBytes;
  buf.set(events.bytes.subarray(0, events.byteLength), o);
  return encodeSide(side, view, buf, o + events.byteLength, end);
}

export function recordsEncodingLength(events: EventRecords, side: readonly SideRecord[]): number {
  return encodingLength({ events: [], side }) + events.byteLength;
}

function encodeSide(side: readonly SideRecord[], view: DataView, buf: Uint8Array, o: number, end: number): number {
  for (const [name, value] of side) {
    const nameLength = encoder.encodeInto(name, buf.subarray(o + 4, end)).written;
    view.setUint32(o, nameLength, true);
    o += 4 + nameLength;
    if (value === null) {
      view.setUint32(o, BatchLayout.nullValue, true);
      o += 4;
    } else {
      view.setUint32(o, value.length, true);
      buf.set(value, o + 4);
      o += 4 + value.length;
    }
  }
  return o;
}

/** Reads the batch at `offset`; StoreError `corrupt` naming the offset when the bytes do not hold one. */
export function decode(buf: Uint8Array, offset = 0): CommitBatch {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  need(buf, offset, BatchLayout.headerBytes, 'header');
  const eventCount = view.getUint32(offset, true);
  const sideCount = view.getUint32(offset + 4, true);
  let o = offset + BatchLayout.headerBytes;
  need(buf, o, eventCount * BatchLayout.eventBytes, 'events');
  const events: ConnEvent[] = [];
  for (let i = 0; i < eventCount; i++, o += BatchLayout.eventBytes) {
    const event = readEvent(view, buf, o);
    if (event === undefined) throw malformed(o + BatchLayout.kind, `unknown event kind ${buf[o + BatchLayout.kind]}`);
    events.push(event);
  }
  const side: SideRecord[] = [];
  for (let i = 0; i < sideCount; i++) {
    need(buf, o, 4, 'side record name length');
    const nameLength = view.getUint32(o, true);
    need(buf, o + 4, nameLength + 4, 'side record');
    const name = decodeName(buf, o + 4, nameLength);
    o += 4 + nameLength;
    const valueLength = view.getUint32(o, true);
    o += 4;
    if (valueLength === BatchLayout.nullValue) {
      side.push([name, null]);
    } else {
      need(buf, o, valueLength, 'side record value');
      side.push([name, buf.slice(o, o + valueLength)]);
      o += valueLength;
    }
  }
  return { events, side };
}

/** The entry of the event at `o` (the event's first byte), with its own copy of the client address. */
export function readEventEntry(view: DataView, buf: Uint8Array, o: number): ConnEntry {
  return {
    protocol: buf[o + BatchLayout.protocol]!,
    natAddress: view.getUint32(o + BatchLayout.natAddress, true),
    natPort: view.getUint16(o + BatchLayout.natPort, true),
    clientAddress: buf.slice(o + BatchLayout.clientAddress, o + BatchLayout.eventBytes),
    clientPort: view.getUint16(o + BatchLayout.clientPort, true),
    serverAddress: view.getUint32(o + BatchLayout.serverAddress, true),
    serverPort: view.getUint16(o + BatchLayout.serverPort, true),
    createdAt: view.getFloat64(o + BatchLayout.createdAt, true),
  };
}

/** The `kind` byte of an event, or -1 for a delete reason this package does not know. */
/** The event at `o` as an object; undefined when its kind byte names no kind. */
export function readEvent(view: DataView, buf: Uint8Array, o: number): ConnEvent | undefined {
  const entry = readEventEntry(view, buf, o);
  const at = view.getFloat64(o + BatchLayout.at, true);
  const kind = buf[o + BatchLayout.kind]!;
  if (kind === CREATED_KIND) return { kind: 'created', entry, at };
  const reason = deleteReasonOf(kind);
  return reason === undefined ? undefined : { kind: 'deleted', entry, at, reason };
}

/** The delete reason a `kind` byte names; undefined for CREATED_KIND and for bytes that name none. */
export function deleteReasonOf(kind: number): DeleteReason | undefined {
  return DELETE_REASONS[kind - 1];
}

/** `kind` byte of a delete for `reason`; -1 for a reason the layout does not know. */
export function deleteKind(reason: DeleteReason): number {
  const index = DELETE_REASONS.indexOf(reason);
  return index < 0 ? -1 : 1 + index;
}

export function eventKind(event: ConnEvent): number {
  return event.kind === 'created' ? CREATED_KIND : deleteKind(event.reason);
}

/** Writes one event at `o`; `index` names it in the error for an invalid entry. */
export function writeEvent(view: DataView, buf: Uint8Array, o: number, entry: ConnEntry, at: number, kind: number, index: number): void {
  const problem = checkEntry(entry);
  if (problem !== undefined) throw new StoreError('invalid-argument', `event ${index}: invalid entry (${problem})`);
  if (!Number.isSafeInteger(at) || at < 0) throw new StoreError('invalid-argument', `event ${index}: time must be a whole number of µs`);
  if (kind < 0 || kind > DELETE_REASONS.length) throw new StoreError('invalid-argument', `event ${index}: unknown kind or delete reason`);
  writeEventFields(view, buf, o, entry, entry.createdAt, at, kind);
}

/** Writes one event's bytes at `o`, unchecked: the caller has validated the entry, the time and the kind. */
export function writeEventFields(
  view: DataView,
  buf: Uint8Array,
  o: number,
  entry: Omit<ConnEntry, 'createdAt'>,
  createdAt: number,
  at: number,
  kind: number,
): void {
  view.setFloat64(o + BatchLayout.at, at, true);
  view.setFloat64(o + BatchLayout.createdAt, createdAt, true);
  view.setUint32(o + BatchLayout.natAddress, entry.natAddress, true);
  view.setUint32(o + BatchLayout.serverAddress, entry.serverAddress, true);
  view.setUint16(o + BatchLayout.natPort, entry.natPort, true);
  view.setUint16(o + BatchLayout.clientPort, entry.clientPort, true);
  view.setUint16(o + BatchLayout.serverPort, entry.serverPort, true);
  buf[o + BatchLayout.protocol] = entry.protocol;
  buf[o + BatchLayout.kind] = kind;
  const client = entry.clientAddress;
  const start = o + BatchLayout.clientAddress;
  for (let i = 0; i < 16; i++) buf[start + i] = client[i]!;
}

function decodeName(buf: Uint8Array, offset: number, length: number): string {
  try {
    return decoder.decode(buf.subarray(offset, offset + length));
  } catch {
    throw malformed(offset, 'side record name is not UTF-8');
  }
}

function need(buf: Uint8Array, offset: number, bytes: number, what: string): void {
  if (offset + bytes > buf.length) throw malformed(offset, `${what} truncated`);
}

function malformed(offset: number, why: string): StoreError {
  return new StoreError('corrupt', `Cannot decode commit batch at offset ${offset} (${why})`);
}
