// The admin's questions, answered from the store without the daemon: which IPv6 client held a NAT
// address and port (now, or at a given time), and the whole current table in log format. They
// open the database read-only, so they work while the receiver runs.
import ipaddr from 'ipaddr.js';
import { SqliteStore, type HistoryRecord, type StoredEntry } from '@nat64/conntrack';
import { formatEndpoint4, formatEndpoint6 } from '@nat64/service/addresses';
import { ipv4TextToUint32 } from '@nat64/wire';
// Subpaths, not the packages: `lookup` (lookup-main.ts) loads neither the logger nor the receiver engine.
import { entryLine, formatTimestamp, type TimeZoneMode } from '@nat64/handoff-receiver/conn-log';

export const PROTOCOL_NUMBERS = { tcp: 6, udp: 17, icmp: 1 } as const;
const PROTOCOL_NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp' };

export class QueryError extends Error {
  override name = 'QueryError';
}

/** "192.0.2.7:3719" into numbers. */
export function parseNatEndpoint(text: string): { address: number; port: number } {
  const match = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(text);
  const address = match ? ipv4TextToUint32(match[1]!) : -1;
  const port = match ? Number(match[2]) : -1;
  if (address < 0 || port > 65535) throw new QueryError(`"${text}" is not a NAT address and port such as 192.0.2.7:3719`);
  return { address, port };
}

/**
 * "2019-03-18 10:30", "2019-03-18 10:30:05", "2019-03-18 10:30:05.123456", ISO 8601 ("T" between date
 * and time), each optionally followed by "Z", " UTC" or an offset ("+01:00", "-0500", "+01"), into µs.
 * Without a zone the time is in `zone`.
 */
export function parseTime(text: string, zone: TimeZoneMode): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(?:\s*(Z|UTC)|\s*([+-])(\d{2})(?::?(\d{2}))?)?$/i.exec(text.trim());
  if (!match) throw new QueryError(`"${text}" is not a time such as "2019-03-18 10:30", "2019-03-18 10:30:05.123456 UTC" or "2019-03-18T11:30:05+01:00"`);
  const [year, month, day, hours, minutes] = match.slice(1, 6).map(Number) as [number, number, number, number, number];
  const seconds = Number(match[6] ?? 0);
  const micros = Number((match[7] ?? '').padEnd(6, '0'));
  const offsetMinutes = match[9] === undefined ? 0 : (match[9] === '-' ? -1 : 1) * (Number(match[10]) * 60 + Number(match[11] ?? 0));
  const utc = zone === 'utc' || match[8] !== undefined || match[9] !== undefined;
  const millis = utc
    ? Date.UTC(year, month - 1, day, hours, minutes, seconds) - offsetMinutes * 60_000
    : new Date(year, month - 1, day, hours, minutes, seconds).getTime();
  if (Number.isNaN(millis) || month > 12 || day > 31 || hours > 23 || minutes > 59 || seconds > 60 || Math.abs(offsetMinutes) > 18 * 60) {
    throw new QueryError(`"${text}" is not a valid time`);
  }
  return millis * 1000 + micros;
}

/** An IPv6 client address ("2001:db8::17") into its 16 bytes. */
export function parseClientAddress(text: string): Uint8Array {
  if (!ipaddr.IPv6.isValid(text) || text.includes('%')) throw new QueryError(`"${text}" is not an IPv6 address such as 2001:db8::17`);
  return new Uint8Array(ipaddr.IPv6.parse(text).toByteArray());
}

export interface LookupRequest {
  database: string;
  /** A NAT address and port, or (with `client` instead) every connection of one IPv6 client. */
  endpoint?: string;
  client?: string;
  protocol?: keyof typeof PROTOCOL_NUMBERS;
  at?: string;
  zone: TimeZoneMode;
  limit: number;
}

export function lookup(request: LookupRequest): HistoryRecord[] {
  if ((request.endpoint === undefined) === (request.client === undefined)) throw new QueryError('give a NAT address and port, or --client, not both');
  const at = request.at === undefined ? undefined : parseTime(request.at, request.zone);
  if (request.client !== undefined) {
    const clientAddress = parseClientAddress(request.client);
    const protocol = request.protocol === undefined ? undefined : PROTOCOL_NUMBERS[request.protocol];
    const store = SqliteStore.openReadOnly(request.database);
    try {
      // The protocol is filtered after the limit would cut: ask for every row of the client then.
      const records = store.clientHistory({
        clientAddress,
        limit: protocol === undefined ? request.limit : Number.MAX_SAFE_INTEGER,
        ...(at !== undefined ? { at } : {}),
      });
      return (protocol === undefined ? records : records.filter((record) => record.protocol === protocol)).slice(0, request.limit);
    } finally {
      store.close();
    }
  }
  const { address, port } = parseNatEndpoint(request.endpoint!);
  const store = SqliteStore.openReadOnly(request.database);
  try {
    return store.history({
      natAddress: address,
      natPort: port,
      limit: request.limit,
      ...(request.protocol ? { protocol: PROTOCOL_NUMBERS[request.protocol] } : {}),
      ...(at !== undefined ? { at } : {}),
    });
  } finally {
    store.close();
  }
}

