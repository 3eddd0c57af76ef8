import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DELETE_REASONS, StoreError, type ConnEvent, type SideRecord } from '@nat64/conntrack';
import { decode, encode, encodingLength, type CommitBatch } from '../../src/sqlite/batch-codec.js';
import { client } from '../helpers/entries.js';

// 192.0.2.7:3719 held by [2001:db8::17]:53186 towards 198.51.100.1:443, created at 1 µs, stored
// at 2^32 µs; then the same entry ended as replaced; then side records "w" = aa bb and "gone" deleted.
const entry = {
  protocol: 6,
  natAddress: 0xc000_0207,
  natPort: 3719,
  clientAddress: client(0x17),
  clientPort: 53_186,
  serverAddress: 0xc633_6401,
  serverPort: 443,
  createdAt: 1,
};
const golden: CommitBatch = {
  events: [
    { kind: 'created', entry, at: 2 ** 32 },
    { kind: 'deleted', entry, at: 2 ** 32, reason: 'replaced' },
  ],
  side: [
    ['w', new Uint8Array([0xaa, 0xbb])],
    ['gone', null],
  ],
};
const eventBytes = (kind: number) => [
  ...[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x41], // at: float64 2^32 = 0x41f0000000000000, little-endian
  ...[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f], // createdAt: float64 1 = 0x3ff0000000000000
  ...[0x07, 0x02, 0x00, 0xc0], // natAddress 192.0.2.7
  ...[0x01, 0x64, 0x33, 0xc6], // serverAddress 198.51.100.1
  ...[0x87, 0x0e], // natPort 3719
  ...[0xc2, 0xcf], // clientPort 53186
  ...[0xbb, 0x01], // serverPort 443
  0x06, // protocol TCP
  kind,
  ...[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x17], // 2001:db8::17
];
const goldenBytes = new Uint8Array([
  ...[0x02, 0x00, 0x00, 0x00], // two events
  ...[0x02, 0x00, 0x00, 0x00], // two side records
  ...eventBytes(0x00), // created
  ...eventBytes(0x02), // deleted, reason 1 + 1 (replaced)
  ...[0x01, 0x00, 0x00, 0x00, 0x77, 0x02, 0x00, 0x00, 0x00, 0xaa, 0xbb], // "w" = aa bb
  ...[0x04, 0x00, 0x00, 0x00, 0x67, 0x6f, 0x6e, 0x65, 0xff, 0xff, 0xff, 0xff], // "gone" deleted
]);

const entryArbitrary = fc
  .record({
    protocol: fc.constantFrom(1, 6, 17),
    natAddress: fc.nat({ max: 0xffff_ffff }),
    natPort: fc.nat({ max: 0xffff }),
    clientAddress: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    clientPort: fc.nat({ max: 0xffff }),
    serverAddress: fc.nat({ max: 0xffff_ffff }),
    serverPort: fc.nat({ max: 0xffff }),
    createdAt: fc.maxSafeNat(),
  })
  .map((value) => (value.protocol === 1 ? { ...value, serverPort: 0 } : value));
const eventArbitrary: fc.Arbitrary<ConnEvent> = fc.oneof(
  fc.record({ kind: fc.constant('created' as const), entry: entryArbitrary, at: fc.maxSafeNat() }),
  fc.record({ kind: fc.constant('deleted' as const), entry: entryArbitrary, at: fc.maxSafeNat(), reason: fc.constantFrom(...DELETE_REASONS) }),
);
const sideArbitrary: fc.Arbitrary<SideRecord> = fc.tuple(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
);
const batchArbitrary = fc.record({ events: fc.array(eventArbitrary, { maxLength: 20 }), side: fc.array(sideArbitrary, { maxLength: 5 }) });

describe('batch-codec', () => {
  it('encodes a batch as the bytes written out in the layout', () => {
    expect(encodingLength(golden)).toBe(goldenBytes.length);
    const buf = new Uint8Array(goldenBytes.length);
    expect(encode(golden, buf, 0)).toBe(goldenBytes.length);
    expect(buf).toEqual(goldenBytes);
    expect(decode(goldenBytes, 0)).toEqual(golden);
  });

  it('round-trips any batch at any offset inside a larger buffer, and re-encodes it identically', () => {
    fc.assert(
      fc.property(batchArbitrary, fc.nat({ max: 64 }), (batch, offset) => {
        const length = encodingLength(batch);
        const buf = new Uint8Array(offset + length + 7).fill(0x5a);
        expect(encode(batch, buf, offset)).toBe(offset + length);
        expect(buf.subarray(0, offset).every((byte) => byte === 0x5a)).toBe(true);
        expect(buf.subarray(offset + length).every((byte) => byte === 0x5a)).toBe(true);
        const decoded = decode(buf, offset);
        expect(decoded).toEqual(batch);
        const again = new Uint8Array(length);
        encode(decoded, again, 0);
        expect(again).toEqual(buf.subarray(offset, offset + length));
      }),
    );
  });

  it('refuses to decode a batch cut short anywhere', () => {
    for (let length = 0; length < goldenBytes.length; length++) {
      expect(() => decode(goldenBytes.subarray(0, length), 0), `${length} bytes`).toThrow(
        expect.objectContaining({
          name: 'StoreError',
          code: 'corrupt',
          message: expect.stringMatching(/^Cannot decode commit batch at offset \d+ \(.*truncated\)$/),
        }),
      );
    }
  });

  it('refuses to decode an unknown event kind or a name that is not UTF-8', () => {
    const badKind = goldenBytes.slice();
    badKind[8 + 31] = 1 + DELETE_REASONS.length;
    expect(() => decode(badKind, 0)).toThrow(expect.objectContaining({ code: 'corrupt', message: expect.stringContaining('offset 39') }));
    const badName = goldenBytes.slice();
    badName[8 + 96 + 4] = 0xff;
    expect(() => decode(badName, 0)).toThrow(expect.objectContaining({ code: 'corrupt', message: expect.stringContaining('UTF-8') }));
  });

  it('refuses an event the bytes cannot hold, naming it', () => {
    const bad = (event: ConnEvent) => () => encode({ events: [golden.events[0]!, event], side: [] }, new Uint8Array(200), 0);
    const created = (changes: Partial<typeof entry>, at = 0): ConnEvent => ({ kind: 'created', entry: { ...entry, ...changes }, at });
    expect(bad(created({ natPort: 0x1_0000 }))).toThrow(expect.objectContaining({ code: 'invalid-argument', message: 'event 1: invalid entry (nat-port)' }));
    expect(bad(created({ natAddress: 2 ** 32 }))).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(bad(created({ clientAddress: new Uint8Array(4) }))).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(bad(created({}, -1))).toThrow(expect.objectContaining({ message: 'event 1: time must be a whole number of µs' }));
    expect(bad(created({}, 0.5))).toThrow(StoreError);
    expect(bad({ kind: 'deleted', entry, at: 0, reason: 'bogus' as 'admin' })).toThrow(
      expect.objectContaining({ message: 'event 1: unknown kind or delete reason' }),
    );
  });

  it('refuses a buffer without room before writing anything', () => {
    const buf = new Uint8Array(goldenBytes.length - 1);
    expect(() => encode(golden, buf, 0)).toThrow(RangeError);
    expect(buf.every((byte) => byte === 0)).toBe(true);
    expect(() => encode(golden, new Uint8Array(goldenBytes.length + 1), 2)).toThrow(RangeError);
  });
});
