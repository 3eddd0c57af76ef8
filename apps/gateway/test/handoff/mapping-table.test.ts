import { describe, expect, it } from 'vitest';
import { MappingTable, RECORD_HANDED_OFF, keyPort, keyProtocol, mappingKey } from '../../src/handoff/mapping-table.js';

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

  it('walks the records of one peer by key', () => {
    const m = new MappingTable();
    m.add(A, H, 6, 40_000, 443, 1, 0);
    m.add(A, H, 1, 7, 0, 2, 0);
    m.add(A, G, 17, 5, 53, 3, 0);
    const keys = [...m.peer(A, H)!.records.keys()].map((key) => `${keyProtocol(key)}/${keyPort(key)}`);
    expect(keys.sort()).toEqual(['1/7', '6/40000']);
    expect(mappingKey(17, 65535)).toBe(17 * 65536 + 65535);
  });

  it('forgets a peer with its last record and reuses freed slots', () => {
    const m = new MappingTable(2);
    const first = m.add(A, H, 6, 1, 0, 0, 0);
    m.remove(A, H, 6, 1);
    expect(m.peer(A, H)).toBeUndefined();
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
});
