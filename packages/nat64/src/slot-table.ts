// What the BIB, session and client tables share: entries live in slots of typed arrays, numbered from 0. A
// new entry takes the slot freed last, or else the first never used one. A free slot is in no chain of the
// table's indexes, so one index's chain links double as the free list.
//
// The arrays are reserved up front for the table's bound (the most entries it is meant to hold, e.g. the
// session maximum), so a table below its bound never stops to copy them: doubling every array of two
// million sessions at once paused the datapath for 60-100 ms. A fresh typed array is zeroed memory whose
// pages the kernel commits only when they are first written, so an unused reservation costs address space,
// not memory. Columns whose empty value is not 0 (-1 links) are prepared a chunk of slots at a time just
// ahead of the first never used slot, so that the work is spread and every page is written before anything
// reads it: a fresh page read first maps the kernel's shared zero page, and the write after it is a
// copy-on-write fault whose TLB shootdown interrupts the other core. Where the reservation is refused
// (RangeError: too large for this machine), the arrays start at the initial capacity and double when full,
// as they also do past the bound (static BIB entries); a bound raised at runtime grows them at once
// (reserveUpTo).

/** Slots prepared at a time ahead of the first never used slot (a few pages of each column). */
export const PREPARE_SLOTS = 4096;

export abstract class SlotTable {
  /** Slots the arrays hold. */
  capacity = 0;
  /** Live entries. */
  count = 0;
  /** Slots ever used; slots at and above it were never allocated. */
  highWater = 0;
  /** Slots below it hold their empty values in every column (highWater <= prepared <= capacity). */
  private prepared = 0;
  private freeHead = -1;

  /**
   * Allocates the arrays through grow(): for `bound` slots (at least `initialCapacity`), or where that is
   * refused, for `initialCapacity`. Called once by the subclass's constructor, its columns still empty.
   */
  protected reserve(initialCapacity: number, bound: number): void {
    this.growTo(Math.max(initialCapacity, bound), initialCapacity);
  }

  /**
   * Grows the arrays to `bound` slots now, for a bound raised at runtime (a session maximum raised by a
   * reload): otherwise they would double when the old bound fills, under the traffic that fills it.
   * Where the machine refuses, they stay as they are and double later, as past any bound.
   */
  reserveUpTo(bound: number): void {
    if (bound > this.capacity) this.growTo(bound, this.capacity);
  }

  /**
   * The arrays for `target` slots, or where the machine refuses (RangeError), for `fallback`: columns
   * grown before the refusal are cut back (grown() keeps what fits; every slot in use is below it).
   */
  private growTo(target: number, fallback: number): void {
    try {
      this.grow(target);
      this.capacity = target;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      this.grow(fallback);
      this.capacity = fallback;
    }
  }

  /** A slot for a new entry, counted in `count`; `links` are the chain links that hold the free list. */
  protected takeSlot(links: Int32Array): number {
    let i = this.freeHead;
    if (i >= 0) {
      this.freeHead = links[i]!;
    } else {
      if (this.highWater === this.prepared) this.prepareMore();
      i = this.highWater++;
    }
    this.count++;
    return i;
  }

  /** Frees slot `i`, which is in no chain of `links` any more, onto the free list in `links`. */
  protected freeSlot(i: number, links: Int32Array): void {
    links[i] = this.freeHead;
    this.freeHead = i;
    this.count--;
  }

  /** Reallocates every per-slot array, indexes included, for `capacity` slots, keeping the slots that fit. */
  protected abstract grow(capacity: number): void;

  /**
   * Writes the empty value of every column into never used slots `start` to `end` - 1, those of 0 too where
   * a column is read before the entry writes it, so that each page is written first.
   */
  protected abstract prepare(start: number, end: number): void;

  /**
   * The part of `bytes` of per-slot arrays (all of `capacity` slots) in use: that of the slots prepared so
   * far. The rest of a reservation is address space whose pages the kernel has not committed.
   */
  protected inUse(bytes: number): number {
    return this.capacity === 0 ? 0 : Math.round((bytes * this.prepared) / this.capacity);
  }

  /** The next chunk of never used slots, after doubling the arrays if all of them are in use. */
  private prepareMore(): void {
    if (this.prepared === this.capacity) {
      const capacity = this.capacity * 2;
      this.grow(capacity);
      this.capacity = capacity;
    }
    const end = Math.min(this.capacity, this.prepared + PREPARE_SLOTS);
    this.prepare(this.prepared, end);
    this.prepared = end;
  }
}
