// TunCounters over a Float64Array: native code (or FakeTun) adds to the array, readers use named
// getters, one per name of COUNTER_NAMES. Doubles count exactly up to 2^53, and reading them
// allocates nothing.
import { COUNTER_NAMES, type CounterName } from './constants.js';
import type { TunCounters } from './device.js';

/** Index of each counter in the array. */
export const COUNTER = Object.fromEntries(COUNTER_NAMES.map((name, index) => [name, index])) as {
  readonly [name in CounterName]: number;
};

class CounterValues {
  // Its own ArrayBuffer: small typed arrays may live on the V8 heap, where data can move.
  readonly values = new Float64Array(new ArrayBuffer(COUNTER_NAMES.length * Float64Array.BYTES_PER_ELEMENT));

  snapshot(): Record<CounterName, number> {
    return Object.fromEntries(COUNTER_NAMES.map((name, index) => [name, this.values[index]!])) as Record<CounterName, number>;
  }
}

for (const [index, name] of COUNTER_NAMES.entries()) {
  Object.defineProperty(CounterValues.prototype, name, {
    get(this: CounterValues): number {
      return this.values[index]!;
    },
  });
}

/** The counters array with a getter per name of COUNTER_NAMES. */
export type CounterArray = CounterValues & TunCounters;
export const CounterArray = CounterValues as new () => CounterArray;
