// The receiver engine: validates every datagram on the handoff port, keeps the authoritative
// table, writes the connection log and answers gateways. No I/O of its own: the composition root
// feeds it datagrams and gives it a send function, so tests drive it directly.
//
// Reliable messages are not applied one by one: handleDatagram() queues their entries into a
// batch and flush() (scheduled once per event-loop turn) commits the whole batch in one store
// transaction, then writes its log lines, then sends the ACKs. A gateway is therefore only ever
// told "stored" about entries that are on disk, and the log never shows an entry the store lacks.
import {
  AnswerStatus,
  DecodeStatus,
  MessageType,
  createEntry,
  inspectDatagram,
  readAckBlock,
  readEntry,
  verifyDatagram,
  DatagramView,
  type AckBlock,
} from '@nat64/handoff-codec';
import { checkEntry, connKey, StoreError, type ConnEntry, type ConnEvent, type ConnOperation, type ConnTable, type SideRecord } from '@nat64/conntrack';
import { formatIpv4, parseIpv4, type Counters, type Logger, type MicroClock } from '@nat64/service';
import { entryLine, initializedLine, type ConnectionLog } from './conn-log.js';
import type { CookieJar } from './cookies.js';
import type { ReceiverCounterName } from './counters.js';
import { GatewayPeer, PeerRegistry, removalRecord, type StoredPeer } from './peers.js';
import { ack, answer, helloAck, type AnswerOutcome } from './replies.js';
import { classifySequence } from './sequence.js';

/** The side record holding the time of the last commit, to find unlogged lines after a crash. */
export const LAST_COMMIT_RECORD = 'log/last-commit';
/** Reliable messages a gateway may have outstanding (advertised in HELLO-ACK). */
export const WINDOW = 1024;
/** A batch bigger than this is committed at once rather than at the end of the event-loop turn. */
const MAX_BATCH_OPERATIONS = 20_000;

const STATUS_COUNTER: Record<number, ReceiverCounterName> = {
  [DecodeStatus.TRUNCATED]: 'truncated',
  [DecodeStatus.UNKNOWN_VERSION]: 'unknownVersion',
  [DecodeStatus.UNKNOWN_TYPE]: 'unknownType',
  [DecodeStatus.LENGTH_MISMATCH]: 'lengthMismatch',
  [DecodeStatus.TAG_MISSING]: 'tagMissing',
  [DecodeStatus.BAD_COUNT]: 'badCount',
  [DecodeStatus.TOO_MANY_BLOCKS]: 'tooManyBlocks',
  [DecodeStatus.UNDERSIZED]: 'undersized',
};

export interface ReceiverOptions {
  /** Answer queries and say so in HELLO-ACK. */
  authoritative: boolean;
  /** Whether datagrams from this source address are accepted at all. */
  allows(address: string): boolean;
  /** The authentication key configured for a gateway address, if any. */
  keyFor(address: string): Uint8Array | undefined;
  /** Gateway epochs known at once. */
  maxPeers: number;
}

/**
 * Receiver time for the table. Commits get strictly increasing times, and while a commit runs the
 * table reads exactly that time (every event of a commit carries it, which log recovery relies
 * on); otherwise the table reads the current time (for least-recently-used order and idleness).
 */
export class CommitClock {
  private committing: number | undefined;

  constructor(
    private readonly clock: MicroClock,
    /** Time of the last commit of a previous run, from the store. */
    private lastCommitAt: number,
  ) {}

  /** The table's clock. */
  readonly read = (): number => this.committing ?? Math.max(this.clock(), this.lastCommitAt);

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

export interface ReceiverDependencies {
  table: ConnTable;
  commitClock: CommitClock;
  log: ConnectionLog;
  cookies: CookieJar;
  clock: MicroClock;
  /** Sends a reply; must not throw (errors are the transport's to count). */
  send(bytes: Buffer, port: number, address: string): void;
  counters: Counters<ReceiverCounterName>;
  logger: Logger;
  options: ReceiverOptions;
  /** Called when a batch is waiting; the composition root runs flush() at the end of the turn. */
  scheduleFlush(): void;
}

export class Receiver {
  private readonly view = new DatagramView();
  private readonly heldView = new DatagramView();
  private readonly entry = createEntry();
  private readonly peers: PeerRegistry;
  private readonly counterValues: Float64Array;
  private readonly index: Readonly<Record<ReceiverCounterName, number>>;
  private operations: ConnOperation[] = [];
  private initialized: GatewayPeer[] = [];
  private touched = new Set<GatewayPeer>();
  private removals: SideRecord[] = [];
  private flushScheduled = false;

