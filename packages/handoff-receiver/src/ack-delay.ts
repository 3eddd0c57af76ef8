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
import type { GatewayPeer } from './peers.js';

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
}

export class AckDelay {
  private readonly held = new Map<GatewayPeer, HeldAck>();
  private cancelTimer: (() => void) | undefined;

  constructor(
    private delayMs: number,
    private readonly sendAck: (peer: GatewayPeer, cumulative: number) => void,
    private readonly startTimer: StartTimer = unrefTimer,
  ) {}

  /**
   * Everything `peer` sent up to `cumulative` is durable and logged; `previous` is what its last
   * ACK carried, or would have (the cumulative number before this commit).
   */
  acknowledge(peer: GatewayPeer, cumulative: number, previous: number): void {
    const held = this.held.get(peer);
    const sent = held ? held.sent : previous;
    if (this.delayMs === 0 || (cumulative - sent) >>> 0 >= ACK_AT_ONCE_MESSAGES) {
      if (held) this.held.delete(peer);
      this.sendAck(peer, cumulative);
      return;
    }
    if (held) held.cumulative = cumulative;
    else this.held.set(peer, { sent, cumulative });
    this.cancelTimer ??= this.startTimer(this.delayMs, () => {
      this.cancelTimer = undefined;
      this.sendHeld();
    });
  }

  /** A gateway asked again (a duplicate): its ACK, with `cumulative`, leaves now. */
  acknowledgeAgain(peer: GatewayPeer, cumulative: number): void {
    this.held.delete(peer);
    this.sendAck(peer, cumulative);
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
    for (const [peer, ack] of held) this.sendAck(peer, ack.cumulative);
  }
}
