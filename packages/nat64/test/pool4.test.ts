import { describe, expect, it } from 'vitest';
import { Nat64Error } from '@nat64/nat64';
import { Pool4, protocolSlot } from '../src/pool4.js';
import { NAT_1, NAT_2 } from './support.js';

const TCP = protocolSlot(6);
const UDP = protocolSlot(17);
const ICMP = protocolSlot(1);

describe('pool4', () => {
  it('walks RFC 6056 algorithm 3: start at F plus a counter, keep parity, then fall back to the other parity', () => {
    // TCP range 1024-1031: even ports 1024 1026 1028 1030, odd 1025 1027 1029 1031. F = 5, counter from 0.
    const pool = new Pool4([{ address: NAT_1, tcp: { min: 1024, max: 1031 } }]);
    const ports = [0, 1, 2, 3, 4].map(() => pool.allocate(TCP, 0, 40_000, 5));
    // counter 0..3: even port number (5 + k) % 4 -> 1026, 1028, 1030, 1024; counter 4: evens gone,
    // odd port number (5 + 4) % 4 = 1 -> 1027.
    expect(ports).toEqual([1026, 1028, 1030, 1024, 1027]);
  });

  it('keeps an odd client port odd', () => {
    const pool = new Pool4([{ address: NAT_1 }]);
    for (let i = 0; i < 50; i++) expect(pool.allocate(UDP, 0, 50_001, i * 7919) % 2).toBe(1);
  });

  it('gives a well-known client port a well-known NAT port when the range has them', () => {
    const pool = new Pool4([{ address: NAT_1, tcp: { min: 1, max: 65_535 } }]);
    const port = pool.allocate(TCP, 0, 22, 12_345);
    expect(port).toBeLessThan(1024);
    expect(port % 2).toBe(0);
  });

  it('gives a well-known client port a high port when no well-known port is free', () => {
    const pool = new Pool4([{ address: NAT_1, tcp: { min: 1020, max: 1030 } }]);
    // Well-known part: 1020-1023 (two even, two odd).
    const low = [1, 2, 3, 4].map(() => pool.allocate(TCP, 0, 80, 0));
    expect(low.sort()).toEqual([1020, 1021, 1022, 1023]);
    expect(pool.allocate(TCP, 0, 80, 0)).toBeGreaterThanOrEqual(1024);
  });

  it('never gives a client port at or above 1024 a well-known NAT port', () => {
    const pool = new Pool4([{ address: NAT_1, tcp: { min: 1000, max: 1025 } }]);
    expect([pool.allocate(TCP, 0, 5000, 0), pool.allocate(TCP, 0, 5000, 0)].sort()).toEqual([1024, 1025]);
    expect(pool.allocate(TCP, 0, 5000, 0)).toBe(-1);
    expect(pool.available(TCP, 0, 5000)).toBe(0);
    expect(pool.available(TCP, 0, 80)).toBe(24);
  });

  it('hands out every ICMP identifier of the range, ignoring parity, then reports exhaustion', () => {
    const pool = new Pool4([{ address: NAT_1, icmp: { min: 100, max: 103 } }]);
    const ids = [1, 2, 3, 4].map(() => pool.allocate(ICMP, 0, 7, 1));
    expect(ids.sort()).toEqual([100, 101, 102, 103]);
    expect(pool.allocate(ICMP, 0, 7, 1)).toBe(-1);
  });

  it('frees ports for reuse and leaves ports outside the dynamic range out of the counts', () => {
    const pool = new Pool4([{ address: NAT_1, udp: { min: 2000, max: 2001 } }]);
    const a = pool.allocate(UDP, 0, 3000, 0);
    expect(pool.available(UDP, 0, 3000)).toBe(1);
    pool.markFree(UDP, 0, a);
    expect(pool.available(UDP, 0, 3000)).toBe(2);
    pool.markUsed(UDP, 0, 53);
    expect(pool.isUsed(UDP, 0, 53)).toBe(true);
    expect(pool.available(UDP, 0, 3000)).toBe(2);
  });

  it('keeps protocols and addresses apart', () => {
    const pool = new Pool4([{ address: NAT_1 }, { address: NAT_2 }]);
    pool.markUsed(TCP, 1, 5000);
    expect(pool.isUsed(TCP, 1, 5000)).toBe(true);
    expect(pool.isUsed(UDP, 1, 5000)).toBe(false);
    expect(pool.isUsed(TCP, 0, 5000)).toBe(false);
    expect(pool.indexOf(NAT_2)).toBe(1);
    expect(pool.indexOf(NAT_1 + 100)).toBe(-1);
  });

  it('finds a free port next to a long run of used ones, across bitmap words', () => {
    const pool = new Pool4([{ address: NAT_1, udp: { min: 1024, max: 1200 } }]);
    for (let p = 1024; p <= 1200; p++) if (p !== 1165) pool.markUsed(UDP, 0, p);
    expect(pool.allocate(UDP, 0, 4001, 0)).toBe(1165);
    expect(pool.allocate(UDP, 0, 4001, 0)).toBe(-1);
  });

  it('refuses a bad configuration', () => {
    expect(() => new Pool4([])).toThrow(Nat64Error);
    expect(() => new Pool4([{ address: NAT_1 }, { address: NAT_1 }])).toThrow(/twice/);
    expect(() => new Pool4([{ address: NAT_1, tcp: { min: 0, max: 10 } }])).toThrow(/range/);
    expect(() => new Pool4([{ address: NAT_1, udp: { min: 10, max: 70_000 } }])).toThrow(/range/);
    expect(() => new Pool4([{ address: NAT_1, icmp: { min: 9, max: 8 } }])).toThrow(/range/);
    expect(() => new Pool4([{ address: -1 }])).toThrow(/32-bit/);
  });

  it('never hands out a reserved port and does not count it as free', () => {
    const pool = new Pool4([{ address: NAT_1, udp: { min: 6080, max: 6082 } }], [[17, 6081]]);
    expect(pool.isReserved(UDP, 6081)).toBe(true);
    expect(pool.isReserved(TCP, 6081)).toBe(false);
    // 6080 and 6082 are even, 6081 odd: only the two even ports are left.
    expect(pool.available(UDP, 0, 40_000)).toBe(2);
    const taken = [pool.allocate(UDP, 0, 40_001, 0), pool.allocate(UDP, 0, 40_001, 0), pool.allocate(UDP, 0, 40_001, 0)];
    expect(taken.sort()).toEqual([-1, 6080, 6082]);
    pool.markFree(UDP, 0, 6080);
    expect(pool.isReserved(UDP, 6081)).toBe(true);
    expect(() => new Pool4([{ address: NAT_1 }], [[47, 1]])).toThrow(/reserved/);
  });

  it('claims one particular port only inside the dynamic range and only when free', () => {
    const pool = new Pool4([{ address: NAT_1, tcp: { min: 2000, max: 3000 } }], [[6, 2500]]);
    expect(pool.claim(TCP, 0, 1999)).toBe(false);
    expect(pool.claim(TCP, 0, 2500)).toBe(false);
    expect(pool.claim(TCP, 0, 2600)).toBe(true);
    expect(pool.isUsed(TCP, 0, 2600)).toBe(true);
    expect(pool.claim(TCP, 0, 2600)).toBe(false);
  });
});
