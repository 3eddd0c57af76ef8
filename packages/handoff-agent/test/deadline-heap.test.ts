import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineHeap } from '../src/deadline-heap.js';

interface Item {
  id: number;
  deadline: number;
  heapIndex: number;
}

describe('deadline-heap', () => {
  it('pops items in deadline order through updates and removals', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), id: fc.nat(15), deadline: fc.oneof(fc.nat(1000), fc.constant(Infinity)) }),
      fc.record({ kind: fc.constant('remove' as const), id: fc.nat(15) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 80 }), (operations) => {
        const heap = new DeadlineHeap<Item>();
        const items = Array.from({ length: 16 }, (_, id) => ({ id, deadline: Infinity, heapIndex: -1 }));
        const model = new Map<number, number>();
        for (const op of operations) {
          const item = items[op.id]!;
          if (op.kind === 'set') {
            item.deadline = op.deadline;
            heap.update(item);
            if (op.deadline === Infinity) model.delete(op.id);
            else model.set(op.id, op.deadline);
          } else {
            heap.remove(item);
            model.delete(op.id);
          }
        }
        expect(heap.size).toBe(model.size);
        const popped: number[] = [];
        for (let item = heap.peek(); item !== undefined; item = heap.peek()) {
          popped.push(item.deadline);
          heap.remove(item);
        }
        expect(popped).toEqual([...model.values()].sort((a, b) => a - b));
      }),
    );
  });
});
