// What the gateway configures and what it hears. resolveOptions() checks every setting once, at
// construction, so nothing on the packet path has to.
import { randomBytes } from 'node:crypto';
import { Reliability, Size, entriesPerDatagram, type HandoffEntry } from '@nat64/handoff-codec';
import type { AckedEntries } from './acked.js';
import { DEFAULTS, type PeerState, type QueryOutcome, type RateLimit } from './constants.js';

/**
 * What the agent tells the gateway. Every callback is synchronous; arrays and entries passed in are
 * reused by the agent and valid only during the call (copy what must outlive it). Callbacks may call
 * mappingCreated/mappingDeleted/query/flush, but not receive() or tick(). An exception thrown by a
 * callback is caught and counted (`eventErrors`) and handed to `onError`.
 */
export interface HandoffAgentEvents {
  /**
   * The peer became acknowledging or authoritative: the first time, again after it was lost, or when
   * it gained AUTHORITATIVE. The gateway calls mappingCreated for every live mapping toward `host`.
   */
  onPeerUp(natAddress: number, host: number, state: PeerState): void;
  /**
   * The peer stopped being authoritative or acknowledging (`state` is the new one): it was lost, it
   * gave up AUTHORITATIVE, or the agent started a new epoch toward it (§6.3, Appendix B). Every entry
   * handed off to this host is the gateway's to keep again.
   */
  onPeerDown(natAddress: number, host: number, state: PeerState): void;
  /**
   * An authoritative peer acknowledged these CREATED entries (one datagram's): the gateway may keep
   * them as a cache. Each comes with the `ref` it was created with; the entry itself is read only if
   * asked for.
   */
  onHandedOff(natAddress: number, host: number, acked: AckedEntries): void;
  /** The receiver ended these entries (RELEASE, §6.4); each entry is reported once. */
  onRelease(natAddress: number, host: number, entries: readonly HandoffEntry[]): void;
  /** The one answer to a query that query() accepted (SENT or JOINED); `entry` only when FOUND. */
  onAnswer(token: number, outcome: QueryOutcome, entry: HandoffEntry | null): void;
}

export interface HandoffAgentOptions {
  /** 'full' hands authority to receivers that take it; 'announce' only reports. ('off': do not build an agent.) */
  mode: 'announce' | 'full';
  /** Monotonic milliseconds (e.g. performance.now); every timer of the agent reads it. */
  clock: () => number;
  /**
   * Sends one UDP payload from A:62863 to H:receiverPort. `payload` is valid only during the call:
   * the gateway copies it into its packet. Must not throw (a throw is caught and counted).
   */
  send(natAddress: number, host: number, payload: Uint8Array): void;
  events?: Partial<HandoffAgentEvents>;
  /** Told about exceptions thrown by event callbacks and send(). */
  onError?(error: unknown): void;
  /** The gateway's epoch (§6.2); default 64 random bits. */
  epoch?: bigint;
  /** Shared authentication key, at least 16 octets (§6.7): every datagram tagged, every reply verified. */
  key?: Uint8Array;
  /** Path MTU toward the hosts; CREATED/DELETED fill datagrams up to it (§5.11). Default 1500. */
  mtu?: number;
  /** Longest an entry waits for its datagram to fill before flush()/tick() send it. Default 5 ms. */
  flushDelayMs?: number;
  /** RTO before the first RTT sample (§6.3). Default 1000 ms. */
  initialRtoMs?: number;
  /** Lower bound of the computed RTO. Default 200 ms. */
  minRtoMs?: number;
  /** Upper bound of the RTO and its backoff (§6.3). Default 60000 ms. */
  maxRtoMs?: number;
  /** First HELLO retry, doubled at each further one. Default 1000 ms. */
  helloRetryMs?: number;
  /** HELLO retries toward a silent host back off up to this. Default 60000 ms. */
  helloIntervalMs?: number;
  /** HELLO retries toward a port-closed host start at helloIntervalMs and back off up to this. Default 600000 ms. */
  helloMaxIntervalMs?: number;
  /** Keepalive HELLO (with the cookie) toward a peer that answers. Default 180000 ms. */
  keepaliveMs?: number;
  /** Unanswered HELLOs after which a peer that answered before counts as lost. Default 4. */
  helloAttemptsBeforeLost?: number;
  /** Upper bound on the receiver's window. Default 256. */
  maxWindow?: number;
  /** Peers held at once; idle never-answering peers are evicted first. Default 65536. */
  maxPeers?: number;
  /** Entries waiting to be sent to one peer; more are dropped, counted. Default 100000. */
  maxQueuedEntries?: number;
  /** Entries waiting in total. Default 1000000. */
  maxQueuedEntriesTotal?: number;
  /** Fire-and-forget CREATED/DELETED toward one silent or unknown peer. Default 10/s, burst 20. */
  unreliablePerPeer?: RateLimit;
  /** Fire-and-forget CREATED/DELETED in total. Default 1000/s, burst 2000. */
  unreliableTotal?: RateLimit;
  /** HELLOs in total. Default 1000/s, burst 1000. */
  helloTotal?: RateLimit;
  /** QUERY retransmissions before a query times out (§6.5). Default 3. */
  queryRetries?: number;
  /** Queries outstanding toward one peer. Default 256. */
  maxQueriesPerPeer?: number;
  /** Queries outstanding in total. Default 4096. */
  maxQueries?: number;
  /** RELEASEs accepted beyond the next expected one; at least RELEASE_WINDOW, 16 (§6.3). */
  releaseWindow?: number;
  /** UDP port of the receivers; replies from another source port are dropped. Default 62863. */
  receiverPort?: number;
  /** Capabilities announced in HELLO (§5.4, §6.6). Default HANDOFF_V1. */
  capabilities?: number;
}

