import { describe, expect, it } from 'vitest';
import { KeyedHash } from '../src/hash.js';
import { SECRET } from './support.js';

describe('hash', () => {
  it('depends on the secret', () => {
    const a = new KeyedHash(SECRET);
    const b = new KeyedHash(SECRET.slice().reverse());
    const same = new KeyedHash(SECRET);
    const hashes = (h: KeyedHash) => [
      h.address6(0x20010db8, 0, 0, 1),
      h.transport6(17, 0x20010db8, 0, 0, 1, 4000),
      h.transport4(17, 0xcb007101, 4000),
      h.session6(17, 0x20010db8, 0, 0, 1, 4000, 0xc633640a, 53),
      h.session4(17, 0xcb007101, 4000, 0xc633640a, 53),
      h.portOffset(17, 0x20010db8, 0, 0, 1, 0xcb007101),
    ];
    expect(hashes(a)).toEqual(hashes(same));
    const differing = hashes(a).filter((value, i) => value !== hashes(b)[i]);
    expect(differing).toHaveLength(6);
  });

  it('spreads sequential ports evenly over buckets', () => {
    const hash = new KeyedHash(SECRET);
    const buckets = new Int32Array(1024);
    for (let port = 0; port < 65_536; port++) buckets[hash.transport4(6, 0xcb007101, port) & 1023]!++;
    // 64 per bucket on average; a poor mix of the port bits leaves buckets empty or overfull.
    expect(Math.min(...buckets)).toBeGreaterThan(30);
    expect(Math.max(...buckets)).toBeLessThan(110);
  });

  it('spreads clients of one /64 evenly over buckets', () => {
    const hash = new KeyedHash(SECRET);
    const buckets = new Int32Array(1024);
    for (let i = 0; i < 65_536; i++) buckets[hash.session6(17, 0x20010db8, 0, 0, i, 40_000, 0xc633640a, 53) & 1023]!++;
    expect(Math.min(...buckets)).toBeGreaterThan(30);
    expect(Math.max(...buckets)).toBeLessThan(110);
  });
});
