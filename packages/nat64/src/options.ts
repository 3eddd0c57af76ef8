// Configuration of the NAT64 tables and its validation. Everything is checked before a table is built, so a
// bad configuration fails at startup with a Nat64Error naming the field, never later on the packet path.

import { IMPL, PROTOCOL, SPEC, TIMER_CLASS, TIMER_CLASS_COUNT, type DeleteReason, type Protocol } from './constants.js';
import { Nat64Error } from './errors.js';
import type { Pool4Entry } from './pool4.js';

/** Session lifetimes in milliseconds (RFC 6146 4). */
export interface Timeouts {
  /** UDP_DEFAULT; at least UDP_MIN (2 min). Default 5 min. */
  readonly udp: number;
  /** ICMP_DEFAULT. Default 60 s. */
  readonly icmp: number;
  /** TCP_EST; at least 2 h 4 min (RFC 5382 REQ-5). Default 2 h 4 min. */
  readonly tcpEstablished: number;
  /** TCP_TRANS; at least 4 min (RFC 5382 REQ-5). Default 4 min. */
  readonly tcpTransitory: number;
}

/**
 * Synchronous notifications of table changes, for the handoff sender and logs. Handles are valid during the
 * call only, so a listener reads what it needs through the table's accessors before returning. A listener
 * must not change the table from inside a call. Every method is optional.
 */
export interface Nat64Listener {
  sessionCreated(session: number): void;
  sessionDeleted(session: number, reason: DeleteReason): void;
  bibCreated(bib: number): void;
  bibDeleted(bib: number, reason: DeleteReason): void;
  /**
   * An ESTABLISHED TCP session went idle for TCP_EST and moved to TRANS; RFC 6146 3.5.2.2 says the NAT64
   * SHOULD now send a probe (an ACK with zero sequence and acknowledgment numbers) to an endpoint.
   */
  tcpProbe(session: number): void;
}

/** A configured mapping that never expires (RFC 6146 3.5.1). */
export interface StaticBibEntry {
  readonly protocol: Protocol;
  /** 16 bytes. */
  readonly clientAddress: Uint8Array;
  readonly clientPort: number;
  /** A pool4 address. */
  readonly natAddress: number;
  readonly natPort: number;
}

export interface Nat64Options {
  /** The pool4 addresses and their dynamic port ranges. */
  readonly pool4: readonly Pool4Entry[];
  /** Current time in milliseconds; called once per packet-path call. A batch timestamp is fine. */
  readonly clock: () => number;
  readonly timeouts?: Partial<Timeouts>;
  /** RFC 6146 3.5.1 / 3.5.2: endpoint-independent filtering (default) or address-dependent filtering. */
  readonly filtering?: 'endpoint-independent' | 'address-dependent';
  /** RFC 6146 3.5.2.2: drop unsolicited IPv4 SYNs silently instead of holding them. Default false. */
  readonly dropUnsolicitedTcp?: boolean;
  /** Sessions at most (all protocols); past it handed-off sessions are evicted, least recently used first. */
  readonly maxSessions?: number;
  /** Sessions one client IPv6 address may hold (outbound and inbound creation; restores are exempt). */
  readonly maxSessionsPerClient?: number;
  /** Unsolicited IPv4 SYNs held at once. */
  readonly maxHeldSyns?: number;
  /**
   * Buckets the hash indexes start with (they double as entries come), and the slots tables start with
   * where reserving slots for maxSessions up front is refused (tables double from there). Default 1024.
   */
  readonly initialCapacity?: number;
  /** At least 64 random bytes keying the hashes and port allocation; random by default. */
  readonly secret?: Uint8Array;
  readonly staticBib?: readonly StaticBibEntry[];
  readonly listener?: Partial<Nat64Listener>;
  /**
   * Accept timeouts below the RFC 6146 section 4 minimums (down to 1 ms), for tests and labs that cannot wait
   * two minutes for a UDP session to expire. Default false.
   */
  readonly allowShortTimeouts?: boolean;
  /**
   * Ports no dynamic or static BIB entry may take on any pool4 address, e.g. UDP ports the gateway itself
   * listens on. They are never handed out and restores onto them are refused.
   */
  readonly reservedPorts?: readonly ReservedPort[];
}

