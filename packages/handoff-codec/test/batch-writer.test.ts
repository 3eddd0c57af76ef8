import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryBatchWriter, MessageType, datagram, entriesPerDatagram, maxDatagramLength, signDatagram, verifyDatagram } from '@nat64/handoff-codec';
import type { Created, HandoffEntry } from '@nat64/handoff-codec';
import { entryArb } from './helpers/arbitraries.js';
import { toHex } from './helpers/hex.js';
import { TAG_KEY, created } from './helpers/vectors.js';

const value = created.value as Created;
const sample = value.entries[0]!;

function fill(writer: EntryBatchWriter, buf: Uint8Array, offset: number, entries: readonly HandoffEntry[], sequence = 1): { end: number; written: number } {
  writer.begin(buf, offset, MessageType.CREATED, sequence);
  let written = 0;
  while (written < entries.length && writer.append(entries[written]!)) written++;
  return { end: writer.finish(), written };
}

describe('batch-writer', () => {
  it('writes the same octets as the datagram encoder', () => {
    const writer = new EntryBatchWriter({ maxLength: 1472 });
    writer.setSession(value.epoch, value.cookie);
    const buf = new Uint8Array(200).fill(0xee);
    const { end, written } = fill(writer, buf, 0, value.entries);
    expect(written).toBe(2);
    expect(toHex(buf.subarray(0, end))).toBe(toHex(created.bytes));
  });

  it('agrees with the encoder on any entries, leaving headroom untouched', () => {
    fc.assert(
      fc.property(
        fc.array(entryArb, { minLength: 1, maxLength: 36 }),
        fc.nat(40),
        fc.nat(0xffff_ffff),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        (entries, offset, sequence, epoch, cookie) => {
          const writer = new EntryBatchWriter({ maxLength: 1472 });
          writer.setSession(epoch, cookie);
          const buf = new Uint8Array(offset + 1472).fill(0xee);
          const { end, written } = fill(writer, buf, offset, entries, sequence);
          expect(written).toBe(entries.length);
          const expected = new Uint8Array(end - offset);
          datagram.encode({ type: MessageType.CREATED, version: 1, flags: 0, epoch, cookie, sequence, entries }, expected, 0);
          expect(toHex(buf.subarray(offset, end))).toBe(toHex(expected));
          expect(buf.subarray(0, offset).every((b) => b === 0xee)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it.each([
    { mtu: 1500, tagged: false, entries: 36, length: 1472 },
    { mtu: 1500, tagged: true, entries: 35, length: 1448 },
    { mtu: 1280, tagged: false, entries: 30, length: 1232 },
    { mtu: 1280, tagged: true, entries: 30, length: 1248 },
  ])('stops at $entries entries for MTU $mtu (tagged: $tagged)', ({ mtu, tagged, entries, length }) => {
    const writer = new EntryBatchWriter({ maxLength: maxDatagramLength(mtu), ...(tagged ? { key: TAG_KEY } : {}) });
    writer.setSession(1n, 2n);
    const buf = new Uint8Array(2000);
    writer.begin(buf, 0, MessageType.DELETED, 5);
    let appended = 0;
    while (writer.append(sample)) appended++;
    expect(appended).toBe(entries);
    expect(writer.full).toBe(true);
    expect(writer.append(sample)).toBe(false);
    expect(writer.finish()).toBe(length);
    expect(length + 28).toBeLessThanOrEqual(mtu);
    expect(entriesPerDatagram(mtu, tagged)).toBe(entries);
    const decoded = datagram.decode(buf, 0, length);
    expect(decoded.type).toBe(MessageType.DELETED);
    expect('entries' in decoded && decoded.entries.length).toBe(entries);
  });

  it('tags each datagram when given a key, as signDatagram would', () => {
    const writer = new EntryBatchWriter({ maxLength: 1472, key: TAG_KEY });
    writer.setSession(value.epoch, value.cookie);
    const buf = new Uint8Array(200);
    const { end } = fill(writer, buf, 0, value.entries);
    expect(end).toBe(created.bytes.length + 16);
    expect(verifyDatagram(buf, 0, end, TAG_KEY)).toBe(true);
    const expected = new Uint8Array(end);
    expected.set(created.bytes);
    signDatagram(expected, 0, created.bytes.length, TAG_KEY);
    expect(toHex(buf.subarray(0, end))).toBe(toHex(expected));
  });

  it('stops where the buffer ends when that comes before the size limit', () => {
    const writer = new EntryBatchWriter({ maxLength: 1472 });
    writer.setSession(1n, 2n);
    const buf = new Uint8Array(10 + 32 + 3 * 40 + 39);
    writer.begin(buf, 10, MessageType.RELEASE, 1);
    let appended = 0;
    while (writer.append(sample)) appended++;
    expect(appended).toBe(3);
  });

  it('refuses misuse', () => {
    expect(() => new EntryBatchWriter({ maxLength: 71 })).toThrow(RangeError);
    expect(() => new EntryBatchWriter({ maxLength: 72, key: TAG_KEY })).toThrow(RangeError);
    const writer = new EntryBatchWriter({ maxLength: 1472 });
    const buf = new Uint8Array(1472);
    expect(() => writer.begin(buf, 0, MessageType.CREATED, 1)).toThrow(/setSession/);
    writer.setSession(1n, 2n);
    expect(() => writer.append(sample)).toThrow(/begin/);
    expect(() => writer.begin(buf, 0, MessageType.ACK as never, 1)).toThrow(RangeError);
    expect(() => writer.begin(new Uint8Array(71), 0, MessageType.CREATED, 1)).toThrow(RangeError);
    writer.begin(buf, 0, MessageType.CREATED, 1);
    expect(() => writer.finish()).toThrow(/at least one entry/);
    expect(() => writer.append({ ...sample, natPort: 70000 })).toThrow(RangeError);
    expect(writer.count).toBe(0);
    expect(writer.append(sample)).toBe(true);
    writer.finish();
    expect(() => writer.finish()).toThrow(/begin/);
    expect(() => writer.setSession(-1n, 0n)).toThrow(RangeError);
  });
});
