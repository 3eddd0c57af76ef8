// The JS model of handoff v1 messages. Addresses are numbers and byte arrays, never strings: IPv4
// as an unsigned 32-bit number, IPv6 as 16 bytes. Times are microseconds since 1970-01-01 UTC as
// JS numbers, exact below 2^53 (year 2255). Epoch and cookie are 64-bit, so bigint.
import type { MessageType } from './constants.js';

/** One connection-tracking entry (§5.3). */
export interface HandoffEntry {
  /** IANA protocol number: 6 TCP, 17 UDP, 1 ICMP. */
  protocol: number;
  /** DeleteReason in DELETED; 0 in every other message. */
  reason: number;
  natAddress: number;
  /** NAT port, or for ICMP the query identifier the gateway chose. */
  natPort: number;
  /** 16 bytes. */
  clientAddress: Uint8Array;
  /** Client port, or for ICMP the client's query identifier. */
  clientPort: number;
  serverAddress: number;
  /** Server port; 0 for ICMP. */
  serverPort: number;
  /** Creation time in µs; in DELETED, the creation time of the entry being deleted. */
  time: number;
}

/** Fields of the common header (§5.1) that a message carries; Type and Length follow from the body. */
export interface MessageHeader {
  version: number;
  /** Header flags other than A (all reserved in v1, so 0). A is expressed by `tag`. */
  flags: number;
  epoch: bigint;
  cookie: bigint;
  sequence: number;
  /** The 16-octet authentication tag of a tagged datagram (§5.10). To send one, encode untagged and
   * call signDatagram(); decode fills it in so that re-encoding reproduces the datagram. */
  tag?: Uint8Array;
}

/** The whole common header as on the wire, for the header codec. */
export interface HandoffHeader {
  version: number;
  type: number;
  /** Total datagram length including header and tag. */
  length: number;
  /** All 16 bits, A included. */
  flags: number;
  epoch: bigint;
  cookie: bigint;
  sequence: number;
}

export interface HelloBody {
  natAddress: number;
  capabilities: number;
}

export interface HelloAckBody {
  receiverFlags: number;
  capabilities: number;
  /** How many unacknowledged reliable messages the receiver accepts. */
  window: number;
}

/** Body of CREATED, DELETED and RELEASE: 1 to N entries. */
export interface BatchBody {
  entries: readonly HandoffEntry[];
}

/** Reliable sequence numbers [start, end], both included. */
export interface AckBlock {
  start: number;
  end: number;
}

export interface AckBody {
  /** Every reliable sequence number up to this one (serially) has been received. */
  cumulative: number;
  /** At most 16. */
  blocks: readonly AckBlock[];
}

export interface QueryBody {
  protocol: number;
  natPort: number;
  natAddress: number;
  serverAddress: number;
  serverPort: number;
}

export interface AnswerBody {
  /** AnswerStatus. */
  status: number;
  /** The entry when status is FOUND, otherwise null (sent as zeros). */
  entry: HandoffEntry | null;
}

type Message<T extends MessageType, Body> = MessageHeader & { type: T } & Body;

export type Hello = Message<typeof MessageType.HELLO, HelloBody>;
export type HelloAck = Message<typeof MessageType.HELLO_ACK, HelloAckBody>;
export type Created = Message<typeof MessageType.CREATED, BatchBody>;
export type Deleted = Message<typeof MessageType.DELETED, BatchBody>;
export type Ack = Message<typeof MessageType.ACK, AckBody>;
export type Query = Message<typeof MessageType.QUERY, QueryBody>;
export type Answer = Message<typeof MessageType.ANSWER, AnswerBody>;
export type Release = Message<typeof MessageType.RELEASE, BatchBody>;

/** Every handoff v1 message, discriminated on `type`. */
export type HandoffMessage = Hello | HelloAck | Created | Deleted | Ack | Query | Answer | Release;

/** The message types that carry entries, numbered by the reliable sequence. */
export type BatchType = typeof MessageType.CREATED | typeof MessageType.DELETED | typeof MessageType.RELEASE;

/** The dns-packet trio every wire structure here offers; decode throws HandoffDecodeError on malformed input. */
export type { Codec } from '@nat64/wire';