/** A port of one protocol kept out of the NAT on every pool4 address. */
export interface ReservedPort {
  readonly protocol: Protocol;
  readonly port: number;
}

export interface ResolvedOptions {
  readonly timeouts: Float64Array;
  readonly addressDependentFiltering: boolean;
  readonly dropUnsolicitedTcp: boolean;
  readonly maxSessions: number;
  readonly maxSessionsPerClient: number;
  readonly maxHeldSyns: number;
  readonly initialCapacity: number;
}

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > 0x7fffffff) {
    throw new Nat64Error('BAD_LIMIT', `${name} must be an integer from ${min} to 2^31-1, got ${v}`);
  }
  return v;
}

function timeout(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) {
    throw new Nat64Error('BAD_TIMEOUT', `${name} must be at least ${min} ms, got ${v}`);
  }
  return v;
}

export function resolveOptions(options: Nat64Options): ResolvedOptions {
  const t = options.timeouts ?? {};
  const timeouts = new Float64Array(TIMER_CLASS_COUNT);
  const short = options.allowShortTimeouts === true;
  timeouts[TIMER_CLASS.UDP] = timeout('timeouts.udp', t.udp, SPEC.UDP_DEFAULT_MS, short ? 1 : SPEC.UDP_MIN_MS);
  timeouts[TIMER_CLASS.ICMP] = timeout('timeouts.icmp', t.icmp, SPEC.ICMP_DEFAULT_MS, 1);
  timeouts[TIMER_CLASS.TCP_EST] = timeout('timeouts.tcpEstablished', t.tcpEstablished, SPEC.TCP_EST_MS, short ? 1 : SPEC.TCP_EST_MS);
  timeouts[TIMER_CLASS.TCP_TRANS] = timeout('timeouts.tcpTransitory', t.tcpTransitory, SPEC.TCP_TRANS_MS, short ? 1 : SPEC.TCP_TRANS_MS);
  const filtering = options.filtering ?? 'endpoint-independent';
  if (filtering !== 'endpoint-independent' && filtering !== 'address-dependent') {
    throw new Nat64Error('BAD_LIMIT', `filtering must be endpoint-independent or address-dependent, got ${String(filtering)}`);
  }
  return {
    timeouts,
    addressDependentFiltering: filtering === 'address-dependent',
    dropUnsolicitedTcp: options.dropUnsolicitedTcp ?? false,
    maxSessions: positiveInteger('maxSessions', options.maxSessions, IMPL.DEFAULT_MAX_SESSIONS),
    maxSessionsPerClient: positiveInteger('maxSessionsPerClient', options.maxSessionsPerClient, IMPL.DEFAULT_MAX_SESSIONS_PER_CLIENT),
    maxHeldSyns: positiveInteger('maxHeldSyns', options.maxHeldSyns, IMPL.DEFAULT_MAX_HELD_SYNS, 0),
    initialCapacity: positiveInteger('initialCapacity', options.initialCapacity, IMPL.DEFAULT_INITIAL_CAPACITY, 16),
  };
}

const noop = (): void => {};

/** A listener with every method present, so the tables call it without checks. */
export function completeListener(listener: Partial<Nat64Listener> | undefined): Nat64Listener {
  const l = listener ?? {};
  return {
    sessionCreated: l.sessionCreated?.bind(l) ?? noop,
    sessionDeleted: l.sessionDeleted?.bind(l) ?? noop,
    bibCreated: l.bibCreated?.bind(l) ?? noop,
    bibDeleted: l.bibDeleted?.bind(l) ?? noop,
    tcpProbe: l.tcpProbe?.bind(l) ?? noop,
  };
}

/** Checks a protocol argument of an administrative call. */
export function checkProtocol(protocol: number): void {
  if (protocol !== PROTOCOL.TCP && protocol !== PROTOCOL.UDP && protocol !== PROTOCOL.ICMP) {
    throw new Nat64Error('BAD_PROTOCOL', `protocol must be TCP (6), UDP (17) or ICMP (1), got ${protocol}`);
  }
}
