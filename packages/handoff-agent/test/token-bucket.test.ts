import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../src/token-bucket.js';

describe('token-bucket', () => {
  it('gives its burst at once, then nothing until it refills', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 3 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
  });

  it('refills at its rate, never above its burst', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 2 }, 0);
    bucket.take(0);
    bucket.take(0);
    expect(bucket.take(99)).toBe(false);
    expect(bucket.take(100)).toBe(true);
    expect([bucket.take(10_000), bucket.take(10_000), bucket.take(10_000)]).toEqual([true, true, false]);
  });

  it('reports a token without taking it', () => {
    const bucket = new TokenBucket({ perSecond: 0, burst: 1 }, 0);
    expect([bucket.has(0), bucket.has(0), bucket.take(0), bucket.has(0)]).toEqual([true, true, true, false]);
  });
});
