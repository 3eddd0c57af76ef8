import { describe, expect, it } from 'vitest';
import { RtoEstimator } from '../src/rto.js';

describe('rto', () => {
  it('starts at the initial RTO before any sample', () => {
    expect(new RtoEstimator(1000, 200, 60_000).rto).toBe(1000);
  });

  it('takes the first sample as SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR (RFC 6298 2.2)', () => {
    const rto = new RtoEstimator(1000, 200, 60_000);
    rto.sample(100);
    expect([rto.srtt, rto.rttvar, rto.rto]).toEqual([100, 50, 300]);
  });

  it('updates RTTVAR from the old SRTT before SRTT (RFC 6298 2.3)', () => {
    const rto = new RtoEstimator(1000, 200, 60_000);
    rto.sample(100);
    rto.sample(200);
    // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5
    expect([rto.srtt, rto.rttvar, rto.rto]).toEqual([112.5, 62.5, 362.5]);
  });

  it('keeps the RTO between its bounds', () => {
    const rto = new RtoEstimator(1000, 200, 60_000);
    rto.sample(1);
    expect(rto.rto).toBe(200);
    const slow = new RtoEstimator(1000, 200, 60_000);
    slow.sample(50_000);
    expect(slow.rto).toBe(60_000);
  });

  it('doubles on backoff up to the maximum and a new sample undoes it (RFC 6298 5.5, 5.7)', () => {
    const rto = new RtoEstimator(1000, 200, 5000);
    rto.backoff();
    expect(rto.rto).toBe(2000);
    rto.backoff();
    rto.backoff();
    expect(rto.rto).toBe(5000);
    rto.sample(100);
    expect(rto.rto).toBeLessThan(1000);
  });

  it('returns to the initial RTO on reset', () => {
    const rto = new RtoEstimator(1000, 200, 60_000);
    rto.sample(10);
    rto.reset();
    expect([rto.rto, rto.samples]).toEqual([1000, 0]);
  });
});
