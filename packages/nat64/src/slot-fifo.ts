// What the fixed-capacity stores (the held-SYN store, the fragment tracker) keep their slots in: an
// age order of the slots in use, linked through two Int32Arrays (append at the tail, unlink from
// anywhere, both O(1); the oldest at the head), and hash chains with a free list through one `next`
// link per slot.

export class SlotFifo {
  /** The oldest slot, -1 when empty. */
  head = -1;
  /** The newest slot, -1 when empty. */
  tail = -1;
  /** The slot after each one, toward the tail (-1 at the tail or outside the FIFO). */
  readonly next: Int32Array;
  private readonly prev: Int32Array;

  constructor(capacity: number) {
    this.next = new Int32Array(capacity).fill(-1);
    this.prev = new Int32Array(capacity).fill(-1);
  }

  /** Whether slot i is in the FIFO. */
  has(i: number): boolean {
    return this.prev[i]! >= 0 || this.head === i;
  }

  /** Appends slot i (not in the FIFO) at the tail. */
  push(i: number): void {
    this.prev[i] = this.tail;
    this.next[i] = -1;
    if (this.tail >= 0) this.next[this.tail] = i;
    else this.head = i;
    this.tail = i;
  }

  /** Takes slot i (in the FIFO) out. */
  unlink(i: number): void {
    const prev = this.prev[i]!;
    const next = this.next[i]!;
    if (prev >= 0) this.next[prev] = next;
    else this.head = next;
    if (next >= 0) this.prev[next] = prev;
    else this.tail = prev;
    this.prev[i] = -1;
    this.next[i] = -1;
  }

  get byteLength(): number {
    return this.next.byteLength + this.prev.byteLength;
  }
}

/** Takes slot i out of the hash chain that starts at buckets[bucket] and links through `next`. */
export function unchain(buckets: Int32Array, next: Int32Array, bucket: number, i: number): void {
  let j = buckets[bucket]!;
  if (j === i) {
    buckets[bucket] = next[i]!;
    return;
  }
  while (next[j]! !== i) j = next[j]!;
  next[j] = next[i]!;
}
