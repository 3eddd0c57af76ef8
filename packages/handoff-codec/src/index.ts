// Handoff protocol v1 (docs/protocol/handoff-v1.md): the wire format between a NAT64 gateway and
// the receivers on its IPv4 servers. Codecs for tools and tests, a non-throwing allocation-free
// path for receivers, an in-place batch writer for senders, and the optional authentication tag.
export {
  HANDOFF_PORT,
  GENEVE_PORT,
  HANDOFF_VERSION,
  MessageType,
  MESSAGE_TYPE_NAMES,
  HeaderFlag,
  Capability,
  ReceiverFlag,
  Protocol,
  DeleteReason,
  AnswerStatus,
  MAX_ACK_BLOCKS,
  MAX_ENTRY_TIME,
  Reliability,
  Size,
} from './constants.js';
export type {
  HandoffEntry,
  MessageHeader,
  HandoffHeader,
  HelloBody,
  HelloAckBody,
  BatchBody,
  AckBlock,
  AckBody,
  QueryBody,
  ClientQueryBody,
  AnswerBody,
  Hello,
  HelloAck,
  Created,
  Deleted,
  Ack,
  Query,
  Answer,
  Release,
  ClientQuery,
  HandoffMessage,
  BatchType,
  Codec,
} from './types.js';
export { DECODE_STATUS_COUNTER, DecodeStatus, decodeStatusName, type DecodeErrorCode } from './status.js';
export { HandoffDecodeError } from './errors.js';
export { datagram } from './datagram.js';
export { header } from './header.js';
export { entry, createEntry, readEntry } from './entry.js';
export { helloBody, helloAckBody, batchBody, ackBody, queryBody, answerBody, clientQueryBody } from './bodies.js';
export { DatagramView, inspectDatagram, readAckBlock } from './inspect.js';
export { EntryBatchWriter, type EntryBatchWriterOptions } from './batch-writer.js';
export { signDatagram, verifyDatagram, type AuthKey } from './auth.js';
export { maxDatagramLength, entriesPerDatagram, entriesPerLength } from './mtu.js';
