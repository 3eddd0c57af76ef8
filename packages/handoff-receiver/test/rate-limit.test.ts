import { describe, expect, it } from 'vitest';
import { manualMicroClock } from '@nat64/service';
import { SourceRateLimiter } from '../src/rate-limit.js';

const SECOND_US = 1_000_000;

describe('SourceRateLimiter', () => {
  it('gives each source its burst, then tokens at its rate, and never more than the burst', () => {
    const clock = manualMicroClock();
    const limiter = new SourceRateLimiter({ perSecond: 2, burst: 3 }, clock);
    expect([1, 2, 3, 4].map(() => limiter.take('192.0.2.1'))).toEqual([true, true, true, false]);
    expect(limiter.take('192.0.2.2')).toBe(true);
    clock.advance(SECOND_US / 2);
    expect([limiter.take('192.0.2.1'), limiter.take('192.0.2.1')]).toEqual([true, false]);
    clock.advance(3600 * SECOND_US);
    expect([1, 2, 3, 4].map(() => limiter.take('192.0.2.1'))).toEqual([true, true, true, false]);
  });

  it('does not limit at a rate of 0', () => {
    const limiter = new SourceRateLimiter({ perSecond: 0, burst: 1 }, manualMicroClock());
    expect(Array.from({ length: 100 }, () => limiter.take('192.0.2.1')).every(Boolean)).toBe(true);
    expect(limiter.sources).toBe(0);
  });

  it('remembers a bounded number of sources, forgetting the one seen first', () => {
    const limiter = new SourceRateLimiter({ perSecond: 1, burst: 1 }, manualMicroClock(), 2);
    for (const source of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) expect(limiter.take(source)).toBe(true);
    expect(limiter.sources).toBe(2);
    expect(limiter.take('192.0.2.3')).toBe(false);
    expect(limiter.take('192.0.2.1')).toBe(true);
  });
});
