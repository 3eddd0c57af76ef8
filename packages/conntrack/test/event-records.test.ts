import { describe, expect, it } from 'vitest';
import { EventRecords, type ConnEvent, type SideRecord } from '@nat64/conntrack';
import { encode, encodeRecords, encodingLength, recordsEncodingLength } from '../src/sqlite/batch-codec.js';
import { tcp } from './helpers/entries.js';

const events: ConnEvent[] = [
  { kind: 'created', entry: tcp(1), at: 2 ** 32 },
  { kind: 'deleted', entry: tcp(2, 3, { protocol: 17 }), at: 2 ** 32 + 1, reason: 'evicted' },
  { kind: 'created', entry: tcp(3, 2, { protocol: 1, serverPort: 0 }), at: 7 },
];
const side: SideRecord[] = [
  ['w', new Uint8Array([0xaa, 0xbb])],
  ['gone', null],
];

describe('event-records', () => {
  it('holds events in the commit batch layout: a batch of records encodes to the bytes of the same events', () => {
    const records = new EventRecords(1);
    for (const event of events) expect(records.appendEvent(event)).toBeUndefined();
    expect(records.length).toBe(3);
    const length = encodingLength({ events, side });
    expect(recordsEncodingLength(records, side)).toBe(length);
    const expected = new Uint8Array(length + 5);
    const actual = new Uint8Array(length + 5);
    expect(encode({ events, side }, expected, 5)).toBe(length + 5);
    expect(encodeRecords(records, side, actual, 5)).toBe(length + 5);
    expect(actual).toEqual(expected);
  });

  it('reads its records back as the events they hold, and copies a record with another time', () => {
    const records = new EventRecords(1);
    for (const event of events) records.appendEvent(event);
    expect(records.toEvents()).toEqual(events);
    const copies = new EventRecords(1);
    copies.appendCopy(records, 1, 99);
    expect(copies.toEvents()).toEqual([{ ...events[1], at: 99 }]);
  });

  it('appends nothing for an invalid entry and names the field', () => {
    const records = new EventRecords(1);
    expect(records.appendEntry(tcp(1, 1, { natPort: 70_000 }), 1, 0)).toBe('nat-port');
    expect(records.appendEntry(tcp(1), 0.5, 0)).toBe('created-at');
    expect(records.appendOperation({ op: 'create', entry: tcp(1, 1, { protocol: 2 }) })).toBe('protocol');
    expect(records.length).toBe(0);
  });
});
