// Numbers the NAT64 tables work with: "specification" values taken from RFCs (each cites its section) and
// "implementation" values that are our own choices. Nothing here is computed at run time.
import { IpProto, type ValueOf } from '@nat64/wire';

/** IP protocol numbers the tables key on. ICMP stands for ICMPv4 and ICMPv6 queries (RFC 6146 3.5.3). */
export const PROTOCOL = { ICMP: IpProto.icmp, TCP: IpProto.tcp, UDP: IpProto.udp } as const;
export type Protocol = ValueOf<typeof PROTOCOL>;

/** TCP header flag bits, as the translator hands them over (RFC 9293 3.1). */
export const TCP_FLAG = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  ACK: 0x10,
} as const;

/** TCP session states of RFC 6146 3.5.2.2. UDP and ICMP sessions report CLOSED. */
export const TCP_STATE = {
  CLOSED: 0,
  V4_INIT: 1,
  V6_INIT: 2,
  ESTABLISHED: 3,
  V4_FIN_RCV: 4,
  V6_FIN_RCV: 5,
  V4_FIN_V6_FIN_RCV: 6,
  TRANS: 7,
} as const;
export type TcpState = ValueOf<typeof TCP_STATE>;

/** Timer values and port ranges from the specifications. Times in milliseconds. */
export const SPEC = {
  /** RFC 6146 4 (UDP_MIN): a UDP session lifetime MUST NOT be shorter than 2 minutes. */
  UDP_MIN_MS: 2 * 60_000,
  /** RFC 6146 4 (UDP_DEFAULT): default UDP session lifetime, 5 minutes. */
  UDP_DEFAULT_MS: 5 * 60_000,
  /** RFC 6146 4 (TCP_EST) and RFC 5382 REQ-5: established idle timeout, at least 2 hours 4 minutes. */
  TCP_EST_MS: (2 * 60 + 4) * 60_000,
  /** RFC 6146 4 (TCP_TRANS) and RFC 5382 REQ-5: transitory idle timeout, at least 4 minutes. */
  TCP_TRANS_MS: 4 * 60_000,
  /** RFC 6146 4 (TCP_INCOMING_SYN) and 3.5.2.2: how long an unsolicited IPv4 SYN is held, 6 seconds. */
  TCP_INCOMING_SYN_MS: 6_000,
  /** RFC 6146 4 (FRAGMENT_MIN): fragments of one datagram are awaited at least 2 seconds. */
  FRAGMENT_MIN_MS: 2_000,
  /** RFC 6146 4 (ICMP_DEFAULT): ICMP query session lifetime, 60 seconds. */
  ICMP_DEFAULT_MS: 60_000,
  /** RFC 6146 3.5.1.1 and RFC 4787 REQ-3: ports 0-1023 form the well-known range, preserved when possible. */
  FIRST_NON_WELL_KNOWN_PORT: 1024,
  /** Highest TCP/UDP port or ICMP identifier (16 bits). */
  PORT_MAX: 65_535,
  /** RFC 1812 4.3.2.3: an ICMPv4 error quotes at most 576 bytes in all, so more of a held SYN is never needed. */
  ICMP_ERROR_MAX_BYTES: 576,
} as const;

/** Our own choices: defaults and bounds not fixed by any RFC. */
export const IMPL = {
  /** Default maximum number of sessions (all protocols). */
  DEFAULT_MAX_SESSIONS: 1 << 21,
  /** Default maximum number of sessions one client IPv6 address may hold (RFC 6888 REQ-4 asks for a limit). */
  DEFAULT_MAX_SESSIONS_PER_CLIENT: 16_384,
  /** Default number of unsolicited IPv4 SYNs held at once (RFC 6146 3.5.2.2 lets us bound them). */
  DEFAULT_MAX_HELD_SYNS: 1_024,
  /** Default buckets of each hash index at start, and slots of a table whose reservation was refused. */
  DEFAULT_INITIAL_CAPACITY: 1_024,
  /** Default dynamic range of TCP and UDP ports in each pool4 address. */
  DEFAULT_PORT_MIN: 1_024,
  /** Default dynamic range of ICMP identifiers in each pool4 address. */
  DEFAULT_ICMP_ID_MIN: 0,
  /** Default maximum number of datagrams the fragment tracker follows at once. */
  DEFAULT_FRAGMENT_ENTRIES: 16_384,
  /** Default maximum number of out-of-order fragments held (copies). */
  DEFAULT_HELD_FRAGMENTS: 1_024,
  /** Default maximum bytes of held fragment copies. */
  DEFAULT_HELD_FRAGMENT_BYTES: 1 << 20,
  /**
   * Separate pieces of one datagram the tracker follows to find overlaps (adjacent fragments merge into
   * one piece, so only fragments arriving out of order use more than one); a datagram in more pieces is
   * discarded. 16 costs 64 bytes per followed datagram.
   */
  FRAGMENT_PIECES: 16,
  /** Slots a session cursor examines per call at most, so enumeration never stalls the datapath for long. */
  CURSOR_SCAN_BUDGET: 65_536,
  /**
   * Places a session handed off (or taken back) moves back on its timer list at most. Acknowledgements from
   * many receivers arrive out of creation order; past this the session's last use is raised instead, so each
   * change costs O(1) and a lifetime only ever lengthens.
   */
  HANDOFF_SORT_STEPS: 16,
} as const;

