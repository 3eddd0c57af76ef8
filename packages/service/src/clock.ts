// Wall-clock time in microseconds, for log lines and stored timestamps. Date.now() only has
// millisecond resolution, so we anchor the monotonic high-resolution timer to the wall clock and
// re-anchor whenever the two drift apart (NTP steps, suspend), keeping the result non-decreasing
// between re-anchors.

/** A source of time in microseconds since the Unix epoch. Injected everywhere for tests. */
export type MicroClock = () => number;

const REANCHOR_AFTER_DRIFT_US = 1_000;

export function systemMicroClock(): MicroClock {
  let wallAtAnchor = Date.now() * 1000;
  let hrAtAnchor = process.hrtime.bigint();
  return () => {
    const now = wallAtAnchor + Number((process.hrtime.bigint() - hrAtAnchor) / 1000n);
    const wall = Date.now() * 1000;
    if (Math.abs(now - wall) > REANCHOR_AFTER_DRIFT_US) {
      wallAtAnchor = wall;
      hrAtAnchor = process.hrtime.bigint();
      return wall;
    }
    return now;
  };
}

/** A clock tests move by hand. */
export function manualMicroClock(startUs = Date.UTC(2019, 2, 18, 10, 6, 28) * 1000): MicroClock & {
  advance(us: number): void;
  set(us: number): void;
} {
  let now = startUs;
  const clock = () => now;
  clock.advance = (us: number) => {
    now += us;
  };
  clock.set = (us: number) => {
    now = us;
  };
  return clock;
}