  constructor(
    private readonly deps: ReceiverDependencies,
    storedPeers: StoredPeer[],
  ) {
    this.peers = new PeerRegistry(deps.options.maxPeers);
    this.counterValues = deps.counters.values;
    this.index = deps.counters.index;
    // Older epochs of an address come first so that the newest one wins.
    for (const peer of [...storedPeers].sort((a, b) => a.initializedAt - b.initializedAt)) {
      const ipv4 = parseIpv4(peer.address);
      if (ipv4 < 0) continue;
      const restored = new GatewayPeer(
        peer.address,
        ipv4,
        peer.epoch,
        deps.cookies.cookieFor(peer.address, peer.epoch),
        deps.options.keyFor(peer.address),
        peer.cumulative,
        peer.initializedAt,
        false,
      );
      restored.releases.next = peer.releaseNext;
      const superseded = this.peers.add(restored);
      if (superseded) this.removals.push(removalRecord(superseded));
    }
  }

  get peerCount(): number {
    return this.peers.size;
  }

  handleDatagram(buf: Buffer, sourceAddress: string, port: number): void {
    const values = this.counterValues;
    values[this.index.datagramsReceived]!++;
    const view = this.view;
    const status = inspectDatagram(buf, 0, buf.length, view);
    if (status !== DecodeStatus.OK) {
      values[this.index[STATUS_COUNTER[status]!]]!++;
      return;
    }
    const address = sourceAddress.startsWith('::ffff:') ? sourceAddress.slice(7) : sourceAddress;
    const { options } = this.deps;
    if (!options.allows(address)) {
      values[this.index.notAllowed]!++;
      return;
    }
    const key = options.keyFor(address);
    if (key ? !view.tagged || !verifyDatagram(buf, 0, buf.length, key) : view.tagged) {
      values[this.index.authenticationFailed]!++;
      return;
    }
    switch (view.type) {
      case MessageType.HELLO:
        return this.onHello(address, port, key);
      case MessageType.CREATED:
      case MessageType.DELETED:
        return this.onReliable(buf, address, port, key);
      case MessageType.QUERY:
        return this.onQuery(address, port, key);
      case MessageType.ACK:
        return this.onAck(buf, address, port);
      default:
        values[this.index.unexpectedType]!++;
    }
  }

  private onHello(address: string, port: number, key: Uint8Array | undefined): void {
    const view = this.view;
    if (parseIpv4(address) !== view.natAddress) {
      this.count('natAddressMismatch');
      return;
    }
    const epoch = view.epoch();
    const cookie = this.deps.cookies.cookieFor(address, epoch);
    this.deps.send(helloAck({ epoch, cookie, key }, view.sequence, this.deps.options.authoritative, WINDOW), port, address);
    this.count('helloAcksSent');
    // A HELLO that already carries our cookie starts the epoch (handoff-v1 section 6.2).
    if (view.cookieHigh !== 0 || view.cookieLow !== 0) this.authenticatedPeer(address, port, key, true);
  }

  /**
   * The peer of the datagram in `this.view` when its cookie is ours, creating it (a new epoch)
   * when `mayStart`; undefined, counted, otherwise.
   */
  private authenticatedPeer(address: string, port: number, key: Uint8Array | undefined, mayStart: boolean): GatewayPeer | undefined {
    const view = this.view;
    const epoch = view.epoch();
    if (!this.deps.cookies.verify(address, epoch, view.cookie())) {
      this.count('badCookie');
      return undefined;
    }
    let peer = this.peers.get(address, epoch);
    if (!peer) {
      if (!mayStart) return undefined;
      const natAddress = parseIpv4(address);
      if (natAddress < 0) {
        // Gateways send from their NAT IPv4 address (handoff-v1 section 4).
        this.count('natAddressMismatch');
        return undefined;
      }
      if (this.peers.size >= this.peers.limit) {
        this.count('peersFull');
        return undefined;
      }
      peer = new GatewayPeer(address, natAddress, epoch, view.cookie(), key, 0, 0, true);
      const superseded = this.peers.add(peer);
      if (superseded) this.removals.push(removalRecord(superseded));
      this.initialized.push(peer);
      this.touched.add(peer);
      this.schedule();
    }
    peer.port = port;
    return peer;
  }

