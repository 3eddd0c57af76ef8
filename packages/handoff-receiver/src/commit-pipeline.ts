// The receiver's path to disk: reliable messages queue here whole, are committed in batches of at
// most MAX_COMMIT_OPERATIONS entries (never splitting a message), with up to MAX_IN_FLIGHT
// commits in flight so the main thread prepares the next batch while the store's writer thread
// stores the previous one. A commit starts at once when none is in flight; while one is, the next
// waits until it is durable or until PIPELINE_AT_OPERATIONS entries wait, so that below saturation
// the messages of a commit's duration share the next commit (one transaction, one fsync, one log
// write, one ACK per gateway) instead of each paying for its own. When a commit is durable, and
// only then, its log lines are written, and when they are in the log file, and only then, the
// gateways it covers are acknowledged, in commit order. A commit holds its place in flight until
// then, so while the log cannot be written (a full disk, a file that cannot be reopened) at most
// MAX_IN_FLIGHT commits wait and nothing is acknowledged; gateways retransmit and get their ACKs
// once the log takes lines again.
//
// Crash safety: every commit stores, with its entries and each gateway's progress, the times of
// the commits that may still lack their log lines (those in flight, those the log holds back,
// itself included); log recovery rebuilds the lines of exactly those after a crash. A clean stop
// with every line written stores the last commit's time as logged through, so that a restart with
// an emptied (rotated) log writes nothing again.
import {
  CREATED_KIND,
  EventRecords,
  connKey,
  deleteReasonOf,
  type ConnOperation,
  type ConnTable,
  type PipelinedBatch,
  type PipelinedRecords,
  type SideRecord,
  type ConnEntry,
} from '@nat64/conntrack';
import { AckDelay, type StartTimer } from './ack-delay.js';
import { encodeCommitLines } from './commit-lines-encoder.js';
import type { ConnectionLog } from './conn-log.js';
import type { ReceiverCounterName } from './counters.js';
import type { GatewayPeer, Via } from './peers.js';
import { ack } from './replies.js';

/** Entries per commit, at most (a message is never split, so one big message may exceed it). */
export const MAX_COMMIT_OPERATIONS = 4096;
/** Commits in flight at once. */
export const MAX_IN_FLIGHT = 4;
/** Entries waiting that start another commit while one is in flight (below it, they wait for it to be durable). */
export const PIPELINE_AT_OPERATIONS = 1024;
/** The side record listing the commits whose log lines may be missing after a crash. */
export const UNLOGGED_COMMITS_RECORD = 'log/unlogged-commits';
/** The side record holding the time up to which every commit's lines are in the log (a clean stop writes it). */
export const LOGGED_THROUGH_RECORD = 'log/logged-through';

/** A reliable message to apply whole, or (peer null) mapping events that nobody acknowledges. */
export interface QueuedMessage {
  peer: GatewayPeer | null;
  sequence: number;
  entries: MessageEntries;
  /** When the receiver applied it (microseconds), for the ACK latency. */
  receivedAt?: number;
}

/**
 * What a queued message changes: at most `size` entries, which `read` appends as operation records
 * (ConnTable.applyRecordsPipelined) once, when the message's commit starts. A reliable message
 * keeps them in its datagram until then, so that a backlog holds a buffer per message rather than
 * objects per entry, which the collector would copy and promote while they wait.
 */
export interface MessageEntries {
  readonly size: number;
  read(into: EventRecords): void;
}

/**
 * Receiver time for the table. Commits get strictly increasing times, and while a commit is being
 * prepared the table reads exactly that time (every event of a commit carries it, which log
 * recovery relies on); otherwise the table reads the current time (least-recently-used order and
 * idleness).
 */
export class CommitClock {
  private committing: number | undefined;

  constructor(
    private readonly clock: () => number,
    /** Time of the last commit of a previous run, from the store. */
    private lastCommitAt: number,
  ) {}

  readonly read = (): number => this.committing ?? Math.max(this.clock(), this.lastCommitAt);

  /** Time of the latest commit, of this run or a previous one. */
  get last(): number {
    return this.lastCommitAt;
  }

  /** Starts a commit at a time strictly after the previous commit's, which read() returns until end(). */
  begin(): number {
    const at = Math.max(this.clock(), this.lastCommitAt + 1);
    this.lastCommitAt = at;
    this.committing = at;
    return at;
  }

  end(): void {
    this.committing = undefined;
  }
}

