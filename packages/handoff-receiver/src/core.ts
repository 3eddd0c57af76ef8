// The receiver's shared state: its dependencies, the reused datagram views, the gateway epochs it
// knows, reply rate limits, counters, the commit pipeline, Geneve tombstones and the gateways with
// RELEASEs outstanding. The handlers (hello.ts, reliable.ts, queries.ts, releasing.ts,
// mapping-events.ts, recovery.ts) are plain functions over it; Receiver (receiver.ts) is its public face.
import { DatagramView, createEntry } from '@nat64/handoff-codec';
import type { ConnEntry, ConnTable } from '@nat64/conntrack';
import type { Counters, Histogram, Logger, MicroClock } from '@nat64/service';
import type { StartTimer } from './ack-delay.js';
import { CommitPipeline, type CommitClock } from './commit-pipeline.js';
import type { ConnectionLog } from './conn-log.js';
import type { CookieJar } from './cookies.js';
import type { ReceiverCounterName } from './counters.js';
import { EpochBook } from './epochs.js';
import { PeerRegistry, type GatewayPeer, type Via } from './peers.js';
import { DEFAULT_HELLO_LIMIT, DEFAULT_QUERY_LIMIT, ReplyLimits, type RateLimit } from './rate-limit.js';

/** Reliable messages a gateway may have outstanding (advertised in HELLO-ACK). */
export const WINDOW = 1024;
/** Entries waiting while a commit is in flight, at most; beyond it messages wait for retransmission. */
export const MAX_PENDING_OPERATIONS = 200_000;

export interface ReceiverOptions {
  /** Answer queries and say so in HELLO-ACK. */
  authoritative: boolean;
  /** Whether datagrams from this source address are accepted at all. */
  allows(address: string): boolean;
  /** The authentication key configured for a gateway address, if any. */
  keyFor(address: string): Uint8Array | undefined;
  /** Gateway epochs known at once. */
  maxPeers: number;
  /** Transports announced in HELLO-ACK (Capability bits). */
  capabilities(): number;
  /** HELLO-ACKs per gateway address (default DEFAULT_HELLO_LIMIT). */
  helloLimit?: RateLimit;
  /** ANSWERs per gateway address (default DEFAULT_QUERY_LIMIT). */
  queryLimit?: RateLimit;
}

export interface ReceiverDependencies {
  table: ConnTable;
  commitClock: CommitClock;
  log: ConnectionLog;
  cookies: CookieJar;
  clock: MicroClock;
  /**
   * Sends a reply the way the gateway spoke (`via`; Geneve framing needs the cookie for the VNI).
   * Must not throw: errors are the transport's to count.
   */
  send(bytes: Buffer, port: number, address: string, via: Via, cookie: bigint): void;
  counters: Counters<ReceiverCounterName>;
  logger: Logger;
  options: ReceiverOptions;
  /** Seconds from applying a reliable message until its ACK is due, before any ACK delay (metrics). */
  ackLatency?: Histogram | undefined;
  /** Called when a batch is waiting; the composition root runs flush() at the end of the turn. */
  scheduleFlush(): void;
  /** Milliseconds an ACK may wait to cover the commits after it (ack-delay.ts); absent or 0: none. */
  ackDelayMs?: number | undefined;
  /** The ACK delay's timer (default: an unref'd setTimeout). */
  startTimer?: StartTimer | undefined;
}

export interface PipelineCallbacks {
  release(entry: ConnEntry): void;
  committed(): void;
  failed(error: unknown, peers: ReadonlySet<GatewayPeer>, initialized: readonly GatewayPeer[]): void;
}

export class ReceiverCore {
  /** The datagram being handled; handlers read it. */
  readonly view = new DatagramView();
  /** A held-ahead message being applied after the gap before it filled. */
  readonly heldView = new DatagramView();
  readonly entry = createEntry();
  readonly peers: PeerRegistry;
  readonly epochs: EpochBook;
  readonly limits: ReplyLimits;
  readonly pipeline: CommitPipeline;
  flushScheduled = false;
  /** Creation times of recently deleted mappings, by table key, oldest first (geneve-options 3.3). */
  readonly tombstones = new Map<number, number>();
  /** Gateways with RELEASEs queued or unacknowledged. */
  readonly releasing = new Set<GatewayPeer>();
  /** Rebuilding the table from the store after a failed background commit. */
  recovering: Promise<void> | undefined;
  readonly counterValues: Float64Array;
  readonly index: Readonly<Record<ReceiverCounterName, number>>;

  constructor(
    readonly deps: ReceiverDependencies,
    callbacks: PipelineCallbacks,
  ) {
    this.peers = new PeerRegistry(deps.options.maxPeers);
    this.epochs = new EpochBook(deps.options.maxPeers);
    this.limits = new ReplyLimits(deps.options.helloLimit ?? DEFAULT_HELLO_LIMIT, deps.options.queryLimit ?? DEFAULT_QUERY_LIMIT, deps.clock);
    this.counterValues = deps.counters.values;
    this.index = deps.counters.index;
    this.pipeline = new CommitPipeline({
      table: deps.table,
      commitClock: deps.commitClock,
      log: deps.log,
      send: deps.send,
      count: (name, amount) => this.count(name, amount),
      ackDelayMs: deps.ackDelayMs ?? 0,
      ...(deps.startTimer ? { startTimer: deps.startTimer } : {}),
      // The wall clock, as the tests drive it: a step of it only moves a held ACK within its delay.
      now: () => deps.clock() / 1000,
      release: (entry) => callbacks.release(entry),
      acknowledged: (receivedAt) => deps.ackLatency?.observe((deps.clock() - receivedAt) / 1e6),
      committed: () => callbacks.committed(),
      failed: (error, peers, initialized) => callbacks.failed(error, peers, initialized),
    });
  }

  count(name: ReceiverCounterName, amount = 1): void {
    this.counterValues[this.index[name]]! += amount;
  }

  /** Asks the composition root for a flush at the end of the turn, once. */
  schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.deps.scheduleFlush();
  }
}