  private onReliable(buf: Buffer, address: string, port: number, key: Uint8Array | undefined): void {
    const peer = this.authenticatedPeer(address, port, key, true);
    if (!peer) return;
    const sequence = this.view.sequence;
    switch (classifySequence(peer.pendingCumulative, sequence, WINDOW)) {
      case 'duplicate':
        this.count('duplicates');
        peer.ackDue = true;
        this.touched.add(peer);
        this.schedule();
        return;
      case 'beyond-window':
        this.count('beyondWindow');
        return;
      case 'ahead':
        if (!peer.held.has(sequence)) {
          peer.held.set(sequence, buf);
          this.count('heldAhead');
        }
        return;
      case 'next':
        this.applyMessage(peer, this.view, buf);
        for (let next = peer.held.get((peer.pendingCumulative + 1) >>> 0); next; next = peer.held.get((peer.pendingCumulative + 1) >>> 0)) {
          peer.held.delete((peer.pendingCumulative + 1) >>> 0);
          inspectDatagram(next, 0, next.length, this.heldView);
          this.applyMessage(peer, this.heldView, next);
        }
        if (this.operations.length >= MAX_BATCH_OPERATIONS) this.flush();
    }
  }

  /** Queues the entries of the next reliable message of `peer`. */
  private applyMessage(peer: GatewayPeer, view: DatagramView, buf: Buffer): void {
    const create = view.type === MessageType.CREATED;
    const entry = this.entry;
    for (let i = 0; i < view.count; i++) {
      const valid = readEntry(buf, view.entriesOffset + i * 40, entry);
      const conn: ConnEntry = {
        protocol: entry.protocol,
        natAddress: entry.natAddress,
        natPort: entry.natPort,
        clientAddress: entry.clientAddress.slice(),
        clientPort: entry.clientPort,
        serverAddress: entry.serverAddress,
        serverPort: entry.serverPort,
        createdAt: entry.time,
      };
      if (!valid || entry.natAddress !== peer.natAddress || checkEntry(conn) !== undefined) {
        this.count('entriesRejected');
        continue;
      }
      this.operations.push(create ? { op: 'create', entry: conn } : { op: 'delete', entry: conn, reason: 'gateway' });
    }
    peer.pendingCumulative = view.sequence;
    peer.ackDue = true;
    this.count('reliableApplied');
    this.touched.add(peer);
    this.schedule();
  }

  private onQuery(address: string, port: number, key: Uint8Array | undefined): void {
    const peer = this.authenticatedPeer(address, port, key, true);
    if (!peer) return;
    const view = this.view;
    const context = { epoch: peer.epoch, cookie: peer.cookie, key };
    let outcome: AnswerOutcome;
    if (!this.deps.options.authoritative) {
      outcome = { status: AnswerStatus.NOT_AUTHORITATIVE };
    } else {
      if (view.natAddress !== peer.natAddress) {
        this.count('natAddressMismatch');
        return;
      }
      const tableKey = connKey(view.protocol, view.natAddress, view.natPort);
      const held = tableKey >= 0 ? this.deps.table.get(tableKey) : undefined;
      if (held) {
        this.deps.table.touch(tableKey);
        outcome = {
          status: AnswerStatus.FOUND,
          entry: { ...held, reason: 0, time: held.createdAt },
        };
        this.count('answersFound');
      } else {
        outcome = { status: AnswerStatus.NOT_FOUND };
        this.count('answersNotFound');
      }
    }
    this.deps.send(answer(context, view.sequence, outcome), port, address);
    this.count('queriesAnswered');
  }

  private onAck(buf: Buffer, address: string, port: number): void {
    const view = this.view;
    if (!this.deps.cookies.verify(address, view.epoch(), view.cookie())) {
      this.count('badCookie');
      return;
    }
    const peer = this.peers.get(address, view.epoch());
    if (!peer) return;
    peer.port = port;
    const blocks: AckBlock[] = [];
    for (let i = 0; i < view.count; i++) {
      const block = { start: 0, end: 0 };
      readAckBlock(buf, view.blocksOffset + i * 8, block);
      blocks.push(block);
    }
    this.count('releasesAcknowledged', peer.releases.acknowledge(view.cumulative, blocks));
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.deps.scheduleFlush();
  }