/** What a started commit logs, counts and releases once it is durable (CommitPipeline.prepareLog). */
interface LoggedCommit {
  at: number;
  lines: Uint8Array;
  created: number;
  deleted: number;
  replaced: number;
  expiredIdle: number;
  evicted: number;
  released: ConnEntry[];
}

export interface CommitPipelineDependencies {
  table: ConnTable;
  commitClock: CommitClock;
  log: ConnectionLog;
  send(bytes: Buffer, port: number, address: string, via: Via, cookie: bigint): void;
  count(name: ReceiverCounterName, amount?: number): void;
  /** Milliseconds an ACK may wait to cover the commits that follow (ack-delay.ts); 0 or absent: none. */
  ackDelayMs?: number;
  /** The ACK delay's timer (default: an unref'd setTimeout). */
  startTimer?: StartTimer;
  /** Milliseconds, for how long a held ACK has waited (default: performance.now). */
  now?: () => number;
  /** An entry this receiver ended by its own policy (idle, evicted): tell its gateway. */
  release(entry: ConnEntry): void;
  /** A message applied at `receivedAt` (microseconds) was acknowledged. */
  acknowledged?(receivedAt: number): void;
  /** A commit is durable, its lines are in the log, and it is acknowledged. */
  committed(): void;
  /** A commit failed; memory may be ahead of the disk. */
  failed(error: unknown, peers: ReadonlySet<GatewayPeer>, initialized: readonly GatewayPeer[]): void;
}

export class CommitPipeline {
  private queue: QueuedMessage[] = [];
  private queuedOperations = 0;
  private initialized: GatewayPeer[] = [];
  private removals: SideRecord[] = [];
  /** Gateways owed an ACK for duplicates, with nothing new to commit for them. */
  private acknowledgeAgain = new Set<GatewayPeer>();
  private inFlightTimes: number[] = [];
  private readonly pendingCreates = new Map<number, number>();
  /** The operations of the commit being started, reused from commit to commit. */
  private readonly operations = new EventRecords(1024);
  private tail: Promise<void> = Promise.resolve();
  /** Where every ACK goes out, at once or a few milliseconds later. */
  readonly acks: AckDelay;

  constructor(private readonly deps: CommitPipelineDependencies) {
    this.acks = new AckDelay(deps.ackDelayMs ?? 0, (peer, cumulative) => this.sendAck(peer, cumulative), deps.startTimer, deps.now);
  }

  /** Entries waiting for a commit. */
  get backlog(): number {
    return this.queuedOperations;
  }

  /** Commits started and not yet durable. */
  get inFlight(): number {
    return this.inFlightTimes.length;
  }

  get busy(): boolean {
    return this.inFlightTimes.length > 0;
  }

  enqueue(message: QueuedMessage): void {
    this.queue.push(message);
    this.queuedOperations += message.entries.size;
  }

  /** Queues mapping events' operations as a message that nobody acknowledges. */
  enqueueOperations(operations: readonly ConnOperation[]): void {
    const read = (into: EventRecords) => {
      for (const operation of operations) if (into.appendOperation(operation) !== undefined) this.deps.count('entriesRejected');
    };
    this.enqueue({ peer: null, sequence: 0, entries: { size: operations.length, read } });
    for (const operation of operations) {
      if (operation.op === 'create') this.pendingCreates.set(keyOf(operation.entry), operation.entry.createdAt);
    }
  }

  /**
   * Whether a mapping event already queued a create of this incarnation (the gateway repeats
   * Created on the first packets of a flow); cleared as commits start.
   */
  pendingCreate(key: number, time: number): boolean {
    return this.pendingCreates.get(key) === time;
  }

  initialize(peer: GatewayPeer): void {
    this.initialized.push(peer);
  }

  removeRecord(record: SideRecord): void {
    this.removals.push(record);
  }

  /** Stores a side record of the receiver's own (e.g. an epoch change) with the next commit. */
  storeRecord(record: SideRecord): void {
    this.removals.push(record);
  }

  acknowledge(peer: GatewayPeer): void {
    this.acknowledgeAgain.add(peer);
  }

  /** Starts commits while there is work and room in flight: the first at once, more only for a backlog (PIPELINE_AT_OPERATIONS). */
  pump(): void {
    while (this.commitDue()) {
      if (!this.startCommit()) return;
    }
    if (this.acknowledgeAgain.size > 0 && this.inFlightTimes.length === 0) {
      // What a duplicate is acknowledged with may still wait for its lines (recovered at startup).
      const peers = [...this.acknowledgeAgain];
      this.acknowledgeAgain.clear();
      this.deps.log.afterWritten((written) => {
        if (written) for (const peer of peers) this.acks.acknowledgeAgain(peer, peer.cumulative);
      });
    }
  }

