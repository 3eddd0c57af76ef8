import { describe, expect, it } from 'vitest';
import { entryLine, formatTimestamp, initializedLine, parseTimestamp } from '../src/conn-log.js';

const client17 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x17]);
const seedTime = Date.UTC(2019, 2, 18, 10, 6, 28) * 1000 + 436754;

describe('conn-log', () => {
  it('writes lines in exactly the seed format', () => {
    expect(initializedLine(seedTime, 0xc0000207, 'utc')).toBe('2019-03-18 10:06:28.436754 Initialized 192.0.2.7');
    expect(entryLine(seedTime + 54973, 'Created', { natAddress: 0xc0000207, natPort: 3719, clientAddress: client17, clientPort: 53186 }, 'utc')).toBe(
      '2019-03-18 10:06:28.491727 Created 192.0.2.7:3719 [2001:db8::17]:53186',
    );
  });

  it('pads microseconds and handles the turn of a second', () => {
    expect(formatTimestamp(Date.UTC(2019, 0, 1, 0, 0, 0) * 1000 + 7, 'utc')).toBe('2019-01-01 00:00:00.000007');
    expect(formatTimestamp(Date.UTC(2019, 11, 31, 23, 59, 59) * 1000 + 999_999, 'utc')).toBe('2019-12-31 23:59:59.999999');
  });

  it('parses its own timestamps back, in UTC and local time', () => {
    for (const zone of ['utc', 'local'] as const) {
      const line = initializedLine(seedTime, 1, zone);
      expect(parseTimestamp(line, zone)).toBe(seedTime);
    }
    expect(parseTimestamp('garbage', 'utc')).toBeUndefined();
  });
});
