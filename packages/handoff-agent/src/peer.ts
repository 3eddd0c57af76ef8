// Everything the agent keeps about one peer, a (NAT address A, IPv4 host H) pair: state, epoch and
// cookie, the reliable stream toward it, the RELEASEs from it, its HELLO timer and its queries.
// Plain fields, allocated once per peer; the handlers in hello.ts, outbound.ts, inbound.ts and
// queries.ts work on them.
import { HELLO_IDS_KEPT, PeerState } from './constants.js';
import type { Scheduled } from './deadline-heap.js';
import { ListNode } from './linked-list.js';
import type { Message, Session } from './message.js';
import type { PeerQueries } from './queries.js';
import { ReleaseWindow } from './release-window.js';
import { ReliableStream } from './reliable.js';
import { RtoEstimator } from './rto.js';
import { TokenBucket } from './token-bucket.js';
import type { ResolvedOptions } from './options.js';

export class Peer implements Scheduled, Session {
  state: PeerState = PeerState.UNKNOWN;

  // Epoch and cookie as bigints for the codec's encoder, and as 32-bit halves for the datagrams
  // built in place and for comparing received headers without bigint arithmetic.
  epoch = 0n;
  epochHigh = 0;
  epochLow = 0;
  cookie = 0n;
  cookieHigh = 0;
  cookieLow = 0;
  cookieKnown = false;

  /** The peer answered in this epoch: a reliable stream exists. Such a peer is never evicted. */
  streaming = false;
  readonly stream = new ReliableStream();
  readonly rto: RtoEstimator;

  /** The datagram taking entries (reliable: also the newest message of the stream). */
  open: Message | null = null;
  openedAt = 0;
  /** The open datagram is past its delay but the window is full: it goes when the window opens. */
  openBlocked = false;
  /** Membership of the agent's list of peers with an open datagram, oldest first. */
  readonly openNode = new ListNode<Peer>(this);
  /** Membership of the eviction list: peers that never answered, least recently used first. */
  readonly idleNode = new ListNode<Peer>(this);
  readonly bucket: TokenBucket;

  // HELLO (§6.2): when the next one is due, the delay after it, and the request identifiers of the
  // outstanding ones with whether each carried the cookie.
  helloAt = 0;
  helloDelay: number;
  /** HELLOs of the current probe sent without an answer. */
  helloAttempts = 0;
  /** An answering peer is being asked whether it still answers (keepalive, retries, unreachable). */
  probing = false;
  /** The probe sends Cookie 0 (repeat of the exchange after retries, §6.2). */
  probeWithoutCookie = false;
  /** An ICMP port unreachable arrived since the last HELLO-ACK. */
  unreachableSeen = false;
  /** The fire-and-forget datagram open when the peer became port-closed: it still leaves, once. */
  openWhenClosed: Message | null = null;
  /** Request identifiers as int32 (small integers to V8, never boxed), and a bit per slot: sent with the cookie. */
  readonly helloIds: number[] = new Array<number>(HELLO_IDS_KEPT).fill(0);
  helloIdsWithCookie = 0;
  helloIdCount = 0;
  helloIdNext = 0;
  /** Set by retransmission when a message reached RETRIES_BEFORE_HELLO; served by the scheduler. */
  repeatHelloDue = false;
  /** Set by retransmission when Appendix B recovery is due; served by the scheduler. */
  newEpochDue = false;

  readonly releases: ReleaseWindow;
  queries: PeerQueries | null = null;
  queryAt = Infinity;

  lastHeardAt = -1;
  /** Capabilities of the last accepted HELLO-ACK (§5.4); -1 before the first. */
  capabilities = -1;
  /** Entries reported handed off to this peer. */
  handedOff = 0;

  deadline = Infinity;
  heapIndex = -1;

  constructor(
    readonly natAddress: number,
    readonly host: number,
    epoch: bigint,
    options: ResolvedOptions,
    now: number,
  ) {
    this.rto = new RtoEstimator(options.initialRtoMs, options.minRtoMs, options.maxRtoMs);
    this.bucket = new TokenBucket(options.unreliablePerPeer, now);
    this.releases = new ReleaseWindow(options.releaseWindow);
    this.helloDelay = options.helloRetryMs;
    this.setEpoch(epoch);
  }

  /** Answers as a receiver: acknowledging or authoritative. */
  get up(): boolean {
    return this.state >= PeerState.ACKNOWLEDGING;
  }

  setEpoch(epoch: bigint): void {
    this.epoch = epoch;
    this.epochHigh = Number(epoch >> 32n);
    this.epochLow = Number(epoch & 0xffff_ffffn);
  }

  setCookie(high: number, low: number): void {
    this.cookieHigh = high;
    this.cookieLow = low;
    this.cookie = (BigInt(high) << 32n) | BigInt(low);
    this.cookieKnown = true;
  }

  forgetCookie(): void {
    this.cookieKnown = false;
    this.cookie = 0n;
    this.cookieHigh = 0;
    this.cookieLow = 0;
  }

  /** Remembers the request identifier of a HELLO just sent; the oldest is forgotten past HELLO_IDS_KEPT. */
  rememberHello(id: number, hadCookie: boolean): void {
    const at = this.helloIdNext;
    this.helloIds[at] = id | 0;
    if (hadCookie) this.helloIdsWithCookie |= 1 << at;
    else this.helloIdsWithCookie &= ~(1 << at);
    this.helloIdNext = (at + 1) % HELLO_IDS_KEPT;
    if (this.helloIdCount < HELLO_IDS_KEPT) this.helloIdCount++;
  }

  /** Whether the HELLO in this slot carried the cookie. */
  helloHadCookie(slot: number): boolean {
    return (this.helloIdsWithCookie & (1 << slot)) !== 0;
  }

  /** The slot of an outstanding HELLO with this request identifier, or -1. */
  findHello(id: number): number {
    const wanted = id | 0;
    for (let i = 0; i < this.helloIdCount; i++) if (this.helloIds[i] === wanted) return i;
    return -1;
  }

  forgetHellos(): void {
    this.helloIdCount = 0;
    this.helloIdNext = 0;
  }
}
