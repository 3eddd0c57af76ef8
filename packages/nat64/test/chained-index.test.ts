import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChainedIndex } from '../src/chained-index.js';

/** A table of keys over slots, indexed by a ChainedIndex, with a deliberately poor hash to get long chains. */
class KeyTable {
  readonly index = new ChainedIndex(4);
  keys = new Int32Array(4).fill(-1);
  count = 0;
  private free: number[] = [];
  private highWater = 0;

  constructor(private readonly hash: (key: number) => number) {}

  find(key: number): number {
    const h = this.hash(key);
    const { next, hashes } = this.index;
    for (let i = this.index.head(h); i >= 0; i = next[i]!) if (hashes[i] === h && this.keys[i] === key) return i;
    return -1;
  }

  add(key: number): number {
    let i = this.free.pop();
    if (i === undefined) {
      if (this.highWater === this.keys.length) {
        const keys = new Int32Array(this.keys.length * 2).fill(-1);
        keys.set(this.keys);
        this.keys = keys;
        this.index.grow(keys.length);
      }
      i = this.highWater++;
    }
    this.keys[i] = key;
    this.count++;
    this.index.add(i, this.hash(key), this.count);
    return i;
  }

  remove(i: number): void {
    this.index.remove(i);
    this.keys[i] = -1;
    this.count--;
    this.free.push(i);
  }
}

describe('chained-index', () => {
  it('finds every key and only those through any sequence of additions and removals, doublings included', () => {
    const operation = fc.oneof(fc.record({ add: fc.integer({ min: 0, max: 3000 }) }), fc.record({ remove: fc.integer({ min: 0, max: 3000 }) }));
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 1500 }), fc.integer({ min: 0, max: 2 }), (operations, hashKind) => {
        // Identity, a good mix, and a hash with many collisions.
        const hash = [(k: number) => k | 0, (k: number) => Math.imul(k ^ (k >>> 7), 0x9e3779b1), (k: number) => k % 17][hashKind]!;
        const table = new KeyTable(hash);
        const model = new Map<number, number>();
        let sawDoubling = false;
        for (const op of operations) {
          if ('add' in op) {
            if (!model.has(op.add)) model.set(op.add, table.add(op.add));
          } else {
            const slot = model.get(op.remove);
            if (slot !== undefined) {
              table.remove(slot);
              model.delete(op.remove);
            }
          }
          sawDoubling ||= table.index.doubling;
          const probe = 'add' in op ? op.add : op.remove;
          expect(table.find(probe)).toBe(model.get(probe) ?? -1);
        }
        for (const [key, slot] of model) expect(table.find(key)).toBe(slot);
        return operations.length < 200 || sawDoubling || model.size < 16;
      }),
      { numRuns: 60 },
    );
  });

  it('spreads a doubling over later additions instead of moving every entry at once', () => {
    const table = new KeyTable((k) => Math.imul(k, 0x9e3779b1));
    for (let k = 0; k < 1024; k++) table.add(k);
    expect(table.index.doubling).toBe(false);
    table.add(1024);
    // 1025 entries outgrew 1024 buckets: the doubling started and moved only a few buckets.
    expect(table.index.doubling).toBe(true);
    for (let k = 0; k <= 1024; k++) expect(table.find(k)).toBeGreaterThanOrEqual(0);
    let additions = 0;
    while (table.index.doubling) {
      table.add(2000 + additions);
      additions++;
    }
    expect(additions).toBeLessThanOrEqual(1024 / 4);
    for (let k = 0; k <= 1024; k++) expect(table.find(k)).toBeGreaterThanOrEqual(0);
    expect(table.find(5000)).toBe(-1);
  });
});
