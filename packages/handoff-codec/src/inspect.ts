// The receiver's hot path: inspectDatagram() validates a whole datagram without allocating or
// throwing and fills a reusable DatagramView with numbers and offsets into the caller's buffer.
// The checks run in the order of §6.1 and the first problem decides the status; the throwing
// decoder (datagram.ts) runs this same function, so both always agree on what is valid.
import { readU16, readU32 } from '@nat64/wire';
import { joinU64 } from './bytes.js';
import { AnswerStatus, HANDOFF_VERSION, HeaderFlag, MAX_ACK_BLOCKS, MessageType, Size } from './constants.js';
import { ACK_PREFIX_FIELDS, BATCH_PREFIX_FIELDS, HEADER_FIELDS, datagramFieldStart, fieldStart } from './layout.js';
import { DecodeStatus } from './status.js';
import type { AckBlock } from './types.js';

/**
 * One datagram as inspectDatagram() found it: header fields, where the body is, and the fixed body
 * fields of its type, all numbers. Offsets are absolute positions in the inspected buffer. Fields a
 * type does not have are 0. Reuse one view for every datagram; it is overwritten by each call.
 */
export class DatagramView {
  /** Where the datagram starts. */
  offset = 0;
  /** When inspectDatagram() did not return OK: the offset of the field at fault. */
  problemOffset = 0;

  version = 0;
  type = 0;
  /** The Length field: the datagram's length, tag included. */
  length = 0;
  /** All header flags, A included. */
  flags = 0;
  epochHigh = 0;
  epochLow = 0;
  cookieHigh = 0;
  cookieLow = 0;
  sequence = 0;
  /** Flag A: the last 16 octets are an authentication tag (verify with verifyDatagram()). */
  tagged = false;

  bodyOffset = 0;
  /** End of the body and its padding: where the tag starts, or the end of the datagram. */
  bodyEnd = 0;

  /** HELLO, QUERY, CLIENT-QUERY. */
  natAddress = 0;
  /** HELLO, HELLO-ACK. */
  capabilities = 0;
  /** HELLO-ACK. */
  receiverFlags = 0;
  /** HELLO-ACK. */
  window = 0;
  /** Entries in CREATED, DELETED, RELEASE; 1 in ANSWER when FOUND, else 0; blocks in ACK. */
  count = 0;
  /** First entry (CREATED, DELETED, RELEASE, ANSWER): pass entriesOffset + i * Size.ENTRY to readEntry(). */
  entriesOffset = 0;
  /** ACK. */
  cumulative = 0;
  /** First ACK block: pass blocksOffset + i * Size.ACK_BLOCK to readAckBlock(). */
  blocksOffset = 0;
  /** QUERY, CLIENT-QUERY. */
  protocol = 0;
  /** QUERY. */
  natPort = 0;
  /** QUERY, CLIENT-QUERY. */
  serverAddress = 0;
  /** QUERY, CLIENT-QUERY. */
  serverPort = 0;
  /** CLIENT-QUERY. */
  clientPort = 0;
  /** CLIENT-QUERY: where the 16 octets of the client address start. */
  clientAddressOffset = 0;
  /** ANSWER. */
  answerStatus = 0;

  /** The epoch as a bigint (allocates; for state creation and logs, not per entry). */
  epoch(): bigint {
    return joinU64(this.epochHigh, this.epochLow);
  }

  /** The cookie as a bigint (allocates). */
  cookie(): bigint {
    return joinU64(this.cookieHigh, this.cookieLow);
  }
}

function fail(view: DatagramView, status: DecodeStatus, at: number): DecodeStatus {
  view.problemOffset = at;
  return status;
}

/**
 * Validates the datagram of `length` octets at `offset` in `buf` (the UDP payload) and fills
 * `view`. Returns DecodeStatus.OK or the problem the caller counts the datagram under; never
 * throws and never reads outside `buf` (a `length` past its end counts as truncation). On OK every
 * count and offset in the view has been checked against the Length field, so readEntry() and
 * readAckBlock() on them stay inside the datagram. Entry contents are not judged here: see
 * readEntry() for times, and §6.4 for the receiver's per-entry checks.
 */
