// Numbers of handoff protocol v1 (docs/protocol/handoff-v1.md, cited below as "§n") and the RFC
// numbers it builds on. Specification only: choices of this implementation live next to their code.
import { IpProto, type ValueOf } from '@nat64/wire';

/** UDP ports of handoff v1 on both sides (§4) and of Geneve (RFC 8926 §3.3), the other transport a capability can announce (§5.4). */
export { GENEVE_PORT, HANDOFF_PORT } from '@nat64/wire';

/** Version field of the common header (§5.1). */
export const HANDOFF_VERSION = 1;

/** Type field of the common header (§5.2). */
export const MessageType = {
  HELLO: 1,
  HELLO_ACK: 2,
  CREATED: 3,
  DELETED: 4,
  ACK: 5,
  QUERY: 6,
  ANSWER: 7,
  RELEASE: 8,
  CLIENT_QUERY: 9,
} as const;
export type MessageType = ValueOf<typeof MessageType>;

/** Wire names of the message types, for logs and error messages (§5.2): HELLO_ACK is HELLO-ACK. */
export const MESSAGE_TYPE_NAMES = Object.fromEntries(Object.entries(MessageType).map(([key, type]) => [type, key.replaceAll('_', '-')])) as Readonly<
  Record<MessageType, string>
>;

/** Flags field of the common header (§5.1); every other bit is reserved. */
export const HeaderFlag = {
  /** A: a 16-octet authentication tag ends the datagram (§5.10). */
  AUTHENTICATED: 0x8000,
} as const;

/** Capabilities field of HELLO and HELLO-ACK (§5.4, §6.6): transports a side can use. */
export const Capability = {
  /** Handoff v1 messages on UDP port 62863 (this document). */
  HANDOFF_V1: 0x0001,
  /** Geneve tunnels, RFC 8926, on UDP port 6081. */
  GENEVE: 0x0002,
} as const;

/** Receiver Flags field of HELLO-ACK (§5.5). */
export const ReceiverFlag = {
  /** The receiver takes authority for the gateway's entries and answers QUERY (§6.5). */
  AUTHORITATIVE: 0x8000,
} as const;

/** Protocol field of an entry: IANA "Assigned Internet Protocol Numbers" (§5.3). */
export const Protocol = { ICMP: IpProto.icmp, TCP: IpProto.tcp, UDP: IpProto.udp } as const;

/** Reason field of an entry in DELETED (§5.3); zero in every other message. */
export const DeleteReason = {
  UNSPECIFIED: 0,
  IDLE_TIMEOUT: 1,
  TCP_CLOSED: 2,
  EVICTED: 3,
  ADMINISTRATIVE: 4,
} as const;

/** Status field of ANSWER (§5.9). */
export const AnswerStatus = {
  FOUND: 0,
  NOT_FOUND: 1,
  NOT_AUTHORITATIVE: 2,
} as const;

/** At most this many blocks in one ACK (§5.7). */
export const MAX_ACK_BLOCKS = 16;

/** Sizes in octets (§5). */
export const Size = {
  /** Common header (§5.1). */
  HEADER: 28,
  /** One entry (§5.3). */
  ENTRY: 40,
  /** Authentication tag: HMAC-SHA-256 truncated to 128 bits (§5.10). */
  TAG: 16,
  /** HELLO body without padding (§5.4). */
  HELLO_BODY: 8,
  /** HELLO-ACK body (§5.5). */
  HELLO_ACK_BODY: 8,
  /** Count and Reserved before the entries of CREATED, DELETED and RELEASE (§5.6). */
  BATCH_PREFIX: 4,
  /** Cumulative, Block Count and Reserved before the blocks of ACK (§5.7). */
  ACK_PREFIX: 8,
  /** One ACK block (§5.7). */
  ACK_BLOCK: 8,
  /** QUERY fields before the padding (§5.8). */
  QUERY_FIELDS: 16,
  /** QUERY body with its padding: the size of an ANSWER body (§5.8). */
  QUERY_BODY: 44,
  /** CLIENT-QUERY fields before the padding (§5.12). */
  CLIENT_QUERY_FIELDS: 32,
  /** CLIENT-QUERY body with its padding: the size of an ANSWER body (§5.12). */
  CLIENT_QUERY_BODY: 44,
  /** Status and Reserved before the entry of ANSWER (§5.9). */
  ANSWER_PREFIX: 4,
  /** ANSWER body (§5.9). */
  ANSWER_BODY: 44,
  /** Smallest untagged HELLO: the size of a HELLO-ACK (§5.4, §6.8). */
  HELLO_MIN_LENGTH: 36,
  /** Smallest untagged QUERY: the size of an ANSWER (§5.8, §6.8). */
  QUERY_MIN_LENGTH: 72,
  /** Smallest untagged CLIENT-QUERY: the size of an ANSWER (§5.12, §6.8). */
  CLIENT_QUERY_MIN_LENGTH: 72,
  /** Largest datagram: the Length field is 16 bits (§5.1). */
  MAX_DATAGRAM: 0xffff,
  /** IPv4 header without options (RFC 791 §3.1) and UDP header (RFC 768): 20 + 8 (§5.11). */
  IPV4_UDP_OVERHEAD: 28,
} as const;

/** Largest Time an entry may carry: 2^53 - 1 µs, early in year 2255 (§5.3). */
export const MAX_ENTRY_TIME = Number.MAX_SAFE_INTEGER;

/** Reliable delivery (§6.3). */
export const Reliability = {
  /** Initial retransmission timeout, as RFC 6298 §2.1. */
  INITIAL_RTO_MS: 1_000,
  /** Retransmission timeouts double up to this (RFC 6298 §5.5 backoff with a bound, §2.5). */
  MAX_RTO_MS: 60_000,
  /** Retransmissions of one message after which a gateway repeats the HELLO exchange (§6.2). */
  RETRIES_BEFORE_HELLO: 6,
  /** Outstanding RELEASE messages a receiver may have; gateways accept at least this many. */
  RELEASE_WINDOW: 16,
} as const;
