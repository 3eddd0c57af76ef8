// One hash index of a table: bucket heads over table slots, chained through a link per slot. It doubles
// its buckets without a pause: on doubling, entries move from the old bucket array to the new one a few
// buckets per insertion (incremental rehashing), so no packet pays for moving a million entries at once
// (that took 0.4 s at a million sessions, long enough for the TUN queue to overflow), and each new bucket
// is set up as its old bucket moves instead of all at once. Each slot keeps its entry's full hash, which
// makes moving an entry cheap and lets lookups skip most key comparisons.

import { grown, powerOfTwoAtLeast } from './grow.js';

/** Old buckets moved per insertion while doubling: done after a quarter of the insertions that led to it. */
const MOVES_PER_ADD = 4;

export class ChainedIndex {
  /** Chain link per slot, -1 at a chain's end. Free for the table's own use while a slot is unlinked. */
  next: Int32Array;
  /** The full hash of each linked slot's key, signed 32-bit (KeyedHash). */
  hashes: Int32Array;
  private buckets: Int32Array;
  /** While doubling, the previous buckets; those at `moved` and above are still in use. */
  private old: Int32Array | null = null;
  private moved = 0;

  /**
   * Links for `capacity` slots, unlinked, and buckets for `buckets` entries. A slot table passes 0 slots and
   * reserves them with grow() and prepare(); the buckets double from `buckets` as entries come.
   */
  constructor(capacity: number, buckets = capacity) {
    this.next = new Int32Array(capacity).fill(-1);
    this.hashes = new Int32Array(capacity);
    this.buckets = new Int32Array(powerOfTwoAtLeast(buckets)).fill(-1);
  }

  /** The first slot of the chain where keys hashing to `h` are; follow `next` from there. */
  head(h: number): number {
    const old = this.old;
    if (old !== null) {
      const j = h & (old.length - 1);
      if (j >= this.moved) return old[j]!;
    }
    const buckets = this.buckets;
    return buckets[h & (buckets.length - 1)]!;
  }

  /** Links slot `i`, whose key hashes to `h`; `count` is the number of entries the table holds with it. */
  add(i: number, h: number, count: number): void {
    if (this.old !== null) this.move(MOVES_PER_ADD);
    else if (count > this.buckets.length) this.startDoubling();
    this.hashes[i] = h;
    const old = this.old;
    if (old !== null) {
      const j = h & (old.length - 1);
      if (j >= this.moved) {
        this.next[i] = old[j]!;
        old[j] = i;
        return;
      }
    }
    const buckets = this.buckets;
    const j = h & (buckets.length - 1);
    this.next[i] = buckets[j]!;
    buckets[j] = i;
  }

  /** Unlinks slot `i`, which must be linked. */
  remove(i: number): void {
    const h = this.hashes[i]!;
    let heads = this.buckets;
    const old = this.old;
    if (old !== null && (h & (old.length - 1)) >= this.moved) heads = old;
    const j = h & (heads.length - 1);
    const next = this.next;
    let e = heads[j]!;
    if (e === i) {
      heads[j] = next[i]!;
    } else {
      while (next[e]! !== i) e = next[e]!;
      next[e] = next[i]!;
    }
    next[i] = -1;
  }

  /** Makes room for slots up to `capacity` (the table grew); the new ones are unlinked once prepared. */
  grow(capacity: number): void {
    this.next = grown(this.next, capacity);
    this.hashes = grown(this.hashes, capacity);
  }

  /** Marks never used slots `start` to `end` - 1 unlinked (SlotTable.prepare). */
  prepare(start: number, end: number): void {
    this.next.fill(-1, start, end);
  }

  /** Whether a doubling is still moving entries (for tests). */
  get doubling(): boolean {
    return this.old !== null;
  }

  bytesAllocated(): number {
    return this.slotBytes() + this.bucketBytes();
  }

  /** Bytes of the per-slot arrays (links and hashes). */
  slotBytes(): number {
    return this.next.byteLength + this.hashes.byteLength;
  }

  /** Bytes of the bucket arrays. */
  bucketBytes(): number {
    return this.buckets.byteLength + (this.old?.byteLength ?? 0);
  }

  private startDoubling(): void {
    this.old = this.buckets;
    // Not filled here (4 MB of -1 at a million entries stalled the insertion for 5 ms per index): a new
    // bucket is read only once the old bucket it comes from has moved, and move() sets it to -1 first. So
    // every page of the fresh array is written before it is read, never a zero page turned copy-on-write.
    this.buckets = new Int32Array(this.old.length * 2);
    this.moved = 0;
    this.move(MOVES_PER_ADD);
  }

  /** Moves up to `count` old buckets' chains into the new buckets. */
  private move(count: number): void {
    const old = this.old!;
    const buckets = this.buckets;
    const mask = buckets.length - 1;
    const next = this.next;
    const hashes = this.hashes;
    const end = Math.min(old.length, this.moved + count);
    let j = this.moved;
    for (; j < end; j++) {
      // Old bucket j splits into new buckets j and j + old.length, untouched until now.
      buckets[j] = -1;
      buckets[j + old.length] = -1;
      let e = old[j]!;
      while (e >= 0) {
        const after = next[e]!;
        const k = hashes[e]! & mask;
        next[e] = buckets[k]!;
        buckets[k] = e;
        e = after;
      }
      old[j] = -1;
    }
    this.moved = j;
    if (j === old.length) this.old = null;
  }
}
