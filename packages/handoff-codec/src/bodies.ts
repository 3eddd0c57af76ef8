// The message bodies that follow the common header (§5.4 to §5.9). Each has a check (throws
// RangeError for values that do not fit), a writer, and a reader that names what it reads after
// the message type, so that errors say "Cannot decode CREATED entry 3 (...)". The public codecs at
// the bottom wrap them in the codec trio.
import { readU16, readU32, writeU16, writeU32 } from '@nat64/wire';
import { checkUint, zero } from './bytes.js';
import { AnswerStatus, MAX_ACK_BLOCKS, Size } from './constants.js';
import { checkEntry, decodeEntryAt, writeEntry } from './entry.js';
import { HandoffDecodeError } from './errors.js';
import { codecOf, type Part } from './part.js';
import { ACK_BLOCK_FIELDS, ACK_PREFIX_FIELDS, ANSWER_PREFIX_FIELDS, BATCH_PREFIX_FIELDS, ENTRY_FIELDS } from './layout.js';
import { CLIENT_QUERY_FIELDS, HELLO_ACK_FIELDS, HELLO_FIELDS, QUERY_FIELDS, fieldStart } from './layout.js';
import type { AckBlock, AckBody, AnswerBody, BatchBody, HandoffEntry } from './types.js';
import type { ClientQueryBody, HelloAckBody, HelloBody, QueryBody } from './types.js';

function truncated(offset: number, starts: readonly number[], available: number, structure: string): HandoffDecodeError {
  return new HandoffDecodeError('TRUNCATED', offset + fieldStart(starts, available), structure, 'truncated');
}

// A HELLO body is already as large as a HELLO-ACK body, so HELLO needs no padding in v1 (§5.4).
export const helloOps: Part<HelloBody> = {
  length: () => Size.HELLO_BODY,
  check(value) {
    checkUint(value.natAddress, 0xffff_ffff, 'natAddress');
    checkUint(value.capabilities, 0xffff, 'capabilities');
  },
  write(buf, offset, value) {
    writeU32(buf, offset, value.natAddress);
    writeU16(buf, offset + 4, value.capabilities);
    writeU16(buf, offset + 6, 0);
    return offset + Size.HELLO_BODY;
  },
  read(buf, offset, available, name) {
    if (available < Size.HELLO_BODY) throw truncated(offset, HELLO_FIELDS, available, `${name} body`);
    return { natAddress: readU32(buf, offset), capabilities: readU16(buf, offset + 4) };
  },
};

export const helloAckOps: Part<HelloAckBody> = {
  length: () => Size.HELLO_ACK_BODY,
  check(value) {
    checkUint(value.receiverFlags, 0xffff, 'receiverFlags');
    checkUint(value.capabilities, 0xffff, 'capabilities');
    checkUint(value.window, 0xffff, 'window');
  },
  write(buf, offset, value) {
    writeU16(buf, offset, value.receiverFlags);
    writeU16(buf, offset + 2, value.capabilities);
    writeU16(buf, offset + 4, value.window);
    writeU16(buf, offset + 6, 0);
    return offset + Size.HELLO_ACK_BODY;
  },
  read(buf, offset, available, name) {
    if (available < Size.HELLO_ACK_BODY) throw truncated(offset, HELLO_ACK_FIELDS, available, `${name} body`);
    return {
      receiverFlags: readU16(buf, offset),
      capabilities: readU16(buf, offset + 2),
      window: readU16(buf, offset + 4),
    };
  },
};

export const batchOps: Part<BatchBody> = {
  length: (value) => Size.BATCH_PREFIX + value.entries.length * Size.ENTRY,
  check(value) {
    const count = value.entries.length;
    if (count < 1 || count > 0xffff) throw new RangeError(`entries must hold 1 to 65535 entries, got ${count}`);
    for (let i = 0; i < count; i++) checkEntry(value.entries[i]!, `entries[${i}]`);
  },
  write(buf, offset, value) {
    writeU16(buf, offset, value.entries.length);
    writeU16(buf, offset + 2, 0);
    let at = offset + Size.BATCH_PREFIX;
    for (const item of value.entries) at = writeEntry(buf, at, item);
    return at;
  },
  read(buf, offset, available, name) {
    if (available < Size.BATCH_PREFIX) throw truncated(offset, BATCH_PREFIX_FIELDS, available, `${name} body`);
    const count = readU16(buf, offset);
    if (count === 0) throw new HandoffDecodeError('BAD_COUNT', offset, `${name} body`, 'no entries');
    const entries: HandoffEntry[] = [];
    for (let i = 0; i < count; i++) {
      const at = Size.BATCH_PREFIX + i * Size.ENTRY;
      entries.push(decodeEntryAt(buf, offset + at, available - at, `${name} entry ${i}`));
    }
    return { entries };
  },
};

