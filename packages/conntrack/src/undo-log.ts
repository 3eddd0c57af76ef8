// What one batch changed in the table's memory, so that a batch whose commit fails can be undone
// exactly: slots, LRU order and timestamps. Slots the batch removed are not recycled until the
// batch is settled, so undoing in reverse order finds each one as it was. Numbers in one flat
// typed array, five per record, kept across batches: no objects per change, and no array that
// grows again from empty for every batch (one of 4096 creates outgrew V8's regular heap pages).
import type { EntrySlab } from './entry-slab.js';
import type { ClientIndex } from './client-index.js';
import type { KeyIndex } from './key-index.js';

const INSERTED = 0;
const REMOVED = 1;
const TOUCHED = 2;
const WIDTH = 5;

export class UndoLog {
  private records = new Float64Array(WIDTH * 256);
  /** Numbers used in `records`. */
  private length = 0;
  /** Slots removed by the batch, recycled by settle(). */
  private readonly freed: number[] = [];

  constructor(
    private readonly slab: EntrySlab,
    private readonly index: KeyIndex,
    private readonly clients: ClientIndex,
  ) {}

  inserted(slot: number): void {
    this.record(INSERTED, slot, 0, 0, 0);
  }

  /** Call before unlinking the slot; it stays allocated until settle(). */
  removed(slot: number): void {
    this.record(REMOVED, slot, this.slab.prev[slot]!, this.slab.next[slot]!, 0);
    this.freed.push(slot);
  }

  /** Call before moving the slot or changing its lastUsed. */
  touched(slot: number): void {
    const slab = this.slab;
    this.record(TOUCHED, slot, slab.prev[slot]!, slab.next[slot]!, slab.lastUsed[slot]!);
  }

  /** The batch stands: recycles the slots it removed and forgets it. */
  settle(): void {
    for (const slot of this.freed) this.slab.release(slot);
    this.clear();
  }

  /** Undoes the batch, newest change first, and forgets it. */
  rollback(): void {
    const { slab, index, clients, records } = this;
    for (let i = this.length - WIDTH; i >= 0; i -= WIDTH) {
      const slot = records[i + 1]!;
      switch (records[i]) {
        case INSERTED:
          index.delete(slab.key(slot));
          clients.remove(slot);
          slab.unlink(slot);
          slab.release(slot);
          break;
        case REMOVED:
          slab.linkBetween(slot, records[i + 2]!, records[i + 3]!);
          index.set(slab.key(slot), slot);
          clients.add(slot);
          break;
        case TOUCHED:
          slab.unlink(slot);
          slab.linkBetween(slot, records[i + 2]!, records[i + 3]!);
          slab.lastUsed[slot] = records[i + 4]!;
          break;
      }
    }
    this.clear();
  }

  clear(): void {
    this.length = 0;
    this.freed.length = 0;
  }

  private record(kind: number, slot: number, prev: number, next: number, lastUsed: number): void {
    if (this.length + WIDTH > this.records.length) {
      const grown = new Float64Array(this.records.length * 2);
      grown.set(this.records);
      this.records = grown;
    }
    const records = this.records;
    const i = this.length;
    records[i] = kind;
    records[i + 1] = slot;
    records[i + 2] = prev;
    records[i + 3] = next;
    records[i + 4] = lastUsed;
    this.length = i + WIDTH;
  }
}
