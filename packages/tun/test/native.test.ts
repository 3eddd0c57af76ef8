import { describe, expect, it } from 'vitest';
import { COUNTER_NAMES } from '../src/constants.js';
import { loadNative } from '../src/native.js';

// Loading needs the built addon but no privileges: every run checks that C++ and TypeScript
// agree on the counters, and that the binding refuses misuse with exceptions, not crashes.
describe('native', () => {
  it('loads the addon, which counts what the package expects', () => {
    expect(loadNative().counterNames).toEqual([...COUNTER_NAMES]);
  });

  it('refuses a queue without a counter array, and bad batches, with TypeError and RangeError', () => {
    const native = loadNative();
    expect(() => new native.TunQueue(-1, new Float64Array(2))).toThrow(TypeError);
    const queue = new native.TunQueue(-1, new Float64Array(COUNTER_NAMES.length));
    const buffer = new Uint8Array(40);
    expect(() => queue.writeBatch(buffer, Uint32Array.of(30), Uint32Array.of(20), 1)).toThrow(RangeError);
    expect(() => queue.writeBatch(buffer, Uint32Array.of(0), Uint32Array.of(20), 2)).toThrow(RangeError);
    expect(() => queue.writePacket(buffer, 39, 2)).toThrow(RangeError);
    expect(() =>
      queue.start(
        buffer,
        0,
        new Uint32Array(1),
        1,
        () => {},
        () => {},
      ),
    ).toThrow(RangeError);
    expect(() =>
      queue.start(
        buffer,
        20,
        new Uint32Array(3),
        1,
        () => {},
        () => {},
      ),
    ).toThrow(RangeError);
    queue.close();
    expect(queue.writePacket(buffer, 0, 20)).toBe(false);
  });
});