export const ackOps: Part<AckBody> = {
  length: (value) => Size.ACK_PREFIX + value.blocks.length * Size.ACK_BLOCK,
  check(value) {
    checkUint(value.cumulative, 0xffff_ffff, 'cumulative');
    if (value.blocks.length > MAX_ACK_BLOCKS) {
      throw new RangeError(`blocks must hold at most ${MAX_ACK_BLOCKS} blocks, got ${value.blocks.length}`);
    }
    value.blocks.forEach((block, i) => {
      checkUint(block.start, 0xffff_ffff, `blocks[${i}].start`);
      checkUint(block.end, 0xffff_ffff, `blocks[${i}].end`);
    });
  },
  write(buf, offset, value) {
    writeU32(buf, offset, value.cumulative);
    buf[offset + 4] = value.blocks.length;
    zero(buf, offset + 5, offset + Size.ACK_PREFIX);
    let at = offset + Size.ACK_PREFIX;
    for (const block of value.blocks) {
      writeU32(buf, at, block.start);
      writeU32(buf, at + 4, block.end);
      at += Size.ACK_BLOCK;
    }
    return at;
  },
  read(buf, offset, available, name) {
    if (available < Size.ACK_PREFIX) throw truncated(offset, ACK_PREFIX_FIELDS, available, `${name} body`);
    const count = buf[offset + 4]!;
    if (count > MAX_ACK_BLOCKS) {
      throw new HandoffDecodeError('TOO_MANY_BLOCKS', offset + 4, `${name} body`, `${count} blocks, at most ${MAX_ACK_BLOCKS}`);
    }
    const blocks: AckBlock[] = [];
    for (let i = 0; i < count; i++) {
      const at = Size.ACK_PREFIX + i * Size.ACK_BLOCK;
      if (available - at < Size.ACK_BLOCK) throw truncated(offset + at, ACK_BLOCK_FIELDS, available - at, `${name} block ${i}`);
      blocks.push({ start: readU32(buf, offset + at), end: readU32(buf, offset + at + 4) });
    }
    return { cumulative: readU32(buf, offset), blocks };
  },
};

// QUERY and CLIENT-QUERY start alike (§5.8, §5.12): Protocol, a reserved octet, the port the question
// is asked by (NAT or client), the NAT address and the server address; CLIENT-QUERY then holds the
// client address; both end with the server port and are padded to an ANSWER.
type QueryPrefix = Pick<QueryBody, 'protocol' | 'natAddress' | 'serverAddress' | 'serverPort'>;

function checkQueryPrefix(value: QueryPrefix, port: number, portName: string): void {
  checkUint(value.protocol, 0xff, 'protocol');
  checkUint(port, 0xffff, portName);
  checkUint(value.natAddress, 0xffff_ffff, 'natAddress');
  checkUint(value.serverAddress, 0xffff_ffff, 'serverAddress');
  checkUint(value.serverPort, 0xffff, 'serverPort');
}

/** Writes a query body of `bodyLength` octets asked by `port` and, for a CLIENT-QUERY, `clientAddress`; returns the offset after it. */
function writeQuery(buf: Uint8Array, offset: number, value: QueryPrefix, port: number, clientAddress: Uint8Array | null, bodyLength: number): number {
  buf[offset] = value.protocol;
  buf[offset + 1] = 0;
  writeU16(buf, offset + 2, port);
  writeU32(buf, offset + 4, value.natAddress);
  writeU32(buf, offset + 8, value.serverAddress);
  let at = offset + 12;
  if (clientAddress !== null) {
    buf.set(clientAddress, at);
    at += 16;
  }
  writeU16(buf, at, value.serverPort);
  zero(buf, at + 2, offset + bodyLength);
  return offset + bodyLength;
}