/**
 * Negative results of the packet-path calls. A non-negative result is a handle; a negative one is one of these,
 * counted per reason. None of them throws.
 */
export const VERDICT = {
  /** Inbound: no BIB entry holds this NAT transport address (RFC 6146 3.5.1, 3.5.2.1, 3.5.3). */
  NO_BIB: -1,
  /** Inbound: address-dependent filtering found no session with this server address (RFC 6146 3.5.2.1). */
  FILTERED: -2,
  /** TCP segment other than a SYN without a session (RFC 6146 3.5.2.2 CLOSED), or a lookup-only miss. */
  NO_SESSION: -3,
  /** Inbound: an unsolicited IPv4 SYN was stored for TCP_INCOMING_SYN (RFC 6146 3.5.2.2 CLOSED). */
  HELD_SYN: -4,
  /** Inbound: an unsolicited IPv4 SYN was dropped because the held-SYN store is full. */
  HELD_SYN_LIMIT: -5,
  /** Outbound: no port (or ICMP identifier) left in the client's pool4 address (RFC 6146 3.5.1.1). */
  POOL_EXHAUSTED: -6,
  /** The client IPv6 address already holds its maximum number of sessions (RFC 6888 REQ-4). */
  CLIENT_LIMIT: -7,
  /** The table holds its maximum number of sessions and none is a handed-off cache entry to evict. */
  TABLE_FULL: -8,
  /** Restore or static entry: the NAT address is not a pool4 address. */
  NOT_IN_POOL: -9,
  /** Restore or static entry: the NAT transport address or the client is already mapped differently, or the port is reserved. */
  CONFLICT: -10,
  /** Restore: the entry is malformed (protocol, port, address or TCP state out of range). */
  INVALID: -11,
  /** Fragment tracker: a non-first fragment arrived before its first fragment and was stored. */
  FRAGMENT_HELD: -12,
  /** Fragment tracker: a non-first fragment was dropped because the held-fragment budget is spent. */
  FRAGMENT_LIMIT: -13,
  /** Fragment tracker: the fragment's datagram is discarded whole, its fragments overlap (RFC 5722). */
  FRAGMENT_OVERLAP: -14,
  /** Outbound with `newMapping` false: the flow would need a new BIB entry (its client holds none); nothing was made. */
  NEW_MAPPING: -15,
} as const;
export type Verdict = ValueOf<typeof VERDICT>;

/** Why a session or BIB entry went away, as listeners and counters see it. */
export const DELETE_REASON = {
  /** Its lifetime ran out (RFC 6146 3.5.1, 3.5.2.2, 3.5.3). */
  TIMEOUT: 0,
  /** TCP: both FINs seen and the transitory timer ran out (RFC 6146 3.5.2.2 V4 FIN + V6 FIN RCV). */
  TCP_CLOSED: 1,
  /** TCP: a RST moved it to TRANS and the transitory timer ran out (RFC 6146 3.5.2.2 ESTABLISHED). */
  RST: 2,
  /** A handed-off cache entry dropped on expiry or to make room; the authority still holds the connection. */
  EVICTED: 3,
  /** Released on request of the authority (`release`). */
  RELEASED: 4,
  /** Deleted by an operator or by removing a static BIB entry. */
  ADMINISTRATIVE: 5,
} as const;
export type DeleteReason = ValueOf<typeof DELETE_REASON>;

/** Timer classes: every session of one class has the same timeout, so one FIFO list per class suffices. */
export const TIMER_CLASS = {
  UDP: 0,
  ICMP: 1,
  TCP_EST: 2,
  TCP_TRANS: 3,
} as const;
export const TIMER_CLASS_COUNT = Object.keys(TIMER_CLASS).length;
