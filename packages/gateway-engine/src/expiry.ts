// The timers: every interval the engine expires what is due, at most a slice of sessions at a time;
// when a slice is used up it continues on the next turn of the event loop (setImmediate), so a million
// sessions expiring at once are spread over many short slices with packet batches in between.

import { IMPL } from './constants.js';
import type { Engine } from './engine.js';

export interface ExpiryOptions {
  readonly intervalMs?: number;
  readonly slice?: number;
  /** Called on every interval (the main loop's heartbeat: the systemd watchdog). */
  readonly onTick?: () => void;
}

export class ExpiryTimer {
  private interval: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly intervalMs: number;
  private readonly slice: number;
  private readonly onTick: (() => void) | undefined;

  constructor(
    private readonly engine: Engine,
    options: ExpiryOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? IMPL.EXPIRY_INTERVAL_MS;
    this.slice = options.slice ?? IMPL.EXPIRY_SLICE;
    this.onTick = options.onTick;
  }

  /** Starts ticking; the timer does not keep the process alive by itself. */
  start(): void {
    if (this.interval !== undefined) return;
    this.interval = setInterval(() => {
      this.onTick?.();
      this.tick();
    }, this.intervalMs);
    this.interval.unref();
  }

  stop(): void {
    clearInterval(this.interval);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.interval = undefined;
    this.immediate = undefined;
  }

  /** One slice; schedules the next one at once when this one was used up. */
  tick(): void {
    this.immediate = undefined;
    const removed = this.engine.expire(this.slice);
    if (removed >= this.slice && this.interval !== undefined) {
      this.immediate = setImmediate(() => this.tick());
      this.immediate.unref();
    }
  }
}
