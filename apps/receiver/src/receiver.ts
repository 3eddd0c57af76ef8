// The receiver engine: validates every datagram on the handoff port, keeps the authoritative
// table, writes the connection log and answers gateways. No I/O of its own: the composition root
// feeds it datagrams and gives it a send function, so tests drive it directly.
//
// Reliable messages are not applied one by one: handleDatagram() queues them whole on the commit
// pipeline (commit-pipeline.ts), which commits them in batches, then writes their log lines, then
// sends the ACKs. A gateway is therefore only ever told "stored" about entries that are on disk,
// and the log never shows an entry the store lacks.
import { MappingEvent } from '@nat64/geneve';
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
import { checkEntry, connKey, StoreError, type ConnEntry, type ConnOperation, type ConnTable } from '@nat64/conntrack';
import { CommitPipeline, type CommitClock } from './commit-pipeline.js';
import { formatIpv4, parseIpv4, type Counters, type Histogram, type Logger, type MicroClock } from '@nat64/service';
import type { ConnectionLog } from './conn-log.js';
import type { CookieJar } from './cookies.js';
import { EPOCH_SIDE_PREFIX, EpochBook } from './epochs.js';
import type { ReceiverCounterName } from './counters.js';
import { GatewayPeer, PEER_SIDE_PREFIX, type Via, PeerRegistry, parseStoredPeers, removalRecord, type StoredPeer } from './peers.js';
import { DEFAULT_HELLO_LIMIT, DEFAULT_QUERY_LIMIT, ReplyLimits, type RateLimit } from './rate-limit.js';
import { answer, helloAck, type AnswerOutcome } from './replies.js';
import { classifySequence } from './sequence.js';

/** Reliable messages a gateway may have outstanding (advertised in HELLO-ACK). */
export const WINDOW = 1024;
/** Tombstones kept for Geneve mapping events, at most (memory only). */
const MAX_TOMBSTONES = 1_000_000;
/** Entries waiting while a commit is in flight, at most; beyond it messages wait for retransmission. */
const MAX_PENDING_OPERATIONS = 200_000;

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
  /** Seconds from applying a reliable message to sending its ACK (metrics). */
  ackLatency?: Histogram;
  /** Called when a batch is waiting; the composition root runs flush() at the end of the turn. */
  scheduleFlush(): void;
}

export class Receiver {
  private readonly view = new DatagramView();
  private readonly heldView = new DatagramView();
  private readonly entry = createEntry();
  private readonly peers: PeerRegistry;
  private readonly epochs: EpochBook;
  private readonly limits: ReplyLimits;
  private readonly counterValues: Float64Array;
  private readonly index: Readonly<Record<ReceiverCounterName, number>>;
  private readonly pipeline: CommitPipeline;
  private flushScheduled = false;
  /** Creation times of recently deleted mappings, by table key, oldest first (geneve-options 3.3). */
  private readonly tombstones = new Map<number, number>();
  /** Gateways with RELEASEs queued or unacknowledged. */
  private readonly releasing = new Set<GatewayPeer>();
  /** Rebuilding the table from the store after a failed background commit. */
  private recovering: Promise<void> | undefined;

