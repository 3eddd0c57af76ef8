import { describe, expect, it } from 'vitest';
import { setNewest } from '../src/bounded-map.js';

describe('bounded-map', () => {
  it('forgets the oldest key once the map holds more than its bound, and returns it', () => {
    const map = new Map<string, number>();
    expect(setNewest(map, 'a', 1, 2)).toBeUndefined();
    expect(setNewest(map, 'b', 2, 2)).toBeUndefined();
    expect(setNewest(map, 'c', 3, 2)).toBe('a');
    expect([...map]).toEqual([
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('makes a key set again the newest', () => {
    const map = new Map<string, number>();
    setNewest(map, 'a', 1, 2);
    setNewest(map, 'b', 2, 2);
    expect(setNewest(map, 'a', 10, 2)).toBeUndefined();
    expect(setNewest(map, 'c', 3, 2)).toBe('b');
    expect([...map.keys()]).toEqual(['a', 'c']);
  });
});
