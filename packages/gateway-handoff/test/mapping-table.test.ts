import { describe, expect, it } from 'vitest';
import { MappingTable, RECORD_HANDED_OFF } from '../src/mapping-table.js';

const A = 0xc6336401;
const H = 0xcb007102;
const G = 0xcb007103;

describe('MappingTable', () => {
  it('keeps one record per protocol, NAT address, NAT port and host', () => {
    const m = new MappingTable(4);
    const tcp = m.add(A, H, 6, 40_000, 443, 1000, 0);
    const udp = m.add(A, H, 17, 40_000, 53, 2000, RECORD_HANDED_OFF);
    const other = m.add(A, G, 6, 40_000, 80, 3000, 0);
    expect(new Set([tcp, udp, other]).size).toBe(3);
    expect(m.find(A, H, 6, 40_000)).toBe(tcp);
    expect(m.find(A, H, 17, 40_000)).toBe(udp);
    expect(m.find(A, G, 6, 40_000)).toBe(other);
    expect(m.find(A, H, 6, 40_001)).toBe(-1);
    expect([m.live[udp], m.flags[udp], m.serverPort[udp], m.time[udp]]).toEqual([1, RECORD_HANDED_OFF, 53, 2000]);
    expect(m.count).toBe(3);
  });

  it('finds and adds under the hash a caller computed once, as find() and add() do on their own', () => {
    const m = new MappingTable(4);
    const hash = m.hash(A, H, 17, 40_000);
    expect(m.findHashed(hash, A, H, 17, 40_000)).toBe(-1);
    const slot = m.add(A, H, 17, 40_000, 53, 1000, 0, hash);
    expect(m.find(A, H, 17, 40_000)).toBe(slot);
    expect(m.findHashed(hash, A, H, 17, 40_000)).toBe(slot);
    expect(m.findHashed(m.hash(A, H, 17, 40_001), A, H, 17, 40_001)).toBe(-1);
    m.remove(A, H, 17, 40_000);
    expect(m.findHashed(hash, A, H, 17, 40_000)).toBe(-1);
  });

  it('walks the records of one peer, and only those', () => {
    const m = new MappingTable();
    m.add(A, H, 6, 40_000, 443, 1, 0);
    m.add(A, H, 1, 7, 0, 2, 0);
    m.add(A, G, 17, 5, 53, 3, 0);
    const walk = (host: number) => {
      const keys: string[] = [];
      for (let slot = m.firstOfPeer(A, host); slot >= 0; slot = m.nextOfPeer(slot)) keys.push(`${m.protocol[slot]}/${m.natPort[slot]}`);
      return keys.sort();
    };
    expect(walk(H)).toEqual(['1/7', '6/40000']);
    expect(walk(G)).toEqual(['17/5']);
    expect(m.peerCount(A, H)).toBe(2);
    m.remove(A, H, 6, 40_000);
    expect(walk(H)).toEqual(['1/7']);
  });

  it('forgets a peer with its last record and reuses freed slots', () => {
    const m = new MappingTable(2);
    const first = m.add(A, H, 6, 1, 0, 0, 0);
    m.remove(A, H, 6, 1);
    expect(m.peerCount(A, H)).toBe(0);
    expect(m.firstOfPeer(A, H)).toBe(-1);
    expect(m.find(A, H, 6, 1)).toBe(-1);
    expect(m.add(A, G, 6, 2, 0, 0, 0)).toBe(first);
    m.remove(A, H, 6, 1);
    expect(m.count).toBe(1);
  });

  it('grows past its initial capacity without losing records', () => {
    const m = new MappingTable(2);
    for (let port = 0; port < 100; port++) m.add(A, H, 17, port, port, port * 10, 0);
    for (let port = 0; port < 100; port++) expect(m.time[m.find(A, H, 17, port)]).toBe(port * 10);
    expect(m.bytesAllocated()).toBeGreaterThanOrEqual(128 * (4 + 1 + 2 + 8 + 4));
  });

  it('agrees with a plain map through any mix of additions and removals over several peers', () => {
    const m = new MappingTable(4);
    const model = new Map<string, number>();
    let seed = 12345;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let step = 0; step < 20_000; step++) {
      const host = [H, G][random(2)]!;
      const protocol = [1, 6, 17][random(3)]!;
      const port = random(500);
      const key = `${host}/${protocol}/${port}`;
      if (random(3) === 0) {
        m.remove(A, host, protocol, port);
        model.delete(key);
      } else if (!model.has(key)) {
        model.set(key, m.add(A, host, protocol, port, 0, step, 0));
      }
      expect(m.find(A, host, protocol, port)).toBe(model.get(key) ?? -1);
    }
    expect(m.count).toBe(model.size);
    let walked = 0;
    for (const host of [H, G]) for (let slot = m.firstOfPeer(A, host); slot >= 0; slot = m.nextOfPeer(slot)) walked++;
    expect(walked).toBe(model.size);
    for (const [key, slot] of model) {
      const [host, protocol, port] = key.split('/').map(Number) as [number, number, number];
      expect(m.find(A, host, protocol, port)).toBe(slot);
    }
  });

  it('lists the records of a peer that lost its last one and came back, and keeps a BIB hint per record', () => {
    const m = new MappingTable(2);
    const first = m.add(A, H, 17, 1, 53, 1, 0);
    expect(m.bib[first]).toBe(-1);
    m.bib[first] = 7;
    m.remove(A, H, 17, 1);
    expect(m.peerCount(A, H)).toBe(0);
    const again = m.add(A, H, 17, 2, 53, 2, 0);
    const other = m.add(A, G, 17, 3, 53, 3, 0);
    const third = m.add(A, H, 17, 4, 53, 4, 0);
    expect(m.bib[again]).toBe(-1);
    expect(m.peerCount(A, H)).toBe(2);
    const walked: number[] = [];
    for (let slot = m.firstOfPeer(A, H); slot >= 0; slot = m.nextOfPeer(slot)) walked.push(slot);
    expect(walked.sort()).toEqual([again, third].sort());
    expect(m.firstOfPeer(A, G)).toBe(other);
  });
});
