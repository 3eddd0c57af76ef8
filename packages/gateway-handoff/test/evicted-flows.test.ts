import { describe, expect, it } from 'vitest';
import { EvictedFlows } from '../src/evicted-flows.js';

const SERVER = 0xc633_640a; // 198.51.100.10
const NAT = 0xc000_0201; // 192.0.2.1

/** 2001:db8::<n> at offset 8 of a buffer, as a packet would hold it. */
function clientAt(n: number): Uint8Array {
  const buf = new Uint8Array(24);
  buf.set([0x20, 0x01, 0x0d, 0xb8], 8);
  new DataView(buf.buffer).setUint32(20, n);
  return buf;
}

/** A small deterministic generator (mulberry32), so the measured rate is the same every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

describe('EvictedFlows', () => {
  it('recalls the NAT address of a remembered flow, and nothing for another protocol, port or server', () => {
    const flows = new EvictedFlows(1000);
    flows.remember(17, clientAt(1), 8, 40000, SERVER, 53, NAT);
    flows.remember(6, clientAt(1), 8, 40000, SERVER, 22, NAT + 1);
    expect(flows.recall(17, clientAt(1), 8, 40000, SERVER, 53)).toBe(NAT);
    expect(flows.recall(6, clientAt(1), 8, 40000, SERVER, 22)).toBe(NAT + 1);
    expect(flows.recall(6, clientAt(1), 8, 40000, SERVER, 53)).toBe(-1);
    expect(flows.recall(17, clientAt(1), 8, 40001, SERVER, 53)).toBe(-1);
    expect(flows.recall(17, clientAt(2), 8, 40000, SERVER, 53)).toBe(-1);
    expect(flows.recall(17, clientAt(1), 8, 40000, SERVER + 1, 53)).toBe(-1);
    expect(flows.size).toBe(2);
  });

  it('forgets a flow on request, and holds one slot per flow remembered twice', () => {
    const flows = new EvictedFlows(8);
    flows.remember(17, clientAt(1), 8, 1, SERVER, 53, NAT);
    flows.remember(17, clientAt(1), 8, 1, SERVER, 53, NAT + 5);
    expect(flows.size).toBe(1);
    expect(flows.recall(17, clientAt(1), 8, 1, SERVER, 53)).toBe(NAT + 5);
    expect(flows.forget(17, clientAt(1), 8, 1, SERVER, 53)).toBe(true);
    expect(flows.forget(17, clientAt(1), 8, 1, SERVER, 53)).toBe(false);
    expect(flows.recall(17, clientAt(1), 8, 1, SERVER, 53)).toBe(-1);
    expect(flows.size).toBe(0);
  });

  it('stays within its capacity and 16 bytes per flow, forgetting older flows first', () => {
    const capacity = 10_000;
    const flows = new EvictedFlows(capacity);
    expect(flows.byteLength).toBeLessThanOrEqual(16 * capacity);
    for (let i = 0; i < 3 * capacity; i++) flows.remember(17, clientAt(i), 8, 40000, SERVER, 53, NAT);
    expect(flows.size).toBe(capacity);
    let newest = 0;
    let oldest = 0;
    for (let i = 0; i < capacity / 2; i++) {
      if (flows.recall(17, clientAt(i), 8, 40000, SERVER, 53) >= 0) oldest++;
      if (flows.recall(17, clientAt(3 * capacity - 1 - i), 8, 40000, SERVER, 53) >= 0) newest++;
    }
    // The newest half of the capacity is held (almost) whole, the oldest flows are long gone.
    expect(newest).toBeGreaterThan(0.95 * (capacity / 2));
    expect(oldest).toBe(0);
  });

  it('keeps nearly every flow until it is full (two buckets per flow, one move on a collision)', () => {
    const capacity = 40_000;
    const flows = new EvictedFlows(capacity);
    for (let i = 0; i < capacity; i++) flows.remember(6, clientAt(i), 8, 50000, SERVER, 443, NAT);
    let held = 0;
    for (let i = 0; i < capacity; i++) if (flows.recall(6, clientAt(i), 8, 50000, SERVER, 443) >= 0) held++;
    expect(held / capacity).toBeGreaterThan(0.95);
  });

  it('says "maybe" for flows it never held at a rate of about 8 in 2^32 when full', () => {
    const capacity = 100_000;
    const flows = new EvictedFlows(capacity);
    const next = random(1);
    for (let i = 0; i < capacity; i++) flows.remember(17, clientAt(next()), 8, next() & 0xffff, SERVER, 53, NAT);
    let maybes = 0;
    const probes = 1_000_000;
    // Other client addresses: 2001:db8::1:<n> never was remembered.
    const probe = clientAt(0);
    probe[19] = 1;
    for (let i = 0; i < probes; i++) {
      new DataView(probe.buffer).setUint32(20, i);
      if (flows.recall(17, probe, 8, 40000, SERVER, 53) >= 0) maybes++;
    }
    // Expected 1e6 * 8 / 2^32 = 0.002: a single one would be very unlikely.
    expect(maybes).toBeLessThanOrEqual(1);
  });

  it('remembers nothing at capacity 0, and refuses a negative capacity', () => {
    const flows = new EvictedFlows(0);
    flows.remember(17, clientAt(1), 8, 1, SERVER, 53, NAT);
    expect(flows.recall(17, clientAt(1), 8, 1, SERVER, 53)).toBe(-1);
    expect(flows.byteLength).toBe(0);
    expect(() => new EvictedFlows(-1)).toThrow(RangeError);
  });
});
