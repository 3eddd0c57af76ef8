// The admin's questions, answered from the store without the daemon: which IPv6 client held a NAT
// address and port (now, or at a given time), and the whole current table in log format. They
// open the database read-only, so they work while the receiver runs.
import { SqliteStore, type HistoryRecord, type StoredEntry } from '@nat64/conntrack';
import { formatEndpoint4, formatEndpoint6 } from '@nat64/service';
import { ipv4TextToUint32 } from '@nat64/wire';
import { entryLine, formatTimestamp, type TimeZoneMode } from '@nat64/handoff-receiver';

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

/** "2019-03-18 10:30", "2019-03-18 10:30:05", "2019-03-18 10:30:05.123456" or ISO 8601, into µs. */
export function parseTime(text: string, zone: TimeZoneMode): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z)?$/.exec(text.trim());
  if (!match) throw new QueryError(`"${text}" is not a time such as "2019-03-18 10:30" or "2019-03-18 10:30:05.123456"`);
  const [year, month, day, hours, minutes] = match.slice(1, 6).map(Number) as [number, number, number, number, number];
  const seconds = Number(match[6] ?? 0);
  const micros = Number((match[7] ?? '').padEnd(6, '0'));
  const utc = zone === 'utc' || match[8] === 'Z';
  const millis = utc ? Date.UTC(year, month - 1, day, hours, minutes, seconds) : new Date(year, month - 1, day, hours, minutes, seconds).getTime();
  if (Number.isNaN(millis) || month > 12 || day > 31 || hours > 23 || minutes > 59 || seconds > 60) throw new QueryError(`"${text}" is not a valid time`);
  return millis * 1000 + micros;
}

export interface LookupRequest {
  database: string;
  endpoint: string;
  protocol?: keyof typeof PROTOCOL_NUMBERS;
  at?: string;
  zone: TimeZoneMode;
  limit: number;
}

export function lookup(request: LookupRequest): HistoryRecord[] {
  const { address, port } = parseNatEndpoint(request.endpoint);
  const at = request.at === undefined ? undefined : parseTime(request.at, request.zone);
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
    protocol: PROTOCOL_NAMES[record.protocol] ?? record.protocol,
    nat: formatEndpoint4(record.natAddress, record.natPort),
    client: formatEndpoint6(record.clientAddress, record.clientPort),
    server: formatEndpoint4(record.serverAddress, record.serverPort),
    startedAt: new Date(Math.floor(record.startedAt / 1000)).toISOString(),
    endedAt: record.endedAt === null ? null : new Date(Math.floor(record.endedAt / 1000)).toISOString(),
    endReason: record.endReason,
  };
}

/** The current table as log lines ("Created" at the time each entry was stored), oldest first. */
export function* dumpLines(database: string, zone: TimeZoneMode): Generator<string> {
  const store = SqliteStore.openReadOnly(database);
  try {
    for (const entry of store.loadCurrent() as Iterable<StoredEntry>) yield entryLine(entry.startedAt, 'Created', entry, zone);
  } finally {
    store.close();
  }
}
