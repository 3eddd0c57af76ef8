// The 40-octet entry (§5.3): the codec trio, and readEntry() for the receiver's hot loop, which
// fills a reusable entry instead of allocating one.
import { readU16, readU32, writeU16, writeU32 } from '@nat64/wire';
import { checkTime, checkUint, isExactTime } from './bytes.js';
import { readTime, writeTime } from './bytes.js';
import { Size } from './constants.js';
import { HandoffDecodeError } from './errors.js';
import { ENTRY_FIELDS, fieldStart } from './layout.js';
import { codecOf, type Part } from './part.js';
import type { Codec, HandoffEntry } from './types.js';

const TIME_OFFSET = 32;

/**
 * A zeroed entry with its own 16-byte client address, to pass to readEntry() again and again. The two
 * IPv4 addresses and the time start as -0, a double: most values they take (addresses from 128.0.0.0,
 * every time) are no small integers, and a field that V8 first saw as one changes representation at
 * the first such value, which deoptimizes the code that reads entries whenever it comes.
 */
export function createEntry(): HandoffEntry {
  return {
    protocol: 0,
    reason: 0,
    natAddress: -0,
    natPort: 0,
    clientAddress: new Uint8Array(16),
    clientPort: 0,
    serverAddress: -0,
    serverPort: 0,
    time: -0,
  };
}

/**
 * Fills `out` from the entry at `offset` without allocating: the client address is copied into
 * out.clientAddress, which must hold 16 bytes. Use offsets from a DatagramView that inspectDatagram()
 * accepted. Returns false when the time is 2^53 µs or later (§5.3), which a JS number cannot hold
 * exactly: the receiver drops that entry alone (counted) and out.time is then approximate.
 * Throws RangeError only for an offset outside `buf`, a programming error.
 */
export function readEntry(buf: Uint8Array, offset: number, out: HandoffEntry): boolean {
  if (!(offset >= 0 && offset + Size.ENTRY <= buf.length)) {
    throw new RangeError(`entry at offset ${offset} is outside a buffer of ${buf.length}`);
  }
  out.protocol = buf[offset]!;
  out.reason = buf[offset + 1]!;
  out.natPort = readU16(buf, offset + 2);
  out.natAddress = readU32(buf, offset + 4);
  const client = out.clientAddress;
  for (let i = 0; i < 16; i++) client[i] = buf[offset + 8 + i]!;
  out.clientPort = readU16(buf, offset + 24);
  out.serverPort = readU16(buf, offset + 26);
  out.serverAddress = readU32(buf, offset + 28);
  out.time = readTime(buf, offset + TIME_OFFSET);
  return isExactTime(buf, offset + TIME_OFFSET);
}

export function checkEntry(value: HandoffEntry, name = 'entry'): void {
  // Senders check every entry they write: decide validity without building the messages, and
  // only walk the fields with their names once something is wrong.
  if (isValidEntry(value)) return;
  checkUint(value.protocol, 0xff, `${name}.protocol`);
  checkUint(value.reason, 0xff, `${name}.reason`);
  checkUint(value.natAddress, 0xffff_ffff, `${name}.natAddress`);
  checkUint(value.natPort, 0xffff, `${name}.natPort`);
  if (!(value.clientAddress instanceof Uint8Array) || value.clientAddress.length !== 16) {
    throw new RangeError(`${name}.clientAddress must be a Uint8Array of 16 bytes`);
  }
  checkUint(value.clientPort, 0xffff, `${name}.clientPort`);
  checkUint(value.serverAddress, 0xffff_ffff, `${name}.serverAddress`);
  checkUint(value.serverPort, 0xffff, `${name}.serverPort`);
  checkTime(value.time, `${name}.time`);
}

function isUint(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max;
}

function isValidEntry(value: HandoffEntry): boolean {
  return (
    isUint(value.protocol, 0xff) &&
    isUint(value.reason, 0xff) &&
    isUint(value.natAddress, 0xffff_ffff) &&
    isUint(value.natPort, 0xffff) &&
    value.clientAddress instanceof Uint8Array &&
    value.clientAddress.length === 16 &&
    isUint(value.clientPort, 0xffff) &&
    isUint(value.serverAddress, 0xffff_ffff) &&
    isUint(value.serverPort, 0xffff) &&
    Number.isSafeInteger(value.time) &&
    value.time >= 0
  );
}

/** Writes an entry already checked by checkEntry(). */
export function writeEntry(buf: Uint8Array, offset: number, value: HandoffEntry): number {
  buf[offset] = value.protocol;
  buf[offset + 1] = value.reason;
  writeU16(buf, offset + 2, value.natPort);
  writeU32(buf, offset + 4, value.natAddress);
  // A loop, not buf.set(): for 16 bytes the builtin's call and checks cost more than the copy.
  const client = value.clientAddress;
  for (let i = 0; i < 16; i++) buf[offset + 8 + i] = client[i]!;
  writeU16(buf, offset + 24, value.clientPort);
  writeU16(buf, offset + 26, value.serverPort);
  writeU32(buf, offset + 28, value.serverAddress);
  writeTime(buf, offset + TIME_OFFSET, value.time);
  return offset + Size.ENTRY;
}

/** Decodes the entry at `offset` into a new object, naming it `structure` in errors. */
export function decodeEntryAt(buf: Uint8Array, offset: number, available: number, structure: string): HandoffEntry {
  if (available < Size.ENTRY) {
    throw new HandoffDecodeError('TRUNCATED', offset + fieldStart(ENTRY_FIELDS, available), structure, 'truncated');
  }
  const value = createEntry();
  if (!readEntry(buf, offset, value)) {
    throw new HandoffDecodeError('TIME_RANGE', offset + TIME_OFFSET, structure, 'time beyond 2^53 microseconds');
  }
  return value;
}

const entryPart: Part<HandoffEntry> = { length: () => Size.ENTRY, check: checkEntry, write: writeEntry, read: decodeEntryAt };

export const entry: Codec<HandoffEntry> = codecOf(entryPart, 'entry', 'entry');
