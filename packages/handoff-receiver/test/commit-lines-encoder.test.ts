import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventRecords, type ConnEvent } from '@nat64/conntrack';
import { commitLines } from '../src/commit-lines.js';
import { encodeCommitLines as encodeRecordLines } from '../src/commit-lines-encoder.js';

const seedTime = Date.UTC(2019, 2, 18, 10, 6, 28) * 1000 + 436754;

/** The events as the table hands them over: records. */
function encodeCommitLines(at: number, gateways: readonly number[], events: readonly ConnEvent[], zone: 'utc' | 'local'): Buffer {
  const records = new EventRecords(1);
  for (const event of events) expect(records.appendEvent(event)).toBeUndefined();
  return encodeRecordLines(at, gateways, records, zone);
}

function event(kind: 'created' | 'deleted', natAddress: number, natPort: number, clientAddress: number[], clientPort: number, protocol = 6): ConnEvent {
  const entry = {
    protocol,
    natAddress,
    natPort,
    clientAddress: Uint8Array.from(clientAddress),
    clientPort,
    serverAddress: 0xc633640a,
    serverPort: protocol === 1 ? 0 : 443,
    createdAt: seedTime,
  };
  return kind === 'created' ? { kind, entry, at: seedTime } : { kind, entry, at: seedTime, reason: 'gateway' };
}

const client17 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x17];

describe('commit-lines-encoder', () => {
  it('writes the seed lines byte for byte', () => {
    const bytes = encodeCommitLines(seedTime, [0xc0000209, 0xc0000207], [event('created', 0xc0000207, 3719, client17, 53186)], 'utc');
    expect(bytes.toString('latin1')).toBe(
      '2019-03-18 10:06:28.436754 Initialized 192.0.2.7\n' +
        '2019-03-18 10:06:28.436754 Initialized 192.0.2.9\n' +
        '2019-03-18 10:06:28.436754 Created 192.0.2.7:3719 [2001:db8::17]:53186\n',
    );
  });

  it('writes the longest line and the shortest numbers', () => {
    const full = Array.from({ length: 16 }, () => 0xff);
    const zero = Array.from({ length: 16 }, () => 0);
    const bytes = encodeCommitLines(seedTime, [], [event('deleted', 0xffffffff, 65535, full, 65535), event('deleted', 0xffffffff, 65535, zero, 0)], 'utc');
    expect(bytes.toString('latin1')).toBe(
      '2019-03-18 10:06:28.436754 Deleted 255.255.255.255:65535 [ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535\n' +
        '2019-03-18 10:06:28.436754 Deleted 255.255.255.255:65535 [::]:0\n',
    );
  });

  it('writes exactly the lines of commitLines, in their order', () => {
    // Groups drawn mostly from 0 and small values, so zero runs of every length and place occur.
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xf }), fc.integer({ min: 0, max: 0xffff }));
    const address = fc.array(group, { minLength: 8, maxLength: 8 }).map((groups) => groups.flatMap((g) => [g >> 8, g & 0xff]));
    const anEvent = fc
      .record({
        kind: fc.constantFrom('created' as const, 'deleted' as const),
        natAddress: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 0xc0000207, 0x0a000001, 0xffffffff)),
        // Few ports and protocols too, so that keys tie and their events' order must stay.
        natPort: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(0, 1, 65535)),
        clientAddress: address,
        clientPort: fc.integer({ min: 0, max: 65535 }),
        protocol: fc.constantFrom(1, 6, 17),
      })
      .map(({ kind, natAddress, natPort, clientAddress, clientPort, protocol }) => event(kind, natAddress, natPort, clientAddress, clientPort, protocol));
    fc.assert(
      fc.property(
        fc.oneof(fc.array(anEvent, { maxLength: 30 }), fc.array(anEvent, { minLength: 100, maxLength: 300 })),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 3 }),
        fc.integer({ min: 0, max: 2 ** 52 }),
        fc.constantFrom('utc' as const, 'local' as const),
        (events, gateways, at, zone) => {
          const expected = commitLines(at, gateways, events, zone)
            .map((line) => `${line}\n`)
            .join('');
          expect(encodeCommitLines(at, gateways, events, zone).toString('latin1')).toBe(expected);
          // The order both share, against a plain stable sort by address, port and protocol.
          const byKey = [...events].sort(
            (a, b) => a.entry.natAddress - b.entry.natAddress || a.entry.natPort - b.entry.natPort || a.entry.protocol - b.entry.protocol,
          );
          expect(commitLines(at, gateways, events, zone)).toEqual(commitLines(at, gateways, byKey, zone));
        },
      ),
      { numRuns: 500 },
    );
  });
});
