import { describe, expect, it } from 'vitest';
import type { HandoffEntry } from '@nat64/handoff-codec';
import { EntrySource } from '../src/load.js';

const NAT = 0xc0000207;
const SERVER = 0xc633640a;

function snapshot(chunk: readonly HandoffEntry[]) {
  return chunk.map((entry) => ({ ...entry, clientAddress: Buffer.from(entry.clientAddress).toString('hex') }));
}

describe('EntrySource', () => {
  it('walks new NAT ports and clients in turn when nothing is reused', () => {
    const source = new EntrySource(NAT, { clients: 3, reuse: 0, serverAddress: SERVER }, 0);
    const chunk = source.next(4);
    expect(chunk.map((entry) => entry.natPort)).toEqual([1024, 1025, 1026, 1027]);
    expect(chunk.map((entry) => entry.clientPort)).toEqual([32769, 32770, 32768, 32769]);
    expect(Buffer.from(chunk[0]!.clientAddress).toString('hex')).toBe('20010db8000000000000000000000001');
    expect(Buffer.from(chunk[2]!.clientAddress).toString('hex')).toBe('20010db8000000000000000000000000');
    for (const entry of chunk) {
      expect(entry).toMatchObject({ protocol: 6, reason: 0, natAddress: NAT, serverAddress: SERVER, serverPort: 443 });
      expect(entry.time).toBeGreaterThan(0);
    }
  });

  it('writes a released chunk again with new entries, and never one still being sent', () => {
    const source = new EntrySource(NAT, { clients: 1000, reuse: 0, serverAddress: SERVER }, 0);
    const first = source.next(3);
    const second = source.next(3);
    expect(second).not.toBe(first);
    const firstBefore = snapshot(first);
    source.release(first);
    const third = source.next(3);
    expect(third).toBe(first);
    expect(third.map((entry) => entry.natPort)).toEqual([1030, 1031, 1032]);
    expect(snapshot(third)).not.toEqual(firstBefore);
    expect(second.map((entry) => entry.natPort)).toEqual([1027, 1028, 1029]);
    // A chunk of another size is made anew rather than cut from a released one.
    source.release(third);
    expect(source.next(2)).not.toBe(third);
  });

  it('walks every TCP port, then every UDP port, before a key comes round again', () => {
    const source = new EntrySource(NAT, { clients: 50_000, reuse: 0, serverAddress: SERVER }, 0);
    const keys = new Set<string>();
    const ports = 65536 - 1024;
    for (let given = 0; given < 2 * ports; given += 1000) {
      const chunk = source.next(Math.min(1000, 2 * ports - given));
      for (const entry of chunk) keys.add(`${entry.protocol}/${entry.natPort}`);
      source.release(chunk);
    }
    expect(keys.size).toBe(2 * ports);
    expect(keys.has('6/1024') && keys.has('6/65535') && keys.has('17/1024') && keys.has('17/65535')).toBe(true);
    expect(source.next(1).map((entry) => [entry.protocol, entry.natPort])).toEqual([[6, 1024]]);
  });

  it('reuses only NAT ports it gave out recently, for the share asked', () => {
    const source = new EntrySource(NAT, { clients: 10_000, reuse: 0.25, serverAddress: SERVER }, 0);
    const seen = new Set<number>();
    const given: number[] = [];
    let reused = 0;
    for (let round = 0; round < 20; round++) {
      const chunk = source.next(1000);
      for (const entry of chunk) {
        if (seen.has(entry.natPort)) {
          reused++;
          expect(given.lastIndexOf(entry.natPort)).toBeGreaterThanOrEqual(given.length - 4096);
        } else {
          given.push(entry.natPort);
        }
        seen.add(entry.natPort);
      }
      source.release(chunk);
    }
    expect(reused / 20_000).toBeGreaterThan(0.2);
    expect(reused / 20_000).toBeLessThan(0.3);
    // 15,000 or so new ports walked from 1024; a reused port is one of them.
    expect(Math.min(...seen)).toBe(1024);
    expect(Math.max(...seen)).toBe(1024 + seen.size - 1);
  });
});
