// The gateway as receiver of reliable messages: RELEASE from one peer (§6.3, "Receiver of reliable
// messages"). It keeps the cumulative number N, holds copies of messages above a gap until the gap
// fills (effects take place in sequence order), and describes what it holds as ACK blocks.
import { MAX_ACK_BLOCKS, type AckBlock } from '@nat64/handoff-codec';
import type { ValueOf } from '@nat64/wire';

export const ReleaseVerdict = {
  /** s = N + 1: apply now. */
  NEXT: 0,
  /** s <= N, or held already: acknowledge again, apply nothing. */
  DUPLICATE: 1,
  /** N + 1 < s <= N + W: hold until the gap fills. */
  AHEAD: 2,
  /** s > N + W: drop without acknowledgement. */
  BEYOND_WINDOW: 3,
} as const;
export type ReleaseVerdict = ValueOf<typeof ReleaseVerdict>;

export class ReleaseWindow {
  /** Every RELEASE up to this sequence number is applied. */
  cumulative = 0;
  private held: Map<number, Uint8Array> | null = null;
  private readonly sorted: number[] = [];

  constructor(private readonly window: number) {}

  classify(sequence: number): ReleaseVerdict {
    const distance = (sequence - this.cumulative) | 0;
    if (distance <= 0) return ReleaseVerdict.DUPLICATE;
    if (distance === 1) return ReleaseVerdict.NEXT;
    if (distance > this.window) return ReleaseVerdict.BEYOND_WINDOW;
    return this.held?.has(sequence) ? ReleaseVerdict.DUPLICATE : ReleaseVerdict.AHEAD;
  }

  /** Keeps a copy of a datagram classified AHEAD (the caller's buffer is reused after the call). */
  hold(sequence: number, datagram: Uint8Array): void {
    this.held ??= new Map();
    this.held.set(sequence, datagram.slice());
  }

  /** Forgets everything: the next RELEASE expected is sequence 1 of a new epoch. */
  reset(): void {
    this.cumulative = 0;
    this.held?.clear();
  }

  /** Records that the next message was applied. */
  advance(): void {
    this.cumulative = (this.cumulative + 1) >>> 0;
  }

  /** The held datagram that is now next in order, removed from the held set. */
  takeNext(): Uint8Array | undefined {
    const held = this.held;
    if (held === null || held.size === 0) return undefined;
    const next = (this.cumulative + 1) >>> 0;
    const datagram = held.get(next);
    if (datagram !== undefined) held.delete(next);
    return datagram;
  }

  /** Fills `blocks` with the held sequence numbers as ranges in ascending serial order (§5.7); returns how many. */
  fillBlocks(blocks: AckBlock[]): number {
    const held = this.held;
    if (held === null || held.size === 0) return 0;
    const sorted = this.sorted;
    sorted.length = 0;
    for (const sequence of held.keys()) sorted.push((sequence - this.cumulative) | 0);
    sorted.sort(ascending);
    let count = 0;
    for (let i = 0; i < sorted.length && count < MAX_ACK_BLOCKS; ) {
      const start = sorted[i]!;
      let end = start;
      while (i + 1 < sorted.length && sorted[i + 1] === end + 1) end = sorted[++i]!;
      i++;
      const block = blocks[count]!;
      block.start = (this.cumulative + start) >>> 0;
      block.end = (this.cumulative + end) >>> 0;
      count++;
    }
    return count;
  }
}

function ascending(a: number, b: number): number {
  return a - b;
}
