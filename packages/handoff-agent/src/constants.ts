// The agent's own vocabulary and choices. Numbers of the protocol itself (ports, sizes, INITIAL_RTO,
// MAX_RTO, RETRIES_BEFORE_HELLO, RELEASE_WINDOW) come from @nat64/handoff-codec and are cited as
// "§n" of docs/protocol/handoff-v1.md; everything here is an implementation choice.
import { AnswerStatus, Capability, HANDOFF_PORT, Reliability } from '@nat64/handoff-codec';
import { codeNames, type ValueOf } from '@nat64/wire';

/** What the agent knows about one peer, a (NAT address A, IPv4 host H) pair. */
export const PeerState = {
  /** Never contacted: no HELLO sent yet (the HELLO rate limit may delay the first one). */
  UNKNOWN: 0,
  /** HELLOs sent and unanswered, or a peer that answered before and then stopped (lost). */
  SILENT: 1,
  /** An ICMP port unreachable came back for our datagrams to H:62863: no receiver listens. */
  PORT_CLOSED: 2,
  /** HELLO-ACK received; the receiver is not authoritative, or the agent runs in mode announce. */
  ACKNOWLEDGING: 3,
  /** HELLO-ACK with AUTHORITATIVE (§5.5) in mode full: acknowledged CREATEDs are handed off. */
  AUTHORITATIVE: 4,
} as const;
export type PeerState = ValueOf<typeof PeerState>;

/** Display names of the states, as `hosts` shows them. */
export const PEER_STATE_NAMES = codeNames(PeerState);

/** What query() did with a request. Only SENT and JOINED are followed by exactly one onAnswer. */
export const QueryVerdict = {
  /** A QUERY went out (or will be retransmitted); onAnswer follows. */
  SENT: 0,
  /** A QUERY for the same key was already outstanding: this token waits for its answer too. */
  JOINED: 1,
  /** The peer is not authoritative (or unknown): nothing sent, no onAnswer. */
  NOT_AUTHORITATIVE: 2,
  /** Too many queries outstanding toward this peer: nothing sent, no onAnswer. */
  PEER_LIMIT: 3,
  /** Too many queries outstanding in total: nothing sent, no onAnswer. */
  TOTAL_LIMIT: 4,
} as const;
export type QueryVerdict = ValueOf<typeof QueryVerdict>;

/**
 * How a query ended, as onAnswer reports it: an ANSWER's status (§5.9; NOT_AUTHORITATIVE also when the
 * peer stopped being authoritative while the query waited), or TIMED_OUT, no ANSWER after every retransmission.
 */
export const QueryOutcome = { ...AnswerStatus, TIMED_OUT: 3 } as const;
export type QueryOutcome = ValueOf<typeof QueryOutcome>;

/** Tokens per second and bucket size of a token bucket. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** Defaults of every tunable; HandoffAgentOptions documents each. */
export const DEFAULTS = {
  mtu: 1500,
  /** §5.11 allows at most 10 ms of waiting for a datagram to fill. */
  flushDelayMs: 5,
  initialRtoMs: Reliability.INITIAL_RTO_MS,
  /** RFC 6298 §2.4 asks for 1 s; like Linux TCP we go lower on the LAN paths handoff runs on. */
  minRtoMs: 200,
  maxRtoMs: Reliability.MAX_RTO_MS,
  helloRetryMs: 1_000,
  helloIntervalMs: 60_000,
  helloMaxIntervalMs: 600_000,
  keepaliveMs: 180_000,
  helloAttemptsBeforeLost: 4,
  maxWindow: 256,
  maxPeers: 65_536,
  maxQueuedEntries: 100_000,
  maxQueuedEntriesTotal: 1_000_000,
  unreliablePerPeer: { perSecond: 10, burst: 20 },
  unreliableTotal: { perSecond: 1_000, burst: 2_000 },
  helloTotal: { perSecond: 1_000, burst: 1_000 },
  queryRetries: 3,
  maxQueriesPerPeer: 256,
  maxQueries: 4_096,
  releaseWindow: Reliability.RELEASE_WINDOW,
  receiverPort: HANDOFF_PORT,
  capabilities: Capability.HANDOFF_V1,
} as const;

/** HELLO request identifiers remembered per peer: a HELLO-ACK must echo one of them (§6.2). */
export const HELLO_IDS_KEPT = 4;
