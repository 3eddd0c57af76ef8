// The admin's question, answered from the store without the daemon: which IPv6 client held a NAT
// address and port (now, or at a given time), or what one client held; and the text and JSON of
// the answer. It opens the database read-only, so it works while the receiver runs.
// Subpaths, not the packages: `lookup` (lookup-main.ts) loads neither the writer of the store, the
// logger nor the receiver engine; ipaddr.js only for --client.
import type { HistoryRecord, StoredEntry } from '@nat64/conntrack';
import { SqliteReader } from '@nat64/conntrack/sqlite-reader';
import { formatEndpoint4, formatEndpoint6 } from '@nat64/service/addresses';
import { ipv4TextToUint32 } from '@nat64/wire/address';
import { formatTimestamp, type TimeZoneMode } from '@nat64/handoff-receiver/conn-log';

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

/** The error for text that is not an IPv6 client address. */
export function notAClientAddress(text: string): QueryError {
  return new QueryError(`"${text}" is not an IPv6 address such as 2001:db8::17`);
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

export async function lookup(request: LookupRequest): Promise<HistoryRecord[]> {
  if ((request.endpoint === undefined) === (request.client === undefined)) throw new QueryError('give a NAT address and port, or --client, not both');
  const at = request.at === undefined ? undefined : parseTime(request.at, request.zone);
  if (request.client !== undefined) {
    const { clientAddressBytes } = await import('./client-address.js');
    const clientAddress = clientAddressBytes(request.client);
    if (clientAddress === undefined) throw notAClientAddress(request.client);
    const protocol = request.protocol === undefined ? undefined : PROTOCOL_NUMBERS[request.protocol];
    const store = SqliteReader.open(request.database);
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
  const store = SqliteReader.open(request.database);
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
