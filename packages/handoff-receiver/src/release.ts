// RELEASE: telling a gateway that this receiver ended entries by its own policy (idle, table
// full), so the gateway may drop them from its cache and reuse their ports toward this host.
// RELEASE is reliable (handoff-v1 section 6.3): numbered per epoch, at most RELEASE_WINDOW
// outstanding, retransmitted with a doubling timeout until the gateway's ACK covers it.
// Unacknowledged RELEASEs do not survive a restart; the gateway then simply keeps those entries
// in its cache until it evicts them itself.
import { EntryBatchWriter, MessageType, Reliability, maxDatagramLength, type HandoffEntry } from '@nat64/handoff-codec';
import { nextSequence } from './sequence.js';

/** Entries waiting for a RELEASE per gateway epoch, at most; older ones are dropped first. */
const MAX_QUEUED = 100_000;
/** Retransmissions after which a RELEASE is abandoned (the gateway is gone or deaf). */
const MAX_RETRANSMISSIONS = 8;
const MAX_DATAGRAM = maxDatagramLength(1500);

interface Outstanding {
  bytes: Buffer;
  sentAt: number;
  rtoMs: number;
  retransmissions: number;
}

export interface ReleaseSession {
  epoch: bigint;
  cookie: bigint;
  key: Uint8Array | undefined;
}

export interface ReleaseOutcome {
  sent: number;
  retransmitted: number;
  abandoned: number;
  dropped: number;
}

export class ReleaseQueue {
  /** Next reliable sequence number of this receiver's direction. */
  next = 1;
  private queued: HandoffEntry[] = [];
  private readonly outstanding = new Map<number, Outstanding>();
  private writer: EntryBatchWriter | undefined;

  get pending(): number {
    return this.queued.length + this.outstanding.size;
  }

  /** Queues an entry; returns how many old entries were dropped to stay bounded. */
  enqueue(entry: HandoffEntry): number {
    this.queued.push(entry);
    if (this.queued.length <= MAX_QUEUED) return 0;
    const excess = this.queued.length - MAX_QUEUED;
    this.queued = this.queued.slice(excess);
    return excess;
  }

  /** Removes what an ACK from the gateway covers; returns how many RELEASEs it acknowledged. */
  acknowledge(cumulative: number, blocks: ReadonlyArray<{ start: number; end: number }>): number {
    let acknowledged = 0;
    for (const sequence of [...this.outstanding.keys()]) {
      const covered = ((cumulative - sequence) | 0) >= 0 || blocks.some((block) => ((sequence - block.start) | 0) >= 0 && ((block.end - sequence) | 0) >= 0);
      if (covered && this.outstanding.delete(sequence)) acknowledged++;
    }
    return acknowledged;
  }

  /** Sends what is due at `nowMs`: retransmissions first, then new RELEASEs while the window allows. */
  service(nowMs: number, session: ReleaseSession, send: (bytes: Buffer) => void): ReleaseOutcome {
    const outcome: ReleaseOutcome = { sent: 0, retransmitted: 0, abandoned: 0, dropped: 0 };
    for (const [sequence, message] of this.outstanding) {
      if (nowMs < message.sentAt + message.rtoMs) continue;
      if (message.retransmissions >= MAX_RETRANSMISSIONS) {
        this.outstanding.delete(sequence);
        outcome.abandoned++;
        continue;
      }
      message.retransmissions++;
      message.sentAt = nowMs;
      message.rtoMs = Math.min(message.rtoMs * 2, Reliability.MAX_RTO_MS);
      send(message.bytes);
      outcome.retransmitted++;
    }
    while (this.queued.length > 0 && this.outstanding.size < Reliability.RELEASE_WINDOW) {
      const bytes = this.build(session);
      this.outstanding.set(this.next, { bytes, sentAt: nowMs, rtoMs: Reliability.INITIAL_RTO_MS, retransmissions: 0 });
      this.next = nextSequence(this.next);
      send(bytes);
      outcome.sent++;
    }
    return outcome;
  }

  private build(session: ReleaseSession): Buffer {
    this.writer ??= new EntryBatchWriter({ maxLength: MAX_DATAGRAM, ...(session.key ? { key: session.key } : {}) });
    this.writer.setSession(session.epoch, session.cookie);
    const buffer = Buffer.alloc(MAX_DATAGRAM);
    this.writer.begin(buffer, 0, MessageType.RELEASE, this.next);
    let taken = 0;
    while (taken < this.queued.length && this.writer.append(this.queued[taken]!)) taken++;
    this.queued = this.queued.slice(taken);
    return buffer.subarray(0, this.writer.finish());
  }
}
