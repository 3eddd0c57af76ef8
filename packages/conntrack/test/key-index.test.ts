import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyIndex } from '../src/key-index.js';

describe('key-index', () => {
  it('stores, overwrites, finds and deletes keys up to 2^50', () => {
    const index = new KeyIndex();
    const big = 0x2_ffff_ffff_ffff;
    index.set(big, 7);
    index.set(0, 1);
    index.set(big, 8);
    expect(index.size).toBe(2);
    expect(index.get(big)).toBe(8);
    expect(index.get(0)).toBe(1);
    expect(index.get(1)).toBe(-1);
    expect(index.delete(big)).toBe(true);
    expect(index.delete(big)).toBe(false);
    expect(index.get(big)).toBe(-1);
    expect(index.size).toBe(1);
  });

  it('behaves like a Map through any sequence of sets and deletes, across growth', () => {
    // A small key pool drawn from the whole key space, so probe runs are long and wrap around.
    const pool = fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 50 - 1 }), { minLength: 600, maxLength: 1500 });
    fc.assert(
      fc.property(pool, fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.nat({ max: 0x7fff_ffff })), { minLength: 500, maxLength: 4000 }), (keys, steps) => {
        const index = new KeyIndex();
        const model = new Map<number, number>();
        for (const [isSet, pick, value] of steps) {
          const key = keys[pick % keys.length]!;
          if (isSet) {
            index.set(key, value);
            model.set(key, value);
          } else {
            expect(index.delete(key)).toBe(model.delete(key));
          }
        }
        expect(index.size).toBe(model.size);
        for (const key of keys) expect(index.get(key)).toBe(model.get(key) ?? -1);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps every key reachable after deleting half of a densely filled table', () => {
    const index = new KeyIndex();
    const keys = Array.from({ length: 512 }, (_, i) => 0x1_c000_0207_0000 + i * 7919);
    for (const [i, key] of keys.entries()) index.set(key, i);
    for (const [i, key] of keys.entries()) if (i % 2 === 0) index.delete(key);
    for (const [i, key] of keys.entries()) expect(index.get(key)).toBe(i % 2 === 0 ? -1 : i);
  });
});