  /** Commits the batch, logs it, acknowledges it. Safe to call at any time; does nothing when idle. */
  flush(): void {
    this.flushScheduled = false;
    const operations = this.operations;
    const initialized = this.initialized;
    const touched = this.touched;
    const removals = this.removals;
    this.operations = [];
    this.initialized = [];
    this.touched = new Set();
    this.removals = [];
    const changed =
      operations.length > 0 || initialized.length > 0 || removals.length > 0 || [...touched].some((peer) => peer.pendingCumulative !== peer.cumulative);
    if (changed) {
      const at = this.deps.commitClock.begin();
      for (const peer of initialized) peer.initializedAt = at;
      const side: SideRecord[] = [...removals, ...[...touched].map((peer) => peer.sideRecord()), commitTimeRecord(at)];
      let events: ConnEvent[];
      try {
        events = this.deps.table.apply(operations, side);
      } catch (error) {
        this.abandonBatch(error, touched, initialized);
        return;
      } finally {
        this.deps.commitClock.end();
      }
      this.count('commits');
      for (const peer of initialized) {
        peer.initializing = false;
        this.deps.log.append(initializedLine(at, peer.natAddress, this.deps.log.zone));
        this.count('gatewaysInitialized');
      }
      this.logEvents(events);
    }
    for (const peer of touched) {
      peer.cumulative = peer.pendingCumulative;
      if (!peer.ackDue) continue;
      peer.ackDue = false;
      this.deps.send(ack({ epoch: peer.epoch, cookie: peer.cookie, key: peer.key }, peer.cumulative), peer.port, peer.address);
      this.count('acksSent');
    }
  }

  private abandonBatch(error: unknown, touched: Set<GatewayPeer>, initialized: GatewayPeer[]): void {
    this.count('storeFailures');
    this.deps.logger.error({ err: error, code: error instanceof StoreError ? error.code : undefined }, 'store commit failed; nothing acknowledged, gateways will retransmit');
    for (const peer of touched) {
      peer.pendingCumulative = peer.cumulative;
      peer.ackDue = false;
    }
    for (const peer of initialized) this.peers.remove(peer);
  }

  private logEvents(events: readonly ConnEvent[]): void {
    const { log } = this.deps;
    for (const event of events) {
      if (event.kind === 'created') {
        log.append(entryLine(event.at, 'Created', event.entry, log.zone));
        this.count('created');
        continue;
      }
      log.append(entryLine(event.at, 'Deleted', event.entry, log.zone));
      this.count('deleted');
      if (event.reason === 'replaced') this.count('replaced');
      if (event.reason === 'idle' || event.reason === 'evicted') {
        this.count(event.reason === 'idle' ? 'expiredIdle' : 'evicted');
        this.release(event.entry);
      }
    }
    log.flush();
  }

  /** Tells the entry's gateway that this receiver ended it. */
  private release(entry: ConnEntry): void {
    const peer = this.peers.newestOf(formatIpv4(entry.natAddress));
    if (!peer) {
      this.count('releasesAbandoned');
      return;
    }
    const dropped = peer.releases.enqueue({ ...entry, reason: 0, time: entry.createdAt });
    if (dropped > 0) this.count('releasesAbandoned', dropped);
  }

  /**
   * Periodic work: ends idle entries (at most `limit` per call), then sends and retransmits
   * RELEASEs. The composition root calls it about once a second.
   */
  tick(limit = 10_000): void {
    this.flush();
    const at = this.deps.commitClock.begin();
    try {
      const expired = this.deps.table.expireIdle(limit, [commitTimeRecord(at)]);
      if (expired.length > 0) {
        this.count('commits');
        this.logEvents(expired);
      }
    } catch (error) {
      this.count('storeFailures');
      this.deps.logger.error({ err: error }, 'idle expiry failed');
    } finally {
      this.deps.commitClock.end();
    }
    const nowMs = this.deps.clock() / 1000;
    for (const peer of this.peers.values()) {
      if (peer.releases.pending === 0) continue;
      const outcome = peer.releases.service(nowMs, { epoch: peer.epoch, cookie: peer.cookie, key: peer.key }, (bytes) =>
        this.deps.send(bytes, peer.port, peer.address),
      );
      this.count('releasesSent', outcome.sent);
      this.count('releaseRetransmissions', outcome.retransmitted);
      this.count('releasesAbandoned', outcome.abandoned);
    }
  }

  private count(name: ReceiverCounterName, amount = 1): void {
    this.counterValues[this.index[name]]! += amount;
  }
}

function commitTimeRecord(at: number): SideRecord {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, at);
  return [LAST_COMMIT_RECORD, bytes];
}

export function readCommitTime(bytes: Uint8Array | null): number {
  if (!bytes || bytes.length !== 8) return 0;
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0);
}
