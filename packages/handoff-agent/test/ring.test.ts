import { describe, expect, it } from 'vitest';
import { Ring } from '../src/ring.js';

describe('ring', () => {
  it('keeps order from the head across growth and wrap-around', () => {
    const ring = new Ring<number>();
    const model: number[] = [];
    for (let i = 0; i < 100; i++) {
      ring.push(i);
      model.push(i);
      if (i % 3 === 0) expect(ring.shift()).toBe(model.shift());
    }
    expect(ring.length).toBe(model.length);
    expect(Array.from({ length: ring.length }, (_, i) => ring.at(i))).toEqual(model);
    expect(ring.pop()).toBe(model.pop());
    expect(ring.at(ring.length)).toBeUndefined();
  });
});
