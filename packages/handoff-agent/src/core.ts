// The agent's shared state: options, counters, peers, timers, the message pool, scratch buffers and
// the reused objects that reports are made of. The handlers (hello.ts, outbound.ts, inbound.ts,
// queries.ts) are plain functions over it; HandoffAgent (agent.ts) is its public face.
import { randomFillSync } from 'node:crypto';
import {
  DatagramView,
  HANDOFF_VERSION,
  createEntry,
  datagram,
  maxDatagramLength,
  signDatagram,
  type HandoffEntry,
  type HandoffMessage,
  type MessageHeader,
} from '@nat64/handoff-codec';
import { Counters } from '@nat64/service';
import { AckedMessage, type AckedEntries } from './acked.js';
import type { PeerState, QueryOutcome } from './constants.js';
import { AGENT_COUNTERS, type AgentCounterName } from './counters.js';
import { DeadlineHeap } from './deadline-heap.js';
import { LinkedList } from './linked-list.js';
import { MessagePool } from './message.js';
import type { ResolvedOptions } from './options.js';
import type { Peer } from './peer.js';
import { PeerTable } from './peer-table.js';
import { TokenBucket } from './token-bucket.js';

/** Largest control datagram the agent sends: an ACK with 16 blocks and a tag (§5.11), 180 octets. */
const SCRATCH_BYTES = 256;

/** Random request identifiers (§6.2, §6.5) from the system's strong source, drawn 256 at a time. */
class RandomIds {
  private readonly pool = new Uint32Array(256);
  private at = this.pool.length;

  next(): number {
    if (this.at === this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    return this.pool[this.at++]!;
  }
}

/** The header fields of a message object reused for every send; epoch, cookie and sequence are set per send. */
export function reusedHeader(): MessageHeader {
  return { version: HANDOFF_VERSION, flags: 0, epoch: 0n, cookie: 0n, sequence: 0 };
}

/**
 * The entries handed to one event call, without allocating per call: entry objects are recycled, and
 * the array of each length is made once and refilled (a list emptied and pushed again would
 * reallocate its backing store every time).
 */
export class EntryReport {
  private readonly slots: HandoffEntry[] = [];
  private readonly lists: HandoffEntry[][] = [];
  private filled = 0;

  /** Starts a report. */
  clear(): void {
    this.filled = 0;
  }

  /** The entry object to fill next; add() keeps it in the report. */
  slot(): HandoffEntry {
    const at = this.filled;
    while (this.slots.length <= at) this.slots.push(createEntry());
    return this.slots[at]!;
  }

  /** Keeps the entry slot() returned last. */
  add(): void {
    this.filled++;
  }

  get length(): number {
    return this.filled;
  }

  /** The entries kept, as an array of exactly that length. */
  list(): readonly HandoffEntry[] {
    const count = this.filled;
    let list = this.lists[count];
    if (list === undefined) {
      list = new Array<HandoffEntry>(count);
      this.lists[count] = list;
    }
    for (let i = 0; i < count; i++) list[i] = this.slots[i]!;
    return list;
  }
}

export class AgentCore {
  readonly counters: Counters<AgentCounterName> = new Counters(AGENT_COUNTERS);
  readonly values: Float64Array = this.counters.values;
  readonly index: Readonly<Record<AgentCounterName, number>> = this.counters.index;
  readonly pool: MessagePool;
  readonly peers: PeerTable;
  /** Peers by their earliest timer (HELLO, retransmission, query). */
  readonly timers = new DeadlineHeap<Peer>();
  /** Peers with an open datagram, in the order the datagrams opened. */
  readonly opened = new LinkedList<Peer>();
  readonly view = new DatagramView();
  readonly heldView = new DatagramView();
  readonly scratch = new Uint8Array(SCRATCH_BYTES);
  readonly ids = new RandomIds();
  readonly unreliableBucket: TokenBucket;
  readonly helloBucket: TokenBucket;
  readonly acked = new AckedMessage();
  readonly releaseReport = new EntryReport();
  readonly answerEntry: HandoffEntry = createEntry();
  /** Entries queued toward every peer. */
  queuedEntries = 0;
  /** Queries outstanding toward every peer. */
  queries = 0;
  /** Fire-and-forget datagrams open (taking entries) toward every peer. */
  looseOpen = 0;

  constructor(readonly options: ResolvedOptions) {
    const now = options.clock();
    this.pool = new MessagePool(maxDatagramLength(options.mtu), options.key);
    this.peers = new PeerTable(options.maxPeers);
    this.unreliableBucket = new TokenBucket(options.unreliableTotal, now);
    this.helloBucket = new TokenBucket(options.helloTotal, now);
  }

  count(name: AgentCounterName, amount = 1): void {
    this.values[this.index[name]]! += amount;
  }

  /** Puts the peer in the timer heap at its earliest timer. */
  reschedule(peer: Peer): void {
    const deadline = Math.min(peer.helloAt, peer.stream.rtxAt, peer.queryAt);
    if (deadline === peer.deadline && (peer.heapIndex >= 0 || deadline === Infinity)) return;
    peer.deadline = deadline;
    this.timers.update(peer);
  }

  /** Encodes `message` into the scratch buffer, with its tag when a key is configured, and sends it to the peer. */
  sendMessage(peer: Peer, message: HandoffMessage): void {
    const scratch = this.scratch;
    let end = datagram.encode(message, scratch, 0);
    if (this.options.key !== undefined) end = signDatagram(scratch, 0, end, this.options.key);
    this.send(peer, scratch.subarray(0, end));
  }

  send(peer: Peer, payload: Uint8Array): void {
    try {
      this.options.send(peer.natAddress, peer.host, payload);
    } catch (error) {
      this.count('sendErrors');
      this.options.onError?.(error);
    }
  }

  peerUp(peer: Peer, state: PeerState): void {
    this.emit(this.options.events.onPeerUp, peer.natAddress, peer.host, state);
  }

  peerDown(peer: Peer, state: PeerState): void {
    this.emit(this.options.events.onPeerDown, peer.natAddress, peer.host, state);
  }

  handedOff(peer: Peer, acked: AckedEntries): void {
    this.emit(this.options.events.onHandedOff, peer.natAddress, peer.host, acked);
  }

  released(peer: Peer, entries: readonly HandoffEntry[]): void {
    this.emit(this.options.events.onRelease, peer.natAddress, peer.host, entries);
  }

  answer(token: number, outcome: QueryOutcome, entry: HandoffEntry | null): void {
    this.emit(this.options.events.onAnswer, token, outcome, entry);
  }

  /** Calls an event handler, if one is set; what it throws is counted and reported, never passed on. */
  private emit<A, B, C, D>(handler: ((a: A, b: B, c: C, d: D) => void) | undefined, a: A, b: B, c: C, d?: D): void {
    if (handler === undefined) return;
    try {
      handler(a, b, c, d!);
    } catch (error) {
      this.eventFailed(error);
    }
  }

  private eventFailed(error: unknown): void {
    this.count('eventErrors');
    this.options.onError?.(error);
  }
}