export function inspectDatagram(buf: Uint8Array, offset: number, length: number, view: DatagramView): DecodeStatus {
  const room = buf.length - offset;
  const available = offset >= 0 && length > room ? room : length;
  const header = inspectHeader(buf, offset, available, view);
  if (header !== DecodeStatus.OK) return header;
  const body = inspectBodyLength(buf, offset, available, view);
  if (body !== DecodeStatus.OK) return body;
  // Header, Length and counts agree: whatever is missing now was cut off the end.
  if (view.length > available) {
    return fail(view, DecodeStatus.TRUNCATED, offset + datagramFieldStart(view.type, view.length, view.tagged, available));
  }
  readHeaderFields(buf, offset, view);
  readBodyFields(buf, view);
  return DecodeStatus.OK;
}

/** Version, Type, Length against what arrived, and Flags against Length (§5.1); fills them in. */
function inspectHeader(buf: Uint8Array, offset: number, available: number, view: DatagramView): DecodeStatus {
  view.offset = offset;
  view.problemOffset = 0;
  view.version = 0;
  view.type = 0;
  view.length = 0;
  view.flags = 0;
  view.tagged = false;
  if (!(available >= 1 && offset >= 0)) return fail(view, DecodeStatus.TRUNCATED, offset);

  const version = buf[offset]!;
  view.version = version;
  if (version !== HANDOFF_VERSION) return fail(view, DecodeStatus.UNKNOWN_VERSION, offset);
  if (available < Size.HEADER) {
    return fail(view, DecodeStatus.TRUNCATED, offset + fieldStart(HEADER_FIELDS, available));
  }
  const type = buf[offset + 1]!;
  view.type = type;
  if (type < MessageType.HELLO || type > MessageType.CLIENT_QUERY) return fail(view, DecodeStatus.UNKNOWN_TYPE, offset + 1);
  const total = readU16(buf, offset + 2);
  view.length = total;
  if (total < available) return fail(view, DecodeStatus.LENGTH_MISMATCH, offset + 2);
  const flags = readU16(buf, offset + 4);
  const tagged = (flags & HeaderFlag.AUTHENTICATED) !== 0;
  view.flags = flags;
  view.tagged = tagged;
  if (tagged && total < Size.HEADER + Size.TAG) return fail(view, DecodeStatus.TAG_MISSING, offset + 4);
  return DecodeStatus.OK;
}

/** The body's length against its type, and the count of ACK blocks or entries against the length; sets view.count. */
function inspectBodyLength(buf: Uint8Array, offset: number, available: number, view: DatagramView): DecodeStatus {
  const body = offset + Size.HEADER;
  const bodyLength = view.length - Size.HEADER - (view.tagged ? Size.TAG : 0);
  let count = 0;
  switch (view.type) {
    case MessageType.HELLO:
      if (bodyLength < Size.HELLO_MIN_LENGTH - Size.HEADER) return fail(view, DecodeStatus.UNDERSIZED, offset + 2);
      break;
    case MessageType.QUERY:
      if (bodyLength < Size.QUERY_MIN_LENGTH - Size.HEADER) return fail(view, DecodeStatus.UNDERSIZED, offset + 2);
      break;
    case MessageType.CLIENT_QUERY:
      if (bodyLength < Size.CLIENT_QUERY_MIN_LENGTH - Size.HEADER) return fail(view, DecodeStatus.UNDERSIZED, offset + 2);
      break;
    case MessageType.HELLO_ACK:
      if (bodyLength !== Size.HELLO_ACK_BODY) return fail(view, DecodeStatus.LENGTH_MISMATCH, offset + 2);
      break;
    case MessageType.ANSWER:
      if (bodyLength !== Size.ANSWER_BODY) return fail(view, DecodeStatus.LENGTH_MISMATCH, offset + 2);
      break;
    case MessageType.ACK:
      if (bodyLength < Size.ACK_PREFIX) return fail(view, DecodeStatus.LENGTH_MISMATCH, offset + 2);
      if (available <= Size.HEADER + 4) {
        return fail(view, DecodeStatus.TRUNCATED, body + fieldStart(ACK_PREFIX_FIELDS, available - Size.HEADER));
      }
      count = buf[body + 4]!;
      if (count > MAX_ACK_BLOCKS) return fail(view, DecodeStatus.TOO_MANY_BLOCKS, body + 4);
      if (bodyLength !== Size.ACK_PREFIX + count * Size.ACK_BLOCK) return fail(view, DecodeStatus.BAD_COUNT, body + 4);
      break;
    default:
      if (bodyLength < Size.BATCH_PREFIX) return fail(view, DecodeStatus.LENGTH_MISMATCH, offset + 2);
      if (available < Size.HEADER + 2) {
        return fail(view, DecodeStatus.TRUNCATED, body + fieldStart(BATCH_PREFIX_FIELDS, available - Size.HEADER));
      }
      count = readU16(buf, body);
      if (count === 0 || bodyLength !== Size.BATCH_PREFIX + count * Size.ENTRY) {
        return fail(view, DecodeStatus.BAD_COUNT, body);
      }
  }
  view.count = count;
  return DecodeStatus.OK;
}

