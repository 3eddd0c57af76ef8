import { describe, expect, it } from 'vitest';
import { EntrySlab } from '../src/entry-slab.js';
import { tcp } from './helpers/entries.js';

function order(slab: EntrySlab): number[] {
  const slots: number[] = [];
  for (let slot = slab.head; slot >= 0; slot = slab.next[slot]!) slots.push(slot);
  const backwards: number[] = [];
  for (let slot = slab.tail; slot >= 0; slot = slab.prev[slot]!) backwards.unshift(slot);
  expect(backwards).toEqual(slots);
  return slots;
}

describe('entry-slab', () => {
  it('writes and reads back an entry, with a copy of the client address', () => {
    const slab = new EntrySlab();
    const slot = slab.allocate();
    const entry = tcp(3719, 0x1234, { protocol: 17, createdAt: 1_552_903_588_491_727 });
    slab.write(slot, entry, 5);
    const read = slab.read(slot);
    expect(read).toEqual(entry);
    read.clientAddress[0] = 0;
    expect(slab.read(slot).clientAddress[0]).toBe(0x20);
    expect(slab.lastUsed[slot]).toBe(5);
    expect(slab.sameClient(slot, entry)).toBe(true);
    expect(slab.sameClient(slot, tcp(3719, 0x1235))).toBe(false);
    expect(slab.sameClient(slot, { ...entry, clientPort: 1 })).toBe(false);
  });

  it('grows reserved columns straight to their capacity from 65,536 slots, and never replaces them below it', () => {
    const slab = EntrySlab.reserve(200_000);
    expect(slab.slots).toBeLessThan(65_536);
    for (let i = 0; i <= 65_536; i++) slab.write(slab.allocate(), tcp(i & 0xffff), i);
    expect(slab.slots).toBe(200_000);
    const columns = [slab.natAddress, slab.clientAddress, slab.lastUsed, slab.next];
    for (let i = 65_537; i < 200_000; i++) slab.write(slab.allocate(), tcp(i & 0xffff), i);
    const after = [slab.natAddress, slab.clientAddress, slab.lastUsed, slab.next];
    for (const [k, column] of columns.entries()) expect(after[k]).toBe(column);
    slab.allocate();
    expect(slab.natAddress).not.toBe(columns[0]);
    expect(slab.read(199_999)).toEqual(tcp(199_999 & 0xffff));
  });

  it('falls back to columns that double where a reservation is refused', () => {
    const slab = EntrySlab.reserve(2 ** 40);
    for (let i = 0; i < 70_000; i++) slab.write(slab.allocate(), tcp(i & 0xffff), i);
    expect(slab.slots).toBe(131_072);
    expect(slab.read(69_999)).toEqual(tcp(69_999 & 0xffff));
  });

  it('keeps entries and links when it grows', () => {
    const slab = new EntrySlab();
    const count = slab.slots * 2 + 3;
    for (let i = 0; i < count; i++) {
      const slot = slab.allocate();
      expect(slot).toBe(i);
      slab.write(slot, tcp(i), i);
      slab.linkTail(slot);
    }
    expect(slab.slots).toBeGreaterThanOrEqual(count);
    expect(order(slab)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(slab.read(count - 1)).toEqual(tcp(count - 1));
    expect(slab.read(0)).toEqual(tcp(0));
  });

  it('links, unlinks and relinks slots in LRU order and recycles released slots', () => {
    const slab = new EntrySlab();
    const [a, b, c] = [slab.allocate(), slab.allocate(), slab.allocate()] as [number, number, number];
    for (const slot of [a, b, c]) slab.linkTail(slot);
    slab.unlink(b);
    expect(order(slab)).toEqual([a, c]);
    slab.linkBetween(b, a, c);
    expect(order(slab)).toEqual([a, b, c]);
    slab.unlink(a);
    slab.linkTail(a);
    expect(order(slab)).toEqual([b, c, a]);
    slab.unlink(c);
    slab.release(c);
    expect(slab.allocate()).toBe(c);
  });
});
