import { describe, expect, it } from 'vitest';
import { IMPL } from '../src/constants.js';
import { PoolSet } from '../src/pool-set.js';

/** 198.51.100.1 and up: addresses above 2^31, which a JS number holds only as a double. */
const addresses = (count: number) => Array.from({ length: count }, (_, i) => (((198 << 24) | (51 << 16) | (100 << 8)) >>> 0) + 1 + i);

describe('PoolSet', () => {
  for (const [name, count] of [
    ['a pool scanned', IMPL.POOL_SCAN_MAX],
    ['a pool held in a Set', IMPL.POOL_SCAN_MAX + 110],
  ] as const) {
    it(`${name} finds every pool4 address from 128.0.0.0 up and nothing else`, () => {
      const pool = addresses(count);
      const set = new PoolSet(pool);
      for (const address of pool) expect(set.has(address)).toBe(true);
      const last = pool[pool.length - 1]!;
      for (const other of [pool[0]! - 1, last + 1, 0, 0xffff_ffff, 0x7f00_0001]) expect(set.has(other)).toBe(false);
    });
  }
});