/** Epoch, cookie and sequence, and where the body lies. */
function readHeaderFields(buf: Uint8Array, offset: number, view: DatagramView): void {
  view.epochHigh = readU32(buf, offset + 8);
  view.epochLow = readU32(buf, offset + 12);
  view.cookieHigh = readU32(buf, offset + 16);
  view.cookieLow = readU32(buf, offset + 20);
  view.sequence = readU32(buf, offset + 24);
  view.bodyOffset = offset + Size.HEADER;
  view.bodyEnd = offset + view.length - (view.tagged ? Size.TAG : 0);
}

/** The fields of the message's type; the others are zero. view.count is inspectBodyLength's. */
function readBodyFields(buf: Uint8Array, view: DatagramView): void {
  const body = view.bodyOffset;
  view.natAddress = 0;
  view.capabilities = 0;
  view.receiverFlags = 0;
  view.window = 0;
  view.entriesOffset = 0;
  view.cumulative = 0;
  view.blocksOffset = 0;
  view.protocol = 0;
  view.natPort = 0;
  view.serverAddress = 0;
  view.serverPort = 0;
  view.clientPort = 0;
  view.clientAddressOffset = 0;
  view.answerStatus = 0;
  switch (view.type) {
    case MessageType.HELLO:
      view.natAddress = readU32(buf, body);
      view.capabilities = readU16(buf, body + 4);
      break;
    case MessageType.HELLO_ACK:
      view.receiverFlags = readU16(buf, body);
      view.capabilities = readU16(buf, body + 2);
      view.window = readU16(buf, body + 4);
      break;
    case MessageType.ACK:
      view.cumulative = readU32(buf, body);
      view.blocksOffset = body + Size.ACK_PREFIX;
      break;
    case MessageType.QUERY:
    case MessageType.CLIENT_QUERY:
      // Both start with Protocol, a reserved octet, the port asked by, the NAT and the server address (§5.8, §5.12).
      view.protocol = buf[body]!;
      view.natAddress = readU32(buf, body + 4);
      view.serverAddress = readU32(buf, body + 8);
      if (view.type === MessageType.QUERY) {
        view.natPort = readU16(buf, body + 2);
        view.serverPort = readU16(buf, body + 12);
      } else {
        view.clientPort = readU16(buf, body + 2);
        view.clientAddressOffset = body + 12;
        view.serverPort = readU16(buf, body + 28);
      }
      break;
    case MessageType.ANSWER:
      view.answerStatus = buf[body]!;
      view.count = view.answerStatus === AnswerStatus.FOUND ? 1 : 0;
      view.entriesOffset = body + Size.ANSWER_PREFIX;
      break;
    default:
      view.entriesOffset = body + Size.BATCH_PREFIX;
  }
}

/** Fills `out` from the ACK block at `offset` (from a DatagramView), without allocating. */
export function readAckBlock(buf: Uint8Array, offset: number, out: AckBlock): void {
  if (!(offset >= 0 && offset + Size.ACK_BLOCK <= buf.length)) {
    throw new RangeError(`ACK block at offset ${offset} is outside a buffer of ${buf.length}`);
  }
  out.start = readU32(buf, offset);
  out.end = readU32(buf, offset + 4);
}
