// `nat64-receiver dump`: the current table from the store, without the daemon, filtered, as
// connection log lines or entries (read-only, so it works while the receiver runs).
import type { StoredEntry } from '@nat64/conntrack';
import { SqliteReader } from '@nat64/conntrack/sqlite-reader';
import { entryLine, type TimeZoneMode } from '@nat64/handoff-receiver/conn-log';
import { ipv4TextToUint32 } from '@nat64/wire/address';
import { clientAddressBytes } from './client-address.js';
import { notAClientAddress, parseNatEndpoint, PROTOCOL_NUMBERS, QueryError } from './queries.js';

/** Which entries `dump` prints; every one when empty. */
export interface DumpFilter {
  client?: string;
  /** "192.0.2.7" or "192.0.2.7:3719". */
  nat?: string;
  protocol?: keyof typeof PROTOCOL_NUMBERS;
}

/** Checks a filter before the database is opened (a bad value is a usage error); returns the test. */
export function dumpFilter(filter: DumpFilter): (entry: StoredEntry) => boolean {
  const client = filter.client === undefined ? undefined : clientAddressBytes(filter.client);
  if (filter.client !== undefined && client === undefined) throw notAClientAddress(filter.client);
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
  const store = SqliteReader.open(database);
  try {
    for (const entry of store.loadCurrent()) if (accept(entry)) yield entry;
  } finally {
    store.close();
  }
}

/** The current table as log lines ("Created" at the time each entry was stored), oldest first. */
export function* dumpLines(database: string, zone: TimeZoneMode, accept?: (entry: StoredEntry) => boolean): Generator<string> {
  for (const entry of dumpEntries(database, accept)) yield entryLine(entry.startedAt, 'Created', entry, zone);
}
