// A growable ring buffer used as a deque: push at the tail, shift at the head, index from the head.
// Capacity doubles when full and never shrinks, so a busy peer reaches a steady state without
// allocating.

const EMPTY: readonly unknown[] = [];

export class Ring<T> {
  // Made on the first push: most peers (hosts that never answer) never hold a message.
  private slots: (T | undefined)[] = EMPTY as (T | undefined)[];
  private head = 0;
  length = 0;

  /** The item `index` places after the head (0 is the head); undefined outside 0..length-1. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.length) return undefined;
    return this.slots[(this.head + index) & (this.slots.length - 1)];
  }

  push(item: T): void {
    if (this.length === this.slots.length) this.grow();
    this.slots[(this.head + this.length) & (this.slots.length - 1)] = item;
    this.length++;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) & (this.slots.length - 1);
    this.length--;
    return item;
  }

  /** Removes and returns the tail item. */
  pop(): T | undefined {
    if (this.length === 0) return undefined;
    const at = (this.head + this.length - 1) & (this.slots.length - 1);
    const item = this.slots[at];
    this.slots[at] = undefined;
    this.length--;
    return item;
  }

  private grow(): void {
    const old = this.slots;
    const slots = new Array<T | undefined>(Math.max(8, old.length * 2));
    for (let i = 0; i < this.length; i++) slots[i] = old[(this.head + i) & (old.length - 1)];
    this.slots = slots;
    this.head = 0;
  }
}
