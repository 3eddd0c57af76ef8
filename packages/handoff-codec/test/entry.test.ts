import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HandoffDecodeError, Protocol, createEntry, entry, readEntry } from '@nat64/handoff-codec';
import type { HandoffEntry } from '@nat64/handoff-codec';
import { entryArb } from './helpers/arbitraries.js';
import { checkCodec } from './helpers/codec-check.js';
import { hex, toHex } from './helpers/hex.js';

const GOLDEN = hex(`
  06 00 9c40          # protocol 6 TCP, reason 0, NAT port 40000
  c0000201            # NAT address 192.0.2.1
  20010db8000000000000000000000001  # client 2001:db8::1
  c738 01bb           # client port 51000, server port 443
  c633640a            # server 198.51.100.10
  0005845b8abbb100    # time 1552903588000000 us = 2019-03-18T10:06:28Z
`);

const VALUE: HandoffEntry = {
  protocol: Protocol.TCP,
  reason: 0,
  natAddress: 0xc0000201,
  natPort: 40000,
  clientAddress: hex('20010db8000000000000000000000001'),
  clientPort: 51000,
  serverAddress: 0xc633640a,
  serverPort: 443,
  time: 1_552_903_588_000_000,
};

// [start, size] of each field, from the entry diagram (§5.3).
const FIELDS = [
  [0, 1],
  [1, 1],
  [2, 2],
  [4, 4],
  [8, 16],
  [24, 2],
  [26, 2],
  [28, 4],
  [32, 8],
] as const;

describe('entry', () => {
  it('encodes to the golden bytes and decodes them back', () => {
    expect(toHex(checkCodec(entry, VALUE))).toBe(toHex(GOLDEN));
    expect(entry.decode(GOLDEN)).toEqual(VALUE);
  });

  it('round-trips any entry', () => {
    fc.assert(fc.property(entryArb, (value) => void checkCodec(entry, value)));
  });

  it.each(FIELDS.map(([start, size]) => ({ start, size })))('rejects cuts inside octets $start+$size as truncated at $start', ({ start, size }) => {
    for (let cut = start; cut < start + size; cut++) {
      expect(() => entry.decode(GOLDEN, 0, cut)).toThrow(
        expect.objectContaining({ code: 'TRUNCATED', offset: start, message: 'Cannot decode entry (truncated)' }),
      );
    }
  });

  it('holds times up to 2^53 - 1 exactly and rejects later ones', () => {
    const latest = { ...VALUE, time: Number.MAX_SAFE_INTEGER };
    const bytes = checkCodec(entry, latest);
    expect(toHex(bytes.subarray(32))).toBe('001fffffffffffff');
    const beyond = bytes.slice();
    beyond[33] = 0x20; // 0x0020ffffffffffff
    expect(readEntry(beyond, 0, createEntry())).toBe(false);
    expect(() => entry.decode(beyond)).toThrow(HandoffDecodeError);
    expect(() => entry.decode(beyond)).toThrow(expect.objectContaining({ code: 'TIME_RANGE', offset: 32 }));
  });

  it('fills a reusable entry in place', () => {
    const out = createEntry();
    const address = out.clientAddress;
    const buf = new Uint8Array(45);
    buf.set(GOLDEN, 5);
    expect(readEntry(buf, 5, out)).toBe(true);
    expect(out).toEqual(VALUE);
    expect(out.clientAddress).toBe(address);
    // A later read overwrites every field, nothing is left over from the first.
    expect(readEntry(new Uint8Array(40), 0, out)).toBe(true);
    const zero = {
      protocol: 0,
      reason: 0,
      natAddress: 0,
      natPort: 0,
      clientAddress: new Uint8Array(16),
      clientPort: 0,
      serverAddress: 0,
      serverPort: 0,
      time: 0,
    };
    expect(out).toEqual(zero);
  });

  it('refuses to read outside the buffer', () => {
    expect(() => readEntry(GOLDEN, 1, createEntry())).toThrow(RangeError);
    expect(() => readEntry(GOLDEN, -1, createEntry())).toThrow(RangeError);
  });

  it.each([
    ['protocol', { protocol: 256 }],
    ['reason', { reason: -1 }],
    ['natAddress', { natAddress: 2 ** 32 }],
    ['natPort', { natPort: 1.5 }],
    ['clientAddress', { clientAddress: new Uint8Array(15) }],
    ['clientPort', { clientPort: 65536 }],
    ['serverAddress', { serverAddress: -1 }],
    ['serverPort', { serverPort: Number.NaN }],
    ['time', { time: -1 }],
    ['time', { time: 2 ** 53 }],
  ] as const)('refuses to encode an out-of-range %s', (_field, change) => {
    expect(() => entry.encode({ ...VALUE, ...change }, new Uint8Array(40), 0)).toThrow(RangeError);
  });
});
