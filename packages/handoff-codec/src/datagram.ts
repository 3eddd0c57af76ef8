// The whole datagram as a HandoffMessage: the codec trio over header, body and optional tag.
// decode() validates with inspectDatagram(), the hot path's own check, and then builds objects, so
// the throwing and the non-throwing paths never disagree on what is valid.
import { readU16 } from '@nat64/wire';
import { availableFrom, checkRoom, checkU64, checkUint } from './bytes.js';
import { HeaderFlag, MESSAGE_TYPE_NAMES, MessageType, Size } from './constants.js';
import { ackOps, answerOps, batchOps, clientQueryOps, helloAckOps, helloOps, queryOps } from './bodies.js';
import { HandoffDecodeError } from './errors.js';
import { writeHeader } from './header.js';
import { DatagramView, inspectDatagram } from './inspect.js';
import { datagramStructureAt } from './layout.js';
import type { Part } from './part.js';
import { DecodeStatus, decodeStatusName } from './status.js';
import type { Codec, HandoffMessage, MessageHeader } from './types.js';

const BODIES: Readonly<Record<MessageType, Part<unknown>>> = {
  [MessageType.HELLO]: helloOps,
  [MessageType.HELLO_ACK]: helloAckOps,
  [MessageType.CREATED]: batchOps,
  [MessageType.DELETED]: batchOps,
  [MessageType.ACK]: ackOps,
  [MessageType.QUERY]: queryOps,
  [MessageType.ANSWER]: answerOps,
  [MessageType.RELEASE]: batchOps,
  [MessageType.CLIENT_QUERY]: clientQueryOps,
};

function bodyOf(message: HandoffMessage): Part<HandoffMessage> {
  const body = BODIES[message.type] as Part<HandoffMessage> | undefined;
  if (body === undefined) throw new RangeError(`type must be a handoff v1 message type, got ${String(message.type)}`);
  return body;
}

function checkMessageHeader(message: MessageHeader): void {
  checkUint(message.version, 0xff, 'version');
  checkUint(message.flags, 0xffff, 'flags');
  if (message.flags & HeaderFlag.AUTHENTICATED) {
    throw new RangeError('flags must not include AUTHENTICATED: give a tag, or sign with signDatagram()');
  }
  checkU64(message.epoch, 'epoch');
  checkU64(message.cookie, 'cookie');
  checkUint(message.sequence, 0xffff_ffff, 'sequence');
  if (message.tag !== undefined && !(message.tag instanceof Uint8Array && message.tag.length === Size.TAG)) {
    throw new RangeError(`tag must be a Uint8Array of ${Size.TAG} bytes`);
  }
}

function encodingLength(message: HandoffMessage): number {
  return Size.HEADER + bodyOf(message).length(message) + (message.tag === undefined ? 0 : Size.TAG);
}

function encode(message: HandoffMessage, buf: Uint8Array, offset = 0): number {
  const body = bodyOf(message);
  checkMessageHeader(message);
  body.check(message);
  const length = encodingLength(message);
  if (length > Size.MAX_DATAGRAM) throw new RangeError(`message needs ${length} octets, a datagram holds ${Size.MAX_DATAGRAM}`);
  checkRoom(buf, offset, length, MESSAGE_TYPE_NAMES[message.type]);
  writeHeader(buf, offset, {
    version: message.version,
    type: message.type,
    length,
    flags: message.tag === undefined ? message.flags : message.flags | HeaderFlag.AUTHENTICATED,
    epoch: message.epoch,
    cookie: message.cookie,
    sequence: message.sequence,
  });
  let end = body.write(buf, offset + Size.HEADER, message);
  if (message.tag !== undefined) {
    buf.set(message.tag, end);
    end += Size.TAG;
  }
  return end;
}

function decode(buf: Uint8Array, offset = 0, length?: number): HandoffMessage {
  const available = availableFrom(buf, offset, length);
  const view = new DatagramView();
  const status = inspectDatagram(buf, offset, available, view);
  if (status !== DecodeStatus.OK) throw explain(buf, view, available, status);
  const type = view.type as MessageType;
  const header: MessageHeader = {
    version: view.version,
    flags: view.flags & ~HeaderFlag.AUTHENTICATED,
    epoch: view.epoch(),
    cookie: view.cookie(),
    sequence: view.sequence,
  };
  // Copies, never views of `buf`: receive buffers are reused for the next datagram.
  if (view.tagged) header.tag = buf.slice(view.bodyEnd, view.bodyEnd + Size.TAG);
  const body = (BODIES[type] as Part<object>).read(buf, view.bodyOffset, view.bodyEnd - view.bodyOffset, MESSAGE_TYPE_NAMES[type]);
  return { type, ...header, ...body } as HandoffMessage;
}

/** The error for a datagram inspectDatagram() rejected, naming the structure at fault. */
function explain(buf: Uint8Array, view: DatagramView, available: number, status: DecodeStatus): HandoffDecodeError {
  const code = decodeStatusName(status) as Exclude<ReturnType<typeof decodeStatusName>, 'OK'>;
  const at = view.problemOffset;
  const name = MESSAGE_TYPE_NAMES[view.type as MessageType];
  switch (status) {
    case DecodeStatus.TRUNCATED: {
      const structure = view.type === 0 ? 'header' : datagramStructureAt(view.type, view.length, view.tagged, at - view.offset);
      return new HandoffDecodeError(code, at, structure, 'truncated');
    }
    case DecodeStatus.UNKNOWN_VERSION:
      return new HandoffDecodeError(code, at, 'header', `unknown version ${view.version}`);
    case DecodeStatus.UNKNOWN_TYPE:
      return new HandoffDecodeError(code, at, 'header', `unknown type ${view.type}`);
    case DecodeStatus.LENGTH_MISMATCH:
      return new HandoffDecodeError(
        code,
        at,
        'header',
        view.length < available
          ? `length field ${view.length} but ${available} octets`
          : `length ${view.length} does not fit a ${view.tagged ? 'tagged ' : ''}${name}`,
      );
    case DecodeStatus.TAG_MISSING:
      return new HandoffDecodeError(code, at, 'header', `flag A set but length ${view.length} leaves no room for a tag`);
    case DecodeStatus.UNDERSIZED:
      return new HandoffDecodeError(code, at, name, `length ${view.length} is below the size of its response`);
    case DecodeStatus.TOO_MANY_BLOCKS:
      return new HandoffDecodeError(code, at, `${name} body`, `${buf[at]!} blocks, at most 16`);
    default: {
      const count = view.type === MessageType.ACK ? buf[at]! : readU16(buf, at);
      const problem = count === 0 ? 'no entries' : `count ${count} does not fit length ${view.length}`;
      return new HandoffDecodeError(code, at, `${name} body`, problem);
    }
  }
}

/** A whole handoff v1 datagram (§5): header, body, padding and tag. */
export const datagram: Codec<HandoffMessage> = { encodingLength, encode, decode };
