// TunCounters over a Float64Array: native code (or FakeTun) adds to the array, readers use named
// getters. Doubles count exactly up to 2^53, and reading them allocates nothing.
import { COUNTER_NAMES, type CounterName } from './constants.js';
import type { TunCounters } from './device.js';

/** Index of each counter in the array. */
export const COUNTER = Object.fromEntries(COUNTER_NAMES.map((name, index) => [name, index])) as {
  readonly [name in CounterName]: number;
};

export class CounterArray implements TunCounters {
  // Its own ArrayBuffer: small typed arrays may live on the V8 heap, where data can move.
  readonly values = new Float64Array(new ArrayBuffer(COUNTER_NAMES.length * Float64Array.BYTES_PER_ELEMENT));

  get rxPackets(): number {
    return this.values[COUNTER.rxPackets]!;
  }
  get rxBytes(): number {
    return this.values[COUNTER.rxBytes]!;
  }
  get rxBatches(): number {
    return this.values[COUNTER.rxBatches]!;
  }
  get rxWakeups(): number {
    return this.values[COUNTER.rxWakeups]!;
  }
  get rxTruncated(): number {
    return this.values[COUNTER.rxTruncated]!;
  }
  get rxErrors(): number {
    return this.values[COUNTER.rxErrors]!;
  }
  get txPackets(): number {
    return this.values[COUNTER.txPackets]!;
  }
  get txBytes(): number {
    return this.values[COUNTER.txBytes]!;
  }
  get txDropped(): number {
    return this.values[COUNTER.txDropped]!;
  }
  get txRejected(): number {
    return this.values[COUNTER.txRejected]!;
  }
  get txErrors(): number {
    return this.values[COUNTER.txErrors]!;
  }

  snapshot(): Record<CounterName, number> {
    return Object.fromEntries(COUNTER_NAMES.map((name, index) => [name, this.values[index]!])) as Record<CounterName, number>;
  }
}