/** One line per incarnation: who held the NAT endpoint, talking to which server, from when until when. */
export function formatHistoryRecord(record: HistoryRecord, zone: TimeZoneMode): string {
  const until = record.endedAt === null ? 'now' : `${formatTimestamp(record.endedAt, zone)} (${record.endReason})`;
  return [
    PROTOCOL_NAMES[record.protocol] ?? String(record.protocol),
    formatEndpoint4(record.natAddress, record.natPort),
    formatEndpoint6(record.clientAddress, record.clientPort),
    `server ${formatEndpoint4(record.serverAddress, record.serverPort)}`,
    `from ${formatTimestamp(record.startedAt, zone)}`,
    `until ${until}`,
  ].join(' ');
}

export function historyRecordJson(record: HistoryRecord): Record<string, unknown> {
  return {
    ...entryJson(record),
    endedAt: record.endedAt === null ? null : isoMicros(record.endedAt),
    endReason: record.endReason,
  };
}

/** µs since the epoch as ISO 8601 UTC with all six digits: "2019-03-18T10:06:28.491727Z". */
export function isoMicros(micros: number): string {
  const millis = Math.floor(micros / 1000);
  return `${new Date(millis).toISOString().slice(0, 19)}.${String(micros - Math.floor(micros / 1_000_000) * 1_000_000).padStart(6, '0')}Z`;
}

/** Which entries `dump` prints; every one when empty. */
export interface DumpFilter {
  client?: string;
  /** "192.0.2.7" or "192.0.2.7:3719". */
  nat?: string;
  protocol?: keyof typeof PROTOCOL_NUMBERS;
}

/** Checks a filter before the database is opened (a bad value is a usage error); returns the test. */
export function dumpFilter(filter: DumpFilter): (entry: StoredEntry) => boolean {
  const client = filter.client === undefined ? undefined : parseClientAddress(filter.client);
  let nat: { address: number; port: number | undefined } | undefined;
  if (filter.nat !== undefined) {
    if (filter.nat.includes(':')) nat = parseNatEndpoint(filter.nat);
    else {
      const address = ipv4TextToUint32(filter.nat);
      if (address < 0) throw new QueryError(`"${filter.nat}" is not a NAT address (192.0.2.7) or address and port (192.0.2.7:3719)`);
      nat = { address, port: undefined };
    }
  }
  const protocol = filter.protocol === undefined ? undefined : PROTOCOL_NUMBERS[filter.protocol];
  return (entry) =>
    (protocol === undefined || entry.protocol === protocol) &&
    (nat === undefined || (entry.natAddress === nat.address && (nat.port === undefined || entry.natPort === nat.port))) &&
    (client === undefined || sameBytes(entry.clientAddress, client));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/** The entries of the current table that pass `accept`, oldest first. */
export function* dumpEntries(database: string, accept: (entry: StoredEntry) => boolean = () => true): Generator<StoredEntry> {
  const store = SqliteStore.openReadOnly(database);
  try {
    for (const entry of store.loadCurrent() as Iterable<StoredEntry>) if (accept(entry)) yield entry;
  } finally {
    store.close();
  }
}

/** The current table as log lines ("Created" at the time each entry was stored), oldest first. */
export function* dumpLines(database: string, zone: TimeZoneMode, accept?: (entry: StoredEntry) => boolean): Generator<string> {
  for (const entry of dumpEntries(database, accept)) yield entryLine(entry.startedAt, 'Created', entry, zone);
}

/** One entry of `dump --json`: the fields of `lookup --json` that an entry still held has. */
export function entryJson(entry: StoredEntry): Record<string, unknown> {
  return {
    protocol: PROTOCOL_NAMES[entry.protocol] ?? entry.protocol,
    nat: formatEndpoint4(entry.natAddress, entry.natPort),
    client: formatEndpoint6(entry.clientAddress, entry.clientPort),
    server: formatEndpoint4(entry.serverAddress, entry.serverPort),
    startedAt: isoMicros(entry.startedAt),
  };
}
