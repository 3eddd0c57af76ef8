import { describe, expect, it } from 'vitest';
import { PREPARE_SLOTS } from '@nat64/nat64';
import { MappingTable, RECORD_HANDED_OFF } from '../src/mapping-table.js';

const A = 0xc6336401;
const H = 0xcb007102;
const G = 0xcb007103;

describe('MappingTable', () => {
  it('keeps one record per BIB entry and host, found from the BIB entry', () => {
    const m = new MappingTable(4);
    const tcp = m.add(3, A, H, 6, 40_000, 443, 1000, 0);
    const udp = m.add(5, A, H, 17, 40_000, 53, 2000, RECORD_HANDED_OFF);
    const other = m.add(3, A, G, 6, 40_000, 80, 3000, 0);
    expect(new Set([tcp, udp, other]).size).toBe(3);
    expect(m.find(3, H)).toBe(tcp);
    expect(m.find(5, H)).toBe(udp);
    expect(m.find(3, G)).toBe(other);
    expect(m.find(5, G)).toBe(-1);
    expect(m.find(4, H)).toBe(-1);
    expect(m.find(-1, H)).toBe(-1);
    expect(m.find(1_000_000, H)).toBe(-1);
    expect([m.live[udp], m.flags[udp], m.serverPort[udp], m.time[udp], m.bib[udp]]).toEqual([1, RECORD_HANDED_OFF, 53, 2000, 5]);
    expect(m.count).toBe(3);
  });

  it('names a record by a token that no record after it in the same slot answers to', () => {
    const m = new MappingTable(4);
    const slot = m.add(3, A, H, 6, 40_000, 443, 1000, 0);
    const token = m.token(slot);
    expect(m.slotOf(token)).toBe(slot);
    expect([m.slotOf(token + 1), m.slotOf(1_000_000), m.slotOf(-1)]).toEqual([-1, -1, -1]);
    m.remove(slot);
    expect(m.slotOf(token)).toBe(-1);
    expect(m.add(4, A, H, 6, 40_002, 443, 2000, 0)).toBe(slot);
    const again = m.token(slot);
    expect(again).not.toBe(token);
    expect([m.slotOf(token), m.slotOf(again)]).toEqual([-1, slot]);
    expect(Number.isSafeInteger(again)).toBe(true);
  });

  it('walks the records of one peer, and only those', () => {
    const m = new MappingTable();
    m.add(0, A, H, 6, 40_000, 443, 1, 0);
    m.add(1, A, H, 1, 7, 0, 2, 0);
    m.add(2, A, G, 17, 5, 53, 3, 0);
    const walk = (host: number) => {
      const keys: string[] = [];
      for (let slot = m.firstOfPeer(A, host); slot >= 0; slot = m.nextOfPeer(slot)) keys.push(`${m.protocol[slot]}/${m.natPort[slot]}`);
      return keys.sort();
    };
    expect(walk(H)).toEqual(['1/7', '6/40000']);
    expect(walk(G)).toEqual(['17/5']);
    expect(m.peerCount(A, H)).toBe(2);
    m.remove(m.find(0, H));
    expect(walk(H)).toEqual(['1/7']);
  });

  it('takes a record out of the middle of its BIB entry’s list and leaves the others findable', () => {
    const m = new MappingTable(4);
    const hosts = [H, G, H + 2, H + 3];
    const slots = hosts.map((host) => m.add(9, A, host, 17, 1, 53, host, 0));
    m.remove(slots[1]!);
    m.remove(slots[3]!);
    expect(hosts.map((host) => m.find(9, host))).toEqual([slots[0], -1, slots[2], -1]);
    const walked: number[] = [];
    for (let slot = m.firstOfBib(9); slot >= 0; slot = m.nextOfBib(slot)) walked.push(slot);
    expect(walked.sort()).toEqual([slots[0], slots[2]].sort());
  });

  it('forgets a peer with its last record and reuses freed slots', () => {
    const m = new MappingTable(2);
    const first = m.add(0, A, H, 6, 1, 0, 0, 0);
    m.remove(first);
    expect(m.peerCount(A, H)).toBe(0);
    expect(m.firstOfPeer(A, H)).toBe(-1);
    expect(m.find(0, H)).toBe(-1);
    expect(m.bib[first]).toBe(-1);
    expect(m.add(1, A, G, 6, 2, 0, 0, 0)).toBe(first);
    expect(m.find(0, G)).toBe(-1);
    expect(m.find(1, G)).toBe(first);
    expect(m.count).toBe(1);
  });

  it('drops every record a freed BIB entry leaves, so its reused slot starts empty', () => {
    const m = new MappingTable(4);
    m.add(2, A, H, 17, 1, 53, 1, 0);
    m.add(2, A, G, 17, 1, 53, 2, RECORD_HANDED_OFF);
    const kept = m.add(3, A, H, 17, 2, 53, 3, 0);
    expect(m.removeBib(2)).toBe(2);
    expect(m.removeBib(2)).toBe(0);
    expect([m.find(2, H), m.find(2, G), m.firstOfBib(2)]).toEqual([-1, -1, -1]);
    expect(m.find(3, H)).toBe(kept);
    expect([m.count, m.peerCount(A, H), m.peerCount(A, G)]).toEqual([1, 1, 0]);
    const again = m.add(2, A, H, 6, 7, 80, 4, 0);
    expect(m.find(2, H)).toBe(again);
    expect(m.time[again]).toBe(4);
  });

  it('grows past its initial capacity, in records and in BIB slots, without losing records', () => {
    const m = new MappingTable(2);
    for (let b = 0; b < 100; b++) m.add(b * 37, A, H, 17, b, b, b * 10, 0);
    for (let b = 0; b < 100; b++) expect(m.time[m.find(b * 37, H)]).toBe(b * 10);
    expect(m.find(36, H)).toBe(-1);
    expect(m.bytesAllocated()).toBeGreaterThanOrEqual(128 * (4 + 1 + 2 + 8 + 4));
  });

  it('keeps the same arrays while filling to its bound, in records and in BIB slots', () => {
    const bound = 3 * PREPARE_SLOTS + 100;
    const m = new MappingTable(bound, 16);
    const arrays = [m.live, m.flags, m.serverPort, m.time, m.natAddress, m.host, m.protocol, m.natPort, m.bib];
    // BIB slots out of order, as a table that frees and reuses them hands them out.
    for (let i = 0; i < bound; i++) m.add((i * 7919) % bound, A, H, 17, i & 0xffff, 0, i, 0);
    const after = [m.live, m.flags, m.serverPort, m.time, m.natAddress, m.host, m.protocol, m.natPort, m.bib];
    for (let k = 0; k < arrays.length; k++) expect(after[k]).toBe(arrays[k]);
    const wrong: number[] = [];
    for (let i = 0; i < bound; i++) if (m.time[m.find((i * 7919) % bound, H)] !== i || m.find((i * 7919) % bound, G) !== -1) wrong.push(i);
    expect(wrong).toEqual([]);
  });

  it('grows at once, in records and in BIB slots, to a bound raised at runtime, and keeps its records', () => {
    const m = new MappingTable(1000, 16);
    for (let i = 0; i < 900; i++) m.add((i * 7919) % 1000, A, H, 17, i, 0, i, 0);
    m.reserveUpTo(5000);
    expect(m.capacity).toBe(5000);
    const arrays = [m.live, m.flags, m.serverPort, m.time, m.natAddress, m.host, m.protocol, m.natPort, m.bib];
    // Records on BIB slots past the old bound, up to the new one: nothing is copied any more.
    for (let i = 900; i < 4900; i++) m.add(1000 + ((i * 7919) % 4000), A, H, 17, i & 0xffff, 0, i, 0);
    const after = [m.live, m.flags, m.serverPort, m.time, m.natAddress, m.host, m.protocol, m.natPort, m.bib];
    for (let k = 0; k < arrays.length; k++) expect(after[k]).toBe(arrays[k]);
    const wrong: number[] = [];
    for (let i = 0; i < 900; i++) if (m.time[m.find((i * 7919) % 1000, H)] !== i) wrong.push(i);
    for (let i = 900; i < 4900; i++) if (m.time[m.find(1000 + ((i * 7919) % 4000), H)] !== i) wrong.push(i);
    expect(wrong).toEqual([]);
  });

  it.each([
    ['doubling from 4 slots', () => new MappingTable(4), 500],
    ['reserved, prepared a chunk at a time', () => new MappingTable(3 * PREPARE_SLOTS, 16), 3 * PREPARE_SLOTS],
  ])('agrees with a plain map through any mix of additions and removals over several BIB entries and peers (%s)', (_, create, bibs) => {
    const m = create();
    const model = new Map<string, number>();
    let seed = 12345;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let step = 0; step < 20_000; step++) {
      const host = [H, G, H + 7][random(3)]!;
      const b = random(bibs);
      const key = `${b}/${host}`;
      const action = random(10);
      if (action === 0) {
        m.removeBib(b);
        for (const h of [H, G, H + 7]) model.delete(`${b}/${h}`);
      } else if (action < 4) {
        if (model.has(key)) m.remove(model.get(key)!);
        model.delete(key);
      } else if (!model.has(key)) {
        model.set(key, m.add(b, A, host, 17, b, 0, step, 0));
      }
      expect(m.find(b, host)).toBe(model.get(key) ?? -1);
    }
    expect(m.count).toBe(model.size);
    let walked = 0;
    for (const host of [H, G, H + 7]) for (let slot = m.firstOfPeer(A, host); slot >= 0; slot = m.nextOfPeer(slot)) walked++;
    expect(walked).toBe(model.size);
    for (const [key, slot] of model) {
      const [b, host] = key.split('/').map(Number) as [number, number];
      expect(m.find(b, host)).toBe(slot);
      expect(m.bib[slot]).toBe(b);
    }
  });
});
