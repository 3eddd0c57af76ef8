import { describe, expect, it } from 'vitest';
import { COUNTER_NAMES } from '../src/constants.js';
import { COUNTER, CounterArray } from '../src/counters.js';

describe('counters', () => {
  it('reads each counter from its own index of the shared array', () => {
    const counters = new CounterArray();
    for (const index of COUNTER_NAMES.keys()) counters.values[index] = 100 + index;
    expect(COUNTER_NAMES.map((name) => counters[name])).toEqual(COUNTER_NAMES.map((_, index) => 100 + index));
    expect(COUNTER.rxPackets).toBe(0);
    expect(COUNTER.txErrors).toBe(COUNTER_NAMES.length - 1);
  });

  it('snapshots into a plain object that does not follow later changes', () => {
    const counters = new CounterArray();
    counters.values[COUNTER.txDropped] = 3;
    const snapshot = counters.snapshot();
    counters.values[COUNTER.txDropped] = 4;
    expect(snapshot.txDropped).toBe(3);
    expect(Object.keys(snapshot)).toEqual([...COUNTER_NAMES]);
  });
});
