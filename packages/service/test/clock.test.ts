import { describe, expect, it } from 'vitest';
import { manualMicroClock, systemMicroClock } from '@nat64/service';

describe('clock', () => {
  it('tracks the wall clock with microsecond resolution', () => {
    const clock = systemMicroClock();
    const samples = Array.from({ length: 1000 }, () => clock());
    expect(Math.abs(samples[0]! - Date.now() * 1000)).toBeLessThan(2_000);
    expect(samples.some((value) => value % 1000 !== 0)).toBe(true);
    for (let i = 1; i < samples.length; i++) expect(samples[i]!).toBeGreaterThanOrEqual(samples[i - 1]!);
  });

  it('moves only when told, for tests', () => {
    const clock = manualMicroClock(1_000_000);
    expect(clock()).toBe(1_000_000);
    clock.advance(250);
    expect(clock()).toBe(1_000_250);
  });
});
