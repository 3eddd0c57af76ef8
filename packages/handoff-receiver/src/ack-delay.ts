// Delayed ACKs (handoff-v1 section 6.3: a receiver "MAY wait a few milliseconds to acknowledge
// several messages with one ACK"). The commit pipeline hands over each gateway's new cumulative
// number once it is durable and logged; here it leaves at once, or waits at most `delayMs` so that
// the commits of those milliseconds share one ACK. Every ACK arriving at a gateway wakes it, so under
// a steady stream of new sessions this takes most of those wake-ups away.
//
// An ACK leaves at once when the delay is 0, when a gateway asks again (a duplicate: it is waiting
// on its retransmission timer), and when the messages it would cover reach ACK_AT_ONCE_MESSAGES,
// so that a gateway with a small window is not held back for the delay. Nothing here acknowledges
// anything the pipeline has not made durable: it only ever sends later, never earlier.
//
// A held ACK also leaves early when its gateway sends another datagram (from any of its NAT
// addresses: the same epoch) after the ACK has waited half the delay. The gateway is awake then, so
// the ACK arrives while it works instead of waking it on its own; under new sessions arriving in
// bursts, a burst's datagrams carry away the ACKs of the one before. Half the delay keeps the ACKs
// toward a busy gateway as few as before: at most one per peer per half delay.
import type { GatewayPeer } from './peers.js';

/** What the delay needs of a peer: which gateway (epoch) it belongs to; peers are told apart by identity. */
export interface AckPeer {
  readonly epoch: bigint;
}

/** Messages one held ACK covers at most; the next one sends it at once (half of the smallest window we expect a gateway to use, 32). */
export const ACK_AT_ONCE_MESSAGES = 16;
/** The delay a receiver uses unless told otherwise (the app's `ackDelay`): the engine's own default is 0, no delay. */
export const DEFAULT_ACK_DELAY_MS = 4;
/** Longest delay accepted: well inside the 200 ms lowest retransmission timeout of nat64-gateway. */
export const MAX_ACK_DELAY_MS = 100;

/** Starts a one-shot timer; returns its cancel function. */
export type StartTimer = (ms: number, fire: () => void) => () => void;

/** The default StartTimer: a setTimeout that does not keep the process alive. */
const unrefTimer: StartTimer = (ms, fire) => {
  const timer = setTimeout(fire, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

interface HeldAck {
  /** The cumulative number the last ACK sent to this peer carried. */
  sent: number;
  /** The cumulative number to send. */
  cumulative: number;
  /** When it began to wait, in ms of `now`. */
  since: number;
}

export class AckDelay<P extends AckPeer = GatewayPeer> {
  private readonly held = new Map<P, HeldAck>();
  /** The peers in `held` by gateway (epoch), for gatewayAwake(). */
  private readonly heldByEpoch = new Map<bigint, Set<P>>();
  private cancelTimer: (() => void) | undefined;

  constructor(
    private delayMs: number,
    private readonly sendAck: (peer: P, cumulative: number) => void,
    private readonly startTimer: StartTimer = unrefTimer,
    /** Milliseconds, for how long an ACK has waited. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Everything `peer` sent up to `cumulative` is durable and logged; `previous` is what its last
   * ACK carried, or would have (the cumulative number before this commit).
   */
  acknowledge(peer: P, cumulative: number, previous: number): void {
    const held = this.held.get(peer);
    const sent = held ? held.sent : previous;
    if (this.delayMs === 0 || (cumulative - sent) >>> 0 >= ACK_AT_ONCE_MESSAGES) {
      if (held) this.release(peer);
      this.sendAck(peer, cumulative);
      return;
    }
    if (held) {
      held.cumulative = cumulative;
    } else {
      this.held.set(peer, { sent, cumulative, since: this.now() });
      let peers = this.heldByEpoch.get(peer.epoch);
      if (peers === undefined) {
        peers = new Set();
        this.heldByEpoch.set(peer.epoch, peers);
      }
      peers.add(peer);
    }
    this.cancelTimer ??= this.startTimer(this.delayMs, () => {
      this.cancelTimer = undefined;
      this.sendHeld();
    });
  }

  /** A gateway asked again (a duplicate): its ACK, with `cumulative`, leaves now. */
  acknowledgeAgain(peer: P, cumulative: number): void {
    if (this.held.has(peer)) this.release(peer);
    this.sendAck(peer, cumulative);
  }

  /**
   * The gateway of `epoch` sent a datagram: its ACKs that have waited half the delay leave now, while
   * it is awake (file comment).
   */
  gatewayAwake(epoch: bigint): void {
    const peers = this.heldByEpoch.get(epoch);
    if (peers === undefined) return;
    const waited = this.now() - this.delayMs / 2;
    for (const peer of peers) {
      const held = this.held.get(peer)!;
      if (held.since > waited) continue;
      this.release(peer);
      this.sendAck(peer, held.cumulative);
    }
    if (this.held.size === 0) {
      this.cancelTimer?.();
      this.cancelTimer = undefined;
    }
  }

  /** Sends every held ACK now and, from then on, every ACK at once (a stopping receiver). */
  stop(): void {
    this.delayMs = 0;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.sendHeld();
  }

  private sendHeld(): void {
    const held = [...this.held];
    this.held.clear();
    this.heldByEpoch.clear();
    for (const [peer, ack] of held) this.sendAck(peer, ack.cumulative);
  }

  /** Forgets the ACK held for `peer`, which has one. */
  private release(peer: P): void {
    this.held.delete(peer);
    const peers = this.heldByEpoch.get(peer.epoch)!;
    peers.delete(peer);
    if (peers.size === 0) this.heldByEpoch.delete(peer.epoch);
  }
}
