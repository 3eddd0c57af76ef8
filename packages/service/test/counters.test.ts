import { describe, expect, it } from 'vitest';
import { Counters, formatCounters } from '@nat64/service';

describe('counters', () => {
  it('counts by name and by index and lists non-zero counters in order', () => {
    const counters = new Counters({ received: 'datagrams received', malformed: 'datagrams that failed to decode', stored: 'entries stored' });
    counters.add('received', 3);
    counters.values[counters.index.stored]!++;
    expect(counters.get('received')).toBe(3);
    expect(counters.snapshot()).toEqual([
      { name: 'received', value: 3, explanation: 'datagrams received' },
      { name: 'stored', value: 1, explanation: 'entries stored' },
    ]);
    expect(counters.snapshot({ all: true })).toHaveLength(3);
  });

  it('renders an aligned table with optional explanations', () => {
    const counters = new Counters({ a: 'first', longer: 'second' });
    counters.add('a', 7);
    counters.add('longer', 12);
    expect(formatCounters(counters.snapshot(), false)).toBe(`a                  7\nlonger            12`);
    expect(formatCounters(counters.snapshot(), true).split('\n')[1]).toBe(`longer            12  second`);
  });
});
