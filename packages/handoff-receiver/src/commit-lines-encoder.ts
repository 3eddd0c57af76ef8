// The lines of one commit (commit-lines.ts) written straight into bytes, as the log file takes
// them: the same text, byte for byte, without a string per line, per address or per port, and
// without joining and re-encoding them. The receiver's main thread writes one line per stored
// entry, so this is on the ingest path; commitLines stays the reference (log recovery, tests).
import { CREATED_KIND, type EventRecords } from '@nat64/conntrack';
import { ipv6ZeroRun } from '@nat64/wire/address';
import { formatTimestamp, initializedLine, type TimeZoneMode } from './conn-log.js';
import { recordOrder } from './record-order.js';

/** "YYYY-MM-DD HH:MM:SS.ffffff", the part every line of one commit shares. */
const TIMESTAMP_BYTES = 26;
/** The longest entry line: timestamp, " Deleted ", "255.255.255.255:65535", " [", 39 address characters, "]:65535", newline. */
const MAX_ENTRY_LINE_BYTES = TIMESTAMP_BYTES + 9 + 21 + 2 + 39 + 7 + 1;
const CREATED = ' Created ';
const DELETED = ' Deleted ';
const HEX = ascii('0123456789abcdef');
const COLON = ':'.charCodeAt(0);
const DOT = '.'.charCodeAt(0);
const SPACE = ' '.charCodeAt(0);
const OPEN_BRACKET = '['.charCodeAt(0);
const CLOSE_BRACKET = ']'.charCodeAt(0);
const NEWLINE = '\n'.charCodeAt(0);
const ZERO = '0'.charCodeAt(0);

/**
 * The lines commitLines(at, gateways, events, zone) returns for the events held in `events` (as
 * the table writes them), each followed by a newline, as UTF-8 (all ASCII) in a buffer of their own.
 */
export function encodeCommitLines(at: number, gateways: readonly number[], events: EventRecords, zone: TimeZoneMode): Buffer {
  let size = events.length * MAX_ENTRY_LINE_BYTES;
  const initialized = [...gateways].sort((a, b) => a - b).map((gateway) => `${initializedLine(at, gateway, zone)}\n`);
  for (const line of initialized) size += line.length;
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  for (const line of initialized) o += buf.write(line, o, 'latin1');
  // Every entry line starts with the commit's time and " Created " or " Deleted ".
  const stamp = formatTimestamp(at, zone);
  const created = ascii(stamp + CREATED);
  const deleted = ascii(stamp + DELETED);
  const order = recordOrder(events);
  // A commit holds the NAT addresses of a few gateways, in order: the last one's text is copied.
  let lastNat = -1;
  let natStart = 0;
  let natEnd = 0;
  for (let n = 0; n < events.length; n++) {
    const i = order === undefined ? n : order[n]!;
    const start = events.kind(i) === CREATED_KIND ? created : deleted;
    buf.set(start, o);
    o += start.length;
    const nat = events.natAddress(i);
    if (nat === lastNat) {
      for (let k = natStart; k < natEnd; k++) buf[o++] = buf[k]!;
    } else {
      lastNat = nat;
      natStart = o;
      o = writeIpv4(buf, o, nat);
      natEnd = o;
    }
    buf[o++] = COLON;
    o = writeDecimal(buf, o, events.natPort(i));
    buf[o++] = SPACE;
    buf[o++] = OPEN_BRACKET;
    o = writeIpv6(buf, o, events.bytes, events.clientAddressOffset(i));
    buf[o++] = CLOSE_BRACKET;
    buf[o++] = COLON;
    o = writeDecimal(buf, o, events.clientPort(i));
    buf[o++] = NEWLINE;
  }
  return buf.subarray(0, o);
}

function writeIpv4(buf: Buffer, o: number, address: number): number {
  o = writeDecimal(buf, o, address >>> 24);
  buf[o++] = DOT;
  o = writeDecimal(buf, o, (address >>> 16) & 0xff);
  buf[o++] = DOT;
  o = writeDecimal(buf, o, (address >>> 8) & 0xff);
  buf[o++] = DOT;
  return writeDecimal(buf, o, address & 0xff);
}

/** A non-negative integer below 100 000 (ports and octets), without leading zeros. */
function writeDecimal(buf: Buffer, o: number, value: number): number {
  const digits = value >= 10_000 ? 5 : value >= 1000 ? 4 : value >= 100 ? 3 : value >= 10 ? 2 : 1;
  for (let i = o + digits - 1; i >= o; i--) {
    buf[i] = ZERO + (value % 10);
    value = Math.floor(value / 10);
  }
  return o + digits;
}

/** RFC 5952 text, as bytesToIpv6Text (@nat64/wire) writes it: lowercase, the longest run of two or more zero groups as "::". */
function writeIpv6(buf: Buffer, o: number, bytes: Uint8Array, offset: number): number {
  const zeroRun = ipv6ZeroRun(bytes, offset);
  const bestStart = zeroRun < 0 ? -1 : zeroRun >> 4;
  const bestLength = zeroRun & 15;
  for (let group = 0; group < 8; group++) {
    if (group === bestStart) {
      buf[o++] = COLON;
      buf[o++] = COLON;
      group += bestLength - 1;
      continue;
    }
    if (group > 0 && buf[o - 1] !== COLON) buf[o++] = COLON;
    o = writeHex(buf, o, (bytes[offset + group * 2]! << 8) | bytes[offset + group * 2 + 1]!);
  }
  return o;
}

/** A 16-bit group in lowercase hex without leading zeros. */
function writeHex(buf: Buffer, o: number, value: number): number {
  const digits = value >= 0x1000 ? 4 : value >= 0x100 ? 3 : value >= 0x10 ? 2 : 1;
  for (let i = o + digits - 1; i >= o; i--) {
    buf[i] = HEX[value & 0xf]!;
    value >>>= 4;
  }
  return o + digits;
}

function ascii(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}