/** Options after defaults and checks, plus what follows from them. */
export interface ResolvedOptions {
  mode: 'announce' | 'full';
  clock: () => number;
  send: HandoffAgentOptions['send'];
  events: Partial<HandoffAgentEvents>;
  onError: ((error: unknown) => void) | undefined;
  epoch: bigint;
  key: Uint8Array | undefined;
  mtu: number;
  /** Entries per CREATED/DELETED datagram at this MTU (§5.11). */
  entriesPerDatagram: number;
  flushDelayMs: number;
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  helloRetryMs: number;
  helloIntervalMs: number;
  helloMaxIntervalMs: number;
  keepaliveMs: number;
  helloAttemptsBeforeLost: number;
  maxWindow: number;
  maxPeers: number;
  maxQueuedEntries: number;
  maxQueuedEntriesTotal: number;
  unreliablePerPeer: RateLimit;
  unreliableTotal: RateLimit;
  helloTotal: RateLimit;
  queryRetries: number;
  maxQueriesPerPeer: number;
  maxQueries: number;
  releaseWindow: number;
  receiverPort: number;
  capabilities: number;
}

function integer(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen) || chosen < min || chosen > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(chosen)}`);
  }
  return chosen;
}

function rate(value: RateLimit | undefined, fallback: RateLimit, name: string): RateLimit {
  const chosen = value ?? fallback;
  if (!(Number.isFinite(chosen.perSecond) && chosen.perSecond >= 0)) throw new RangeError(`${name}.perSecond must be a finite number >= 0`);
  if (!(Number.isFinite(chosen.burst) && chosen.burst >= 1)) throw new RangeError(`${name}.burst must be a finite number >= 1`);
  return { perSecond: chosen.perSecond, burst: chosen.burst };
}

const HOUR_MS = 3_600_000;

/** Applies defaults and checks every setting; throws RangeError or TypeError naming the first bad one. */
export function resolveOptions(options: HandoffAgentOptions): ResolvedOptions {
  if (options.mode !== 'announce' && options.mode !== 'full') {
    throw new RangeError(`mode must be 'announce' or 'full', got ${String(options.mode)}`);
  }
  if (typeof options.clock !== 'function') throw new TypeError('clock must be a function');
  if (typeof options.send !== 'function') throw new TypeError('send must be a function');
  const epoch = options.epoch ?? randomBytes(8).readBigUInt64BE(0);
  if (typeof epoch !== 'bigint' || BigInt.asUintN(64, epoch) !== epoch) throw new RangeError('epoch must be a bigint from 0 to 2^64-1');
  if (options.key !== undefined && !(options.key instanceof Uint8Array && options.key.length >= 16)) {
    throw new RangeError('key must be a Uint8Array of at least 16 octets');
  }
  const mtu = integer(options.mtu, DEFAULTS.mtu, 68, Size.MAX_DATAGRAM + Size.IPV4_UDP_OVERHEAD, 'mtu');
  const perDatagram = entriesPerDatagram(mtu, options.key !== undefined);
  if (perDatagram < 1) throw new RangeError(`mtu ${mtu} holds no entry`);
  const minRtoMs = integer(options.minRtoMs, DEFAULTS.minRtoMs, 1, HOUR_MS, 'minRtoMs');
  const maxRtoMs = integer(options.maxRtoMs, DEFAULTS.maxRtoMs, minRtoMs, HOUR_MS, 'maxRtoMs');
  const helloRetryMs = integer(options.helloRetryMs, DEFAULTS.helloRetryMs, 1, HOUR_MS, 'helloRetryMs');
  const helloIntervalMs = integer(options.helloIntervalMs, DEFAULTS.helloIntervalMs, helloRetryMs, 24 * HOUR_MS, 'helloIntervalMs');
  return {
    mode: options.mode,
    clock: options.clock,
    send: options.send,
    events: options.events ?? {},
    onError: options.onError,
    epoch,
    key: options.key,
    mtu,
    entriesPerDatagram: perDatagram,
    flushDelayMs: integer(options.flushDelayMs, DEFAULTS.flushDelayMs, 0, 10_000, 'flushDelayMs'),
    initialRtoMs: integer(options.initialRtoMs, DEFAULTS.initialRtoMs, minRtoMs, maxRtoMs, 'initialRtoMs'),
    minRtoMs,
    maxRtoMs,
    helloRetryMs,
    helloIntervalMs,
    helloMaxIntervalMs: integer(options.helloMaxIntervalMs, DEFAULTS.helloMaxIntervalMs, helloIntervalMs, 24 * HOUR_MS, 'helloMaxIntervalMs'),
    keepaliveMs: integer(options.keepaliveMs, DEFAULTS.keepaliveMs, 1, 24 * HOUR_MS, 'keepaliveMs'),
    helloAttemptsBeforeLost: integer(options.helloAttemptsBeforeLost, DEFAULTS.helloAttemptsBeforeLost, 1, 100, 'helloAttemptsBeforeLost'),
    maxWindow: integer(options.maxWindow, DEFAULTS.maxWindow, 1, 0xffff, 'maxWindow'),
    maxPeers: integer(options.maxPeers, DEFAULTS.maxPeers, 1, 1 << 24, 'maxPeers'),
    maxQueuedEntries: integer(options.maxQueuedEntries, DEFAULTS.maxQueuedEntries, 1, 1 << 26, 'maxQueuedEntries'),
    maxQueuedEntriesTotal: integer(options.maxQueuedEntriesTotal, DEFAULTS.maxQueuedEntriesTotal, 1, 1 << 28, 'maxQueuedEntriesTotal'),
    unreliablePerPeer: rate(options.unreliablePerPeer, DEFAULTS.unreliablePerPeer, 'unreliablePerPeer'),
    unreliableTotal: rate(options.unreliableTotal, DEFAULTS.unreliableTotal, 'unreliableTotal'),
    helloTotal: rate(options.helloTotal, DEFAULTS.helloTotal, 'helloTotal'),
    queryRetries: integer(options.queryRetries, DEFAULTS.queryRetries, 0, 20, 'queryRetries'),
    maxQueriesPerPeer: integer(options.maxQueriesPerPeer, DEFAULTS.maxQueriesPerPeer, 1, 1 << 20, 'maxQueriesPerPeer'),
    maxQueries: integer(options.maxQueries, DEFAULTS.maxQueries, 1, 1 << 24, 'maxQueries'),
    releaseWindow: integer(options.releaseWindow, DEFAULTS.releaseWindow, Reliability.RELEASE_WINDOW, 0xffff, 'releaseWindow'),
    receiverPort: integer(options.receiverPort, DEFAULTS.receiverPort, 1, 0xffff, 'receiverPort'),
    capabilities: integer(options.capabilities, DEFAULTS.capabilities, 0, 0xffff, 'capabilities'),
  };
}