  constructor(
    private readonly deps: ReceiverDependencies,
    storedPeers: StoredPeer[],
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
      release: (entry) => this.release(entry),
      acknowledged: (receivedAt) => deps.ackLatency?.observe((deps.clock() - receivedAt) / 1e6),
      committed: () => this.serviceReleases(),
      failed: (error, peers, initialized) => this.storeFailed(error, peers, initialized),
    });
    this.epochs.load(deps.table.listSide(EPOCH_SIDE_PREFIX));
    this.restorePeers(storedPeers);
  }

  /** Entries waiting for a commit, and commits in flight (metrics). */
  get commitQueue(): { entries: number; commits: number } {
    return { entries: this.pipeline.backlog, commits: this.pipeline.inFlight };
  }

  private restorePeers(storedPeers: StoredPeer[]): void {
    const { deps } = this;
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
      if (this.epochs.isDead(peer.address, peer.epoch)) {
        this.pipeline.removeRecord(removalRecord(restored));
        continue;
      }
      // A database of a version before the epoch records: the stored peers tell the order.
      if (this.epochs.currentOf(peer.address) !== peer.epoch) {
        for (const record of this.epochs.start(peer.address, peer.epoch)) this.pipeline.storeRecord(record);
      }
      const superseded = this.peers.add(restored);
      if (superseded) this.pipeline.removeRecord(removalRecord(superseded));
    }
  }

  get peerCount(): number {
    return this.peers.size;
  }

  /** One handoff v1 datagram, from UDP 62863 or from the payload of a Geneve control packet. */
  handleDatagram(buf: Buffer, sourceAddress: string, port: number, via: Via = 'handoff'): void {
    const values = this.counterValues;
    values[this.index.datagramsReceived]!++;
    if (this.recovering) {
      values[this.index.storeUnavailable]!++;
      return;
    }
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
    // Inside Geneve, the tunnel's authentication option (required when a key is configured, and
    // checked before we get here) covers the datagram: no second tag, in either direction.
    const key = via === 'geneve' ? undefined : options.keyFor(address);
    if (via === 'handoff' && (key ? !view.tagged || !verifyDatagram(buf, 0, buf.length, key) : view.tagged)) {
      values[this.index.authenticationFailed]!++;
      return;
    }
    switch (view.type) {
      case MessageType.HELLO:
        return this.onHello(address, port, key, via);
      case MessageType.CREATED:
      case MessageType.DELETED:
        return this.onReliable(buf, address, port, key, via);
      case MessageType.QUERY:
        return this.onQuery(address, port, key, via);
      case MessageType.ACK:
        return this.onAck(buf, address, port, via);
      default:
        values[this.index.unexpectedType]!++;
    }
  }

  private onHello(address: string, port: number, key: Uint8Array | undefined, via: Via): void {
    const view = this.view;
    if (parseIpv4(address) !== view.natAddress) {
      this.count('natAddressMismatch');
      return;
    }
    const epoch = view.epoch();
    if (this.epochs.isDead(address, epoch)) {
      this.count('supersededEpoch');
      return;
    }
    const cookie = this.deps.cookies.cookieFor(address, epoch);
    if (!this.limits.hello(address, view.cookie() === cookie)) {
      this.count('helloRateLimited');
      return;
    }
    const reply = helloAck({ epoch, cookie, key }, view.sequence, this.deps.options.authoritative, WINDOW, this.deps.options.capabilities());
    this.deps.send(reply, port, address, via, cookie);
    this.count('helloAcksSent');
    // A HELLO that already carries our cookie starts the epoch (handoff-v1 section 6.2).
    if (view.cookieHigh !== 0 || view.cookieLow !== 0) this.authenticatedPeer(address, port, key, true, via);
  }

  /**
   * The peer of the datagram in `this.view` when its cookie is ours, creating it (a new epoch)
   * when `mayStart`; undefined, counted, otherwise.
   */
  private authenticatedPeer(address: string, port: number, key: Uint8Array | undefined, mayStart: boolean, via: Via): GatewayPeer | undefined {
    const view = this.view;
    const epoch = view.epoch();
    if (!this.deps.cookies.verify(address, epoch, view.cookie())) {
      this.count('badCookie');
      return undefined;
    }
    let peer = this.peers.get(address, epoch);
    if (!peer) {
      if (this.epochs.isDead(address, epoch)) {
        this.count('supersededEpoch');
        return undefined;
      }
      if (!mayStart) return undefined;
      const natAddress = parseIpv4(address);
      if (natAddress < 0) {
        // Gateways send from their NAT IPv4 address (handoff-v1 section 4).
        this.count('natAddressMismatch');
        return undefined;
      }
      // A new epoch of a known address takes the place of the old one.
      if (this.peers.size >= this.peers.limit && !this.peers.newestOf(address)) {
        this.count('peersFull');
        return undefined;
      }
      peer = new GatewayPeer(address, natAddress, epoch, view.cookie(), key, 0, 0, true);
      for (const record of this.epochs.start(address, epoch)) this.pipeline.storeRecord(record);
      const superseded = this.peers.add(peer);
      if (superseded) this.pipeline.removeRecord(removalRecord(superseded));
      this.pipeline.initialize(peer);
      this.schedule();
    }
    peer.port = port;
    peer.via = via;
    peer.key = key;
    return peer;
  }

  private onReliable(buf: Buffer, address: string, port: number, key: Uint8Array | undefined, via: Via): void {
    if (this.pipeline.backlog >= MAX_PENDING_OPERATIONS) {
      this.count('backlogFull');
      return;
    }
    const peer = this.authenticatedPeer(address, port, key, true, via);
    if (!peer) return;
    const sequence = this.view.sequence;
    switch (classifySequence(peer.pendingCumulative, sequence, WINDOW)) {
      case 'duplicate':
        this.count('duplicates');
        this.pipeline.acknowledge(peer);
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
    }
  }

  /** Queues the entries of the next reliable message of `peer` for a commit. */
  private applyMessage(peer: GatewayPeer, view: DatagramView, buf: Buffer): void {
    const create = view.type === MessageType.CREATED;
    const entry = this.entry;
    const operations: ConnOperation[] = [];
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
      operations.push(create ? { op: 'create', entry: conn } : { op: 'delete', entry: conn, reason: 'gateway' });
    }
    peer.pendingCumulative = view.sequence;
    this.pipeline.enqueue({ peer, sequence: view.sequence, operations, receivedAt: this.deps.clock() });
    this.count('reliableApplied');
    this.schedule();
  }

  /**
   * The gateway epoch a Geneve data packet from `address` belongs to: the newest epoch of that
   * address that completed the HELLO exchange, provided the packet's VNI is that epoch's (the low 24
   * bits of its cookie, geneve-options section 5), which ties data packets to the exchange.
   */
  geneveSender(address: string, vni: number): GatewayPeer | undefined {
    const peer = this.peers.newestOf(address.startsWith('::ffff:') ? address.slice(7) : address);
    return peer && !peer.initializing && geneveVni(peer.cookie) === vni ? peer : undefined;
  }

  /**
   * A mapping event carried by a Geneve option (geneve-options section 3.3): Created or Refresh of
   * an incarnation newer than what the table and its tombstones hold creates or replaces the entry,
   * one it already holds is refreshed, an older one is stale; Deleted removes the incarnation it
   * names and leaves a tombstone. Changes are committed like reliable messages, without ACKs.
   */
  mappingEvent(peer: GatewayPeer, event: number, entry: ConnEntry): void {
    if (entry.natAddress !== peer.natAddress || checkEntry(entry) !== undefined) {
      this.count('entriesRejected');
      return;
    }
    const key = connKey(entry.protocol, entry.natAddress, entry.natPort);
    const held = this.deps.table.get(key);
    const time = entry.createdAt;
    if ((held && held.createdAt > time) || (this.tombstones.get(key) ?? -1) >= time) {
      this.count('staleMappingEvents');
      return;
    }
    if (event === MappingEvent.DELETED) {
      // It ends this incarnation, and an older one still held was replaced by it at the gateway.
      // Deletions name the incarnation by its client, which may still be queued for a commit.
      this.rememberTombstone(key, time);
      const operations: ConnOperation[] = [{ op: 'delete', entry, reason: 'gateway' }];
      if (held && !sameClient(held, entry)) operations.push({ op: 'delete', entry: held, reason: 'gateway' });
      this.pipeline.enqueue({ peer: null, sequence: 0, operations });
    } else if (held && held.createdAt === time && sameClient(held, entry)) {
      this.deps.table.touch(key);
      return;
    } else {
      if (this.pipeline.pendingCreate(key, time)) return;
      this.pipeline.enqueue({ peer: null, sequence: 0, operations: [{ op: 'create', entry }] });
    }
    this.count('mappingEvents');
    this.schedule();
  }

  private rememberTombstone(key: number, time: number): void {
    this.tombstones.delete(key);
    this.tombstones.set(key, time);
    if (this.tombstones.size > MAX_TOMBSTONES) this.tombstones.delete(this.tombstones.keys().next().value!);
  }

  private onQuery(address: string, port: number, key: Uint8Array | undefined, via: Via): void {
    const peer = this.authenticatedPeer(address, port, key, true, via);
    if (!peer) return;
    if (!this.limits.query(address)) {
      this.count('queryRateLimited');
      return;
    }
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
    this.deps.send(answer(context, view.sequence, outcome), port, address, via, peer.cookie);
    this.count('queriesAnswered');
  }

  private onAck(buf: Buffer, address: string, port: number, via: Via): void {
    const view = this.view;
    if (!this.deps.cookies.verify(address, view.epoch(), view.cookie())) {
      this.count('badCookie');
      return;
    }
    const peer = this.peers.get(address, view.epoch());
    if (!peer) {
      if (this.epochs.isDead(address, view.epoch())) this.count('supersededEpoch');
      return;
    }
    peer.port = port;
    peer.via = via;
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

  /** Starts the commits that are due; resolves when every commit started so far has finished. */
  flush(): Promise<void> {
    this.flushScheduled = false;
    if (this.recovering) return this.recovering;
    this.pipeline.pump();
    return this.pipeline.settle();
  }

  /**
   * A commit failed: nothing of it is acknowledged, and everything queued behind it is dropped, so
   * gateways retransmit from their last acknowledged message. When the table undid the batch itself
   * (a synchronous store), only the gateways' progress goes back; when a background commit failed,
   * memory is ahead of the disk, so the table and every gateway's progress are reloaded from what
   * the store durably holds.
   */
  private storeFailed(error: unknown, _peers: ReadonlySet<GatewayPeer>, initialized: readonly GatewayPeer[]): void {
    this.count('storeFailures');
    this.deps.logger.error({ err: error, code: error instanceof StoreError ? error.code : undefined }, 'store commit failed; nothing acknowledged, gateways will retransmit');
    this.pipeline.reset();
    if (this.deps.table.failure) {
      this.recovering ??= this.recover().finally(() => {
        this.recovering = undefined;
      });
      return;
    }
    for (const peer of initialized) this.peers.remove(peer);
    for (const peer of this.peers.values()) peer.pendingCumulative = peer.cumulative;
  }

  private async recover(): Promise<void> {
    await this.pipeline.settle();
    this.pipeline.reset();
    try {
      await this.deps.table.recover();
      this.peers.clear();
      this.releasing.clear();
      this.epochs.load(this.deps.table.listSide(EPOCH_SIDE_PREFIX));
      this.restorePeers(parseStoredPeers(this.deps.table.listSide(PEER_SIDE_PREFIX)));
      this.deps.logger.warn({ entries: this.deps.table.size }, 'reloaded the table from the store after a failed commit');
    } catch (recoveryError) {
      this.deps.logger.error({ err: recoveryError }, 'cannot reload the table from the store; retrying at the next tick');
    }
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
    this.releasing.add(peer);
  }

  /**
   * Periodic work: retries a failed store, ends idle entries (at most `limit` per call, as a
   * commit of its own when nothing else is in flight), then sends and retransmits RELEASEs.
   * Called about once a second.
   */
  tick(limit = 10_000): void {
    if (this.recovering) return;
    if (this.deps.table.failure) {
      this.recovering = this.recover().finally(() => {
        this.recovering = undefined;
      });
      return;
    }
    this.pipeline.expireIdle(limit);
    this.serviceReleases();
  }

  /** Sends due RELEASE retransmissions and new RELEASEs the windows allow. */
  private serviceReleases(): void {
    const nowMs = this.deps.clock() / 1000;
    for (const peer of this.releasing) {
      if (peer.releases.pending === 0) {
        this.releasing.delete(peer);
        continue;
      }
      const outcome = peer.releases.service(nowMs, { epoch: peer.epoch, cookie: peer.cookie, key: peer.key }, (bytes) =>
        this.deps.send(bytes, peer.port, peer.address, peer.via, peer.cookie),
      );
      this.count('releasesSent', outcome.sent);
      this.count('releaseRetransmissions', outcome.retransmitted);
      this.count('releasesAbandoned', outcome.abandoned);
    }
  }

  /** At a clean stop, after settle(): stores that the log is complete, when it is (CommitPipeline.markLogged). */
  markLogged(): Promise<void> {
    return this.pipeline.markLogged();
  }

  /** Waits until every commit started so far has finished, and any reload after a failure. */
  async settle(): Promise<void> {
    await this.pipeline.settle();
    while (this.recovering) await this.recovering;
    await this.pipeline.settle();
  }

  private count(name: ReceiverCounterName, amount = 1): void {
    this.counterValues[this.index[name]]! += amount;
  }
}

/** The VNI of a gateway epoch's Geneve packets: the low 24 bits of the receiver's cookie. */
export function geneveVni(cookie: bigint): number {
  return Number(cookie & 0xffffffn);
}

function sameClient(a: ConnEntry, b: ConnEntry): boolean {
  if (a.clientPort !== b.clientPort) return false;
  for (let i = 0; i < 16; i++) if (a.clientAddress[i] !== b.clientAddress[i]) return false;
  return true;
}
