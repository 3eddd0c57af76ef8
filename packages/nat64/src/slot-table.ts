// What the BIB, session and client tables share: entries live in slots of typed arrays, numbered from 0. A
// new entry takes the slot freed last, or else the first never used one, and the arrays double when every
// slot is in use. A free slot is in no chain of the table's indexes, so one index's chain links double as
// the free list.

export abstract class SlotTable {
  capacity: number;
  /** Live entries. */
  count = 0;
  /** Slots ever used; slots at and above it were never allocated. */
  highWater = 0;
  private freeHead = -1;

  protected constructor(initialCapacity: number) {
    this.capacity = initialCapacity;
  }

  /** A slot for a new entry, counted in `count`; `links` are the chain links that hold the free list. */
  protected takeSlot(links: Int32Array): number {
    let i = this.freeHead;
    if (i >= 0) {
      this.freeHead = links[i]!;
    } else {
      if (this.highWater === this.capacity) {
        const capacity = this.capacity * 2;
        this.grow(capacity);
        this.capacity = capacity;
      }
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

  /** Reallocates every per-slot array, indexes included, for `capacity` slots. */
  protected abstract grow(capacity: number): void;
}
