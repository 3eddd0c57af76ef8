// A binary min-heap of items by deadline, each item remembering its own position so that a
// deadline can move in O(log n). tick() pops only what is due, so a quiet peer costs nothing.

export interface Scheduled {
  /** When the item wants service; Infinity for never. */
  deadline: number;
  /** Position in the heap, -1 when not in it. Owned by the heap. */
  heapIndex: number;
}

export class DeadlineHeap<T extends Scheduled> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The earliest item, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Puts `item` in the heap at its current deadline, or moves it there; an Infinity deadline removes it. */
  update(item: T): void {
    if (item.deadline === Infinity) {
      this.remove(item);
      return;
    }
    if (item.heapIndex < 0) {
      item.heapIndex = this.items.length;
      this.items.push(item);
    }
    this.up(item.heapIndex);
    this.down(item.heapIndex);
  }

  remove(item: T): void {
    const at = item.heapIndex;
    if (at < 0) return;
    const last = this.items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[at] = last;
    last.heapIndex = at;
    this.up(at);
    this.down(last.heapIndex);
  }

  private up(at: number): void {
    const items = this.items;
    const item = items[at]!;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = items[parentAt]!;
      if (parent.deadline <= item.deadline) break;
      items[at] = parent;
      parent.heapIndex = at;
      at = parentAt;
    }
    items[at] = item;
    item.heapIndex = at;
  }

  private down(at: number): void {
    const items = this.items;
    const length = items.length;
    const item = items[at]!;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && items[right]!.deadline < items[left]!.deadline ? right : left;
      const smaller = items[child]!;
      if (smaller.deadline >= item.deadline) break;
      items[at] = smaller;
      smaller.heapIndex = at;
      at = child;
    }
    items[at] = item;
    item.heapIndex = at;
  }
}