  /** Ends idle entries as a commit of its own, when nothing else is in flight. */
  expireIdle(limit: number): void {
    if (this.inFlightTimes.length > 0) return;
    const at = this.deps.commitClock.begin();
    let batch: PipelinedBatch;
    try {
      batch = this.deps.table.expireIdlePipelined(limit, [this.unloggedRecord(at)]);
    } catch (error) {
      this.deps.failed(error, new Set(), []);
      return;
    } finally {
      this.deps.commitClock.end();
    }
    if (batch.events.length === 0) return;
    const events = new EventRecords(batch.events.length);
    for (const event of batch.events) events.appendEvent(event);
    const logged = this.prepareLog(at, [], events);
    this.track(
      at,
      batch.durable,
      () => this.writeLog(logged),
      () => this.releaseEnded(logged),
      (error) => this.deps.failed(error, new Set(), []),
    );
  }

  /**
   * At a clean stop, once every commit has settled: when every line is in the log, stores that the
   * log is complete up to the last commit. Leaves everything as it is otherwise (log recovery then
   * writes what is missing at the next start).
   */
  async markLogged(): Promise<void> {
    const { log, table, commitClock } = this.deps;
    if (this.inFlightTimes.length > 0 || log.stalled || log.unwrittenCommits().length > 0 || table.failure || commitClock.last <= 0) return;
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, commitClock.last);
    try {
      await table.applyPipelined([], [[LOGGED_THROUGH_RECORD, bytes]]).durable;
    } catch {
      // Then the next start rewrites what it cannot tell is logged, as after a crash.
    }
  }

  /** Resolves when every commit started so far has finished (logged and acknowledged, or failed). */
  settle(): Promise<void> {
    return this.tail;
  }

  /** Drops everything queued (after a failure: the gateways retransmit). */
  reset(): void {
    this.queue = [];
    this.queuedOperations = 0;
    this.initialized = [];
    this.removals = [];
    this.acknowledgeAgain.clear();
    this.pendingCreates.clear();
  }

  private commitDue(): boolean {
    const inFlight = this.inFlightTimes.length;
    if (inFlight >= MAX_IN_FLIGHT) return false;
    if (inFlight > 0) return this.queuedOperations >= PIPELINE_AT_OPERATIONS;
    return this.queue.length > 0 || this.initialized.length > 0 || this.removals.length > 0;
  }

  private startCommit(): boolean {
    const operations = this.operations;
    operations.clear();
    const progress = new Map<GatewayPeer, number>();
    const received: number[] = [];
    let taken = 0;
    let size = 0;
    while (taken < this.queue.length && (size === 0 || size + this.queue[taken]!.entries.size <= MAX_COMMIT_OPERATIONS)) {
      const message = this.queue[taken++]!;
      size += message.entries.size;
      message.entries.read(operations);
      if (message.peer) progress.set(message.peer, message.sequence);
      if (message.peer && message.receivedAt !== undefined) received.push(message.receivedAt);
    }
    this.queue = this.queue.slice(taken);
    this.queuedOperations -= size;
    if (this.queue.length === 0) this.pendingCreates.clear();
    const initialized = this.initialized;
    const removals = this.removals;
    this.initialized = [];
    this.removals = [];
    const at = this.deps.commitClock.begin();
    for (const peer of initialized) peer.initializedAt = at;
    const peers = new Set<GatewayPeer>([...initialized, ...progress.keys()]);
    const side: SideRecord[] = [...removals, ...[...peers].map((peer) => peer.sideRecord(progress.get(peer) ?? peer.cumulative)), this.unloggedRecord(at)];
    let batch: PipelinedRecords;
    try {
      batch = this.deps.table.applyRecordsPipelined(operations, side);
    } catch (error) {
      this.deps.failed(error, peers, initialized);
      return false;
    } finally {
      this.deps.commitClock.end();
    }
    const asked = new Set(this.acknowledgeAgain);
    this.acknowledgeAgain.clear();
    const logged = this.prepareLog(
      at,
      initialized.map((peer) => peer.natAddress),
      batch.events,
    );
    this.track(
      at,
      batch.durable,
      () => {
        for (const peer of initialized) {
          peer.initializing = false;
          this.deps.count('gatewaysInitialized');
        }
        this.writeLog(logged);
      },
      () => {
        this.releaseEnded(logged);
        for (const [peer, sequence] of progress) {
          const previous = peer.cumulative;
          peer.cumulative = sequence;
          if (asked.has(peer)) this.acks.acknowledgeAgain(peer, sequence);
          else this.acks.acknowledge(peer, sequence, previous);
        }
        for (const peer of asked) if (!progress.has(peer)) this.acks.acknowledgeAgain(peer, peer.cumulative);
        for (const receivedAt of received) this.deps.acknowledged?.(receivedAt);
      },
      (error) => this.deps.failed(error, peers, initialized),
    );
    return true;
  }

  /**
   * When `durable` resolves (in commit order): runs `logLines`, and once the lines are in the log
   * `acknowledge` (never, if the log is closed first); or `failed`. Then pumps again.
   */
  private track(at: number, durable: Promise<void>, logLines: () => void, acknowledge: () => void, failed: (error: unknown) => void): void {
    this.inFlightTimes.push(at);
    const settled = durable.then(
      () => {
        this.deps.count('commits');
        logLines();
        return new Promise<void>((resolve) =>
          this.deps.log.afterWritten((written) => {
            if (written) {
              acknowledge();
              this.deps.committed();
            }
            resolve();
          }),
        );
      },
      (error: unknown) => failed(error),
    );
    this.tail = Promise.all([this.tail, settled]).then(() => undefined);
    void settled.finally(() => {
      this.inFlightTimes.splice(this.inFlightTimes.indexOf(at), 1);
      this.pump();
    });
  }

  private sendAck(peer: GatewayPeer, cumulative: number): void {
    this.deps.send(ack({ epoch: peer.epoch, cookie: peer.cookie, key: peer.key }, cumulative), peer.port, peer.address, peer.via, peer.cookie);
    this.deps.count('acksSent');
  }

  /**
   * What a commit's events leave behind once it starts: its log lines (in the order log recovery
   * rebuilds them), its counts and the entries to release, so that the events themselves, one
   * object per entry, are garbage at once rather than held until the commit is durable.
   */
  private prepareLog(at: number, gateways: readonly number[], events: EventRecords): LoggedCommit {
    const logged: LoggedCommit = {
      at,
      lines: encodeCommitLines(at, gateways, events, this.deps.log.zone),
      created: 0,
      deleted: 0,
      replaced: 0,
      expiredIdle: 0,
      evicted: 0,
      released: [],
    };
    for (let i = 0; i < events.length; i++) {
      const kind = events.kind(i);
      if (kind === CREATED_KIND) {
        logged.created++;
        continue;
      }
      logged.deleted++;
      const reason = deleteReasonOf(kind);
      if (reason === 'replaced') logged.replaced++;
      else if (reason === 'idle') logged.expiredIdle++;
      else if (reason === 'evicted') logged.evicted++;
      // Ended by this receiver's own policy: its gateway is told (RELEASE).
      if (reason === 'idle' || reason === 'evicted') logged.released.push(events.entry(i));
    }
    return logged;
  }

  /** Queues the commit's lines and counts its events. */
  private writeLog(logged: LoggedCommit): void {
    const { log, count } = this.deps;
    log.appendEncoded(logged.lines);
    count('created', logged.created);
    count('deleted', logged.deleted);
    count('replaced', logged.replaced);
    count('expiredIdle', logged.expiredIdle);
    count('evicted', logged.evicted);
    log.flush(logged.at);
  }

  /** Tells the gateways about the entries this receiver ended by its own policy, once their lines are in the log. */
  private releaseEnded(logged: LoggedCommit): void {
    for (const entry of logged.released) this.deps.release(entry);
  }

  /** The commits that may lack log lines if the process dies now: those in flight, those the log holds back, and this one. */
  private unloggedRecord(at: number): SideRecord {
    const times = [...new Set([...this.deps.log.unwrittenCommits(), ...this.inFlightTimes, at])].sort((a, b) => a - b);
    const bytes = new Uint8Array(times.length * 8);
    const view = new DataView(bytes.buffer);
    for (const [index, time] of times.entries()) view.setFloat64(index * 8, time);
    return [UNLOGGED_COMMITS_RECORD, bytes];
  }
}

export function readUnloggedCommits(bytes: Uint8Array | null): number[] {
  if (!bytes || bytes.length % 8 !== 0) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 8 }, (_, index) => view.getFloat64(index * 8));
}

function keyOf(entry: ConnEntry): number {
  return connKey(entry.protocol, entry.natAddress, entry.natPort);
}
