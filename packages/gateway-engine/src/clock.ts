// One timestamp per batch: the engine reads the real clock once when a batch (or a timer slice)
// starts and every table, tracker and rate limiter reads that value, so a batch costs one clock read.

/** A clock read once per batch. `read` is what the tables take as their clock. */
export class BatchClock {
  now: number;
  readonly read = (): number => this.now;

  /** `source` returns milliseconds from a monotonic origin (default performance.now). */
  constructor(private readonly source: () => number = () => performance.now()) {
    this.now = source();
  }

  /** Reads the source clock; called at the start of a batch. */
  tick(): number {
    this.now = this.source();
    return this.now;
  }
}
