import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageType, datagram, entriesPerDatagram, entriesPerLength, maxDatagramLength } from '@nat64/handoff-codec';
import type { Created } from '@nat64/handoff-codec';
import { created } from './helpers/vectors.js';

const sample = (created.value as Created).entries[0]!;

function batchLength(count: number, tagged: boolean): number {
  const message: Created = {
    ...(created.value as Created),
    type: MessageType.CREATED,
    entries: Array.from({ length: count }, () => sample),
    ...(tagged ? { tag: new Uint8Array(16) } : {}),
  };
  return datagram.encodingLength(message);
}

describe('mtu', () => {
  it('gives the counts of the specification for MTU 1500 and 1280', () => {
    expect(maxDatagramLength(1500)).toBe(1472);
    expect(maxDatagramLength(1280)).toBe(1252);
    expect([entriesPerDatagram(1500, false), entriesPerDatagram(1500, true)]).toEqual([36, 35]);
    expect([entriesPerDatagram(1280, false), entriesPerDatagram(1280, true)]).toEqual([30, 30]);
  });

  it('gives the most entries whose datagram fits the path', () => {
    fc.assert(
      fc.property(fc.integer({ min: 68, max: 9000 }), fc.boolean(), (mtu, tagged) => {
        const count = entriesPerDatagram(mtu, tagged);
        if (count > 0) expect(batchLength(count, tagged) + 28).toBeLessThanOrEqual(mtu);
        expect(batchLength(count + 1, tagged) + 28).toBeGreaterThan(mtu);
      }),
    );
  });

  it('fits nothing on paths too small for one entry, and stays under the Length limit on huge ones', () => {
    expect(entriesPerDatagram(68, false)).toBe(0);
    expect(entriesPerDatagram(99, false)).toBe(0);
    expect(entriesPerDatagram(100, false)).toBe(1);
    expect(entriesPerLength(1_000_000, true)).toBe(1637);
    expect(batchLength(1637, true)).toBeLessThanOrEqual(0xffff);
  });
});
