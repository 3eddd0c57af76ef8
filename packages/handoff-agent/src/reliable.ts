// The gateway's direction of reliable delivery toward one peer (§6.3): the messages from the oldest
// unacknowledged one to the newest, in sequence order, and what an ACK does to them. Sequence
// numbers are 32-bit and compared serially (RFC 1982), so an epoch may wrap.
//
//   base ........ sendNext ........ next
//   | sent, unacknowledged | queued  |      (the last queued one may still be open)
//
// The window bounds the span sendNext - base, not just the count of unacknowledged messages: the
// receiver accepts sequence numbers up to its cumulative number plus the window, and its
// cumulative number is at least base - 1, so a span within the window is always accepted.
import type { Message } from './message.js';
import { Ring } from './ring.js';

export class ReliableStream {
  /** Oldest unacknowledged sequence number. */
  base = 1;
  /** First sequence number never sent. */
  sendNext = 1;
  /** Sequence number of the next message to begin. */
  next = 1;
  /** Window learned from HELLO-ACK (at least 1, at most maxWindow). */
  window = 1;
  /** Entries in messages not yet sent, the open one included. */
  queuedEntries = 0;
  /** Earliest retransmission deadline of a sent, unacknowledged message; Infinity when none. ACKs keep it exact, so the timer does not fire for what was acknowledged. */
  rtxAt = Infinity;
  /** sentAt of the most recently sent, never retransmitted message that the last acknowledge() covered; -1 if none. */
  sampleSentAt = -1;
  /** After a HELLO exchange repeated for lack of ACKs: the oldest message then and its retransmissions (Appendix B). */
  armedSequence = -1;
  armedRetransmissions = 0;

  private readonly messages = new Ring<Message>();

  /** Messages sent and not yet acknowledged in order (some above a gap may be). */
  get inFlight(): number {
    return (this.sendNext - this.base) >>> 0;
  }

  /** Messages begun and not yet sent. */
  get queuedMessages(): number {
    return (this.next - this.sendNext) >>> 0;
  }

  /** A queued message is waiting and the window has room for it. */
  get canSend(): boolean {
    return this.sendNext !== this.next && this.inFlight < this.window;
  }

  /** The message with this sequence number, if it is still held. */
  at(sequence: number): Message | undefined {
    return this.messages.at((sequence - this.base) >>> 0);
  }

  /** The oldest unacknowledged message. */
  get oldest(): Message | undefined {
    return this.messages.at(0);
  }

  /** Adds a begun message; it takes the next sequence number. */
  push(message: Message): void {
    this.messages.push(message);
    this.next = (this.next + 1) >>> 0;
  }

  /** Takes back the newest message, which was begun but got no entry. */
  unpush(): Message | undefined {
    if (this.next === this.sendNext) return undefined;
    this.next = (this.next - 1) >>> 0;
    return this.messages.pop();
  }

  /**
   * Applies an ACK's Cumulative (§5.7). Returns false when it acknowledges numbers never sent
   * (ignored, §6.3); an old Cumulative below base is simply nothing new.
   */
  acknowledgeCumulative(cumulative: number): boolean {
    const covered = (cumulative - this.base + 1) | 0;
    if (covered > this.inFlight) return false;
    if (covered > 0) this.mark(0, covered);
    return true;
  }

  /**
   * Applies one ACK block [start, end] after checking the rules of §6.3 against the Cumulative and
   * the previous accepted block's end: false (ignored) when it breaks them or covers numbers never sent.
   */
  acknowledgeBlock(start: number, end: number, cumulative: number, previousEnd: number): boolean {
    if (((end - start) | 0) < 0) return false;
    if (((start - cumulative) | 0) <= 1) return false;
    if (((start - previousEnd) | 0) <= 1) return false;
    if (((end - this.sendNext) | 0) >= 0) return false;
    const from = Math.max(0, (start - this.base) | 0);
    const to = ((end - this.base) | 0) + 1;
    if (to > from) this.mark(from, to);
    return true;
  }

  /** The earliest retransmission deadline of the sent, unacknowledged messages; Infinity when none. O(in flight). */
  earliestDeadline(): number {
    let earliest = Infinity;
    for (let sequence = this.base; sequence !== this.sendNext; sequence = (sequence + 1) >>> 0) {
      const deadline = this.at(sequence)!.deadline;
      if (deadline < earliest) earliest = deadline;
    }
    return earliest;
  }

  /** Removes the oldest message if it is acknowledged, moving base past it. */
  shiftAcknowledged(): Message | undefined {
    const oldest = this.messages.at(0);
    if (oldest === undefined || !oldest.acked || this.base === this.sendNext) return undefined;
    this.messages.shift();
    this.base = (this.base + 1) >>> 0;
    return oldest;
  }

  /** Removes every message (a new epoch), oldest first; the caller recycles them. */
  shiftAny(): Message | undefined {
    return this.messages.shift();
  }

  /** Starts over at sequence 1 (a new epoch, §6.3). The messages must have been taken out. */
  restart(): void {
    this.base = 1;
    this.sendNext = 1;
    this.next = 1;
    this.queuedEntries = 0;
    this.rtxAt = Infinity;
    this.armedSequence = -1;
    this.armedRetransmissions = 0;
  }

  private mark(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const message = this.messages.at(i)!;
      if (message.acked) continue;
      message.acked = true;
      message.deadline = Infinity;
      if (message.retransmissions === 0 && message.firstSentAt > this.sampleSentAt) this.sampleSentAt = message.firstSentAt;
    }
  }
}
