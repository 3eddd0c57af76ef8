import { describe, expect, it } from 'vitest';
import { manualMicroClock, systemMicroClock } from '@nat64/service';

describe('clock', () => {
  it('tracks the wall clock with microsecond resolution', () => {
    const clock = systemMicroClock();
    // Bracketed by the wall clock read just before and after (ms resolution), however long the
    // machine takes between the reads.
    const before = Date.now() * 1000;
    const first = clock();
    const after = Date.now() * 1000;
    expect(first).toBeGreaterThanOrEqual(before - 1_000);
    expect(first).toBeLessThanOrEqual(after + 1_000);
    const samples = [first, ...Array.from({ length: 999 }, () => clock())];
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
