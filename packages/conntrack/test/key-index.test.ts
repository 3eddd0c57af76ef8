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

  it('agrees with a Map at every step while it doubles, sets returning what they replace', () => {
    // Keys set, reset and deleted while the previous arrays still hold some of them.
    const pool = fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 53 - 1 }), { minLength: 1100, maxLength: 2000 });
    const step = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.nat(), fc.nat({ max: 0x7fff_ffff }));
    fc.assert(
      fc.property(pool, fc.array(step, { minLength: 2000, maxLength: 5000 }), fc.boolean(), (keys, steps, wide) => {
        const index = new KeyIndex(0, wide);
        const model = new Map<number, number>();
        for (const [n, [action, pick, value]] of steps.entries()) {
          const key = keys[pick % keys.length]!;
          if (action < 7) {
            expect(index.set(key, value)).toBe(model.get(key) ?? -1);
            model.set(key, value);
          } else if (action < 9) {
            expect(index.delete(key)).toBe(model.delete(key));
          } else {
            expect(index.get(key)).toBe(model.get(key) ?? -1);
          }
          if (n % 97 === 0) expect(keys.filter((k) => index.get(k) !== (model.get(k) ?? -1))).toEqual([]);
        }
        expect(index.size).toBe(model.size);
        for (const key of keys) expect(index.get(key)).toBe(model.get(key) ?? -1);
      }),
      { numRuns: 25 },
    );
  });

  it('doubles without moving every key at once: next arrays from 3/8 load, the previous ones kept until further sets', () => {
    const index = new KeyIndex();
    const initial = index.byteLength;
    const key = (i: number) => 0x6_7f00_0007_0000 + i;
    for (let i = 0; i < 384; i++) index.set(key(i), i);
    expect(index.byteLength).toBe(initial);
    index.set(key(384), 384);
    // The next arrays, of twice the buckets, beside the current ones.
    expect(index.byteLength).toBe(initial * 3);
    for (let i = 385; i <= 512; i++) index.set(key(i), i);
    // Doubled at 513 keys: the previous arrays are still there.
    expect(index.byteLength).toBe(initial * 3);
    for (let i = 513; i < 513 + 1024 / 8; i++) index.set(key(i), i);
    expect(index.byteLength).toBe(initial * 2);
    for (let i = 0; i < 513 + 1024 / 8; i++) expect(index.get(key(i))).toBe(i);
    expect(index.size).toBe(513 + 1024 / 8);
  });

  it('forgets everything on clear, in the middle of doubling too', () => {
    const index = new KeyIndex();
    for (let i = 0; i < 600; i++) index.set(i * 31, i);
    index.clear();
    expect(index.size).toBe(0);
    for (let i = 0; i < 600; i++) expect(index.get(i * 31)).toBe(-1);
    index.set(31, 5);
    expect(index.get(31)).toBe(5);
    expect(index.size).toBe(1);
  });

  it('keeps every key reachable after deleting half of a densely filled table', () => {
    const index = new KeyIndex();
    const keys = Array.from({ length: 512 }, (_, i) => 0x1_c000_0207_0000 + i * 7919);
    for (const [i, key] of keys.entries()) index.set(key, i);
    for (const [i, key] of keys.entries()) if (i % 2 === 0) index.delete(key);
    for (const [i, key] of keys.entries()) expect(index.get(key)).toBe(i % 2 === 0 ? -1 : i);
  });
});