/** Throws unless `available` octets hold the fields and the padding of a query body. */
function checkQueryRoom(offset: number, available: number, name: string, fields: readonly number[], fieldsLength: number, bodyLength: number): void {
  if (available < fieldsLength) throw truncated(offset, fields, available, `${name} body`);
  if (available < bodyLength) {
    throw new HandoffDecodeError('UNDERSIZED', offset + fieldsLength, `${name} padding`, 'shorter than an ANSWER');
  }
}

/** The fields both query bodies hold at the same offsets; the asking port, at 2, is named by each. */
function readQueryAddresses(buf: Uint8Array, offset: number): Pick<QueryBody, 'protocol' | 'natAddress' | 'serverAddress'> {
  return { protocol: buf[offset]!, natAddress: readU32(buf, offset + 4), serverAddress: readU32(buf, offset + 8) };
}

export const queryOps: Part<QueryBody> = {
  length: () => Size.QUERY_BODY,
  check(value) {
    checkQueryPrefix(value, value.natPort, 'natPort');
  },
  write: (buf, offset, value) => writeQuery(buf, offset, value, value.natPort, null, Size.QUERY_BODY),
  read(buf, offset, available, name) {
    checkQueryRoom(offset, available, name, QUERY_FIELDS, Size.QUERY_FIELDS, Size.QUERY_BODY);
    return { ...readQueryAddresses(buf, offset), natPort: readU16(buf, offset + 2), serverPort: readU16(buf, offset + 12) };
  },
};

export const clientQueryOps: Part<ClientQueryBody> = {
  length: () => Size.CLIENT_QUERY_BODY,
  check(value) {
    checkQueryPrefix(value, value.clientPort, 'clientPort');
    if (!(value.clientAddress instanceof Uint8Array) || value.clientAddress.length !== 16) {
      throw new RangeError('clientAddress must be a Uint8Array of 16 bytes');
    }
  },
  write: (buf, offset, value) => writeQuery(buf, offset, value, value.clientPort, value.clientAddress, Size.CLIENT_QUERY_BODY),
  read(buf, offset, available, name) {
    checkQueryRoom(offset, available, name, CLIENT_QUERY_FIELDS, Size.CLIENT_QUERY_FIELDS, Size.CLIENT_QUERY_BODY);
    return {
      ...readQueryAddresses(buf, offset),
      clientPort: readU16(buf, offset + 2),
      // A copy even when buf is a Buffer, whose slice() is a view.
      clientAddress: Uint8Array.prototype.slice.call(buf, offset + 12, offset + 28),
      serverPort: readU16(buf, offset + 28),
    };
  },
};

export const answerOps: Part<AnswerBody> = {
  length: () => Size.ANSWER_BODY,
  check(value) {
    checkUint(value.status, 0xff, 'status');
    if ((value.status === AnswerStatus.FOUND) !== (value.entry !== null)) {
      throw new RangeError('entry must be given exactly when status is FOUND');
    }
    if (value.entry !== null) checkEntry(value.entry);
  },
  write(buf, offset, value) {
    buf[offset] = value.status;
    zero(buf, offset + 1, offset + Size.ANSWER_PREFIX);
    const at = offset + Size.ANSWER_PREFIX;
    if (value.entry === null) zero(buf, at, at + Size.ENTRY);
    else writeEntry(buf, at, value.entry);
    return offset + Size.ANSWER_BODY;
  },
  read(buf, offset, available, name) {
    if (available < Size.ANSWER_PREFIX) throw truncated(offset, ANSWER_PREFIX_FIELDS, available, `${name} body`);
    const status = buf[offset]!;
    const at = offset + Size.ANSWER_PREFIX;
    const rest = available - Size.ANSWER_PREFIX;
    if (status === AnswerStatus.FOUND) return { status, entry: decodeEntryAt(buf, at, rest, `${name} entry`) };
    // The entry octets are present but ignored unless FOUND (§5.9).
    if (rest < Size.ENTRY) throw truncated(at, ENTRY_FIELDS, rest, `${name} entry`);
    return { status, entry: null };
  },
};

export const helloBody = codecOf(helloOps, 'HELLO');
export const helloAckBody = codecOf(helloAckOps, 'HELLO-ACK');
/** The body of CREATED, DELETED and RELEASE. */
export const batchBody = codecOf(batchOps, 'batch');
export const ackBody = codecOf(ackOps, 'ACK');
export const queryBody = codecOf(queryOps, 'QUERY');
export const answerBody = codecOf(answerOps, 'ANSWER');
export const clientQueryBody = codecOf(clientQueryOps, 'CLIENT-QUERY');
