// Test fixtures: a hand-driven clock, documentation-range addresses, a table with recorded events.

import { deleteReasonName, Nat64Table, type Nat64Listener, type Nat64Options } from '@nat64/nat64';

/** A fixed secret so port choices repeat from run to run. */
export const SECRET = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);

/** An IPv4 address as the tables take it: a 32-bit unsigned integer. */
export function v4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** pool4 addresses from 203.0.113.0/24 (TEST-NET-3). */
export const NAT_1 = v4(203, 0, 113, 1);
export const NAT_2 = v4(203, 0, 113, 2);
/** IPv4 servers from 198.51.100.0/24 (TEST-NET-2). */
export const SERVER_1 = v4(198, 51, 100, 10);
export const SERVER_2 = v4(198, 51, 100, 20);

/** 2001:db8::<n> (RFC 3849), 16 bytes. */
export function client(n: number): Uint8Array {
  const bytes = new Uint8Array(16);
  bytes.set([0x20, 0x01, 0x0d, 0xb8]);
  bytes[12] = (n >>> 24) & 0xff;
  bytes[13] = (n >>> 16) & 0xff;
  bytes[14] = (n >>> 8) & 0xff;
  bytes[15] = n & 0xff;
  return bytes;
}

export class TestClock {
  now = 1_000_000;
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** A table over NAT_1 (and more if asked), with its clock and a log of listener calls. */
export function newTable(overrides: Partial<Nat64Options> = {}): { table: Nat64Table; clock: TestClock; events: string[] } {
  const clock = new TestClock();
  const events: string[] = [];
  let table: Nat64Table | undefined;
  const listener: Nat64Listener = {
    sessionCreated: (h) => events.push(`session+ ${label(table!, h)}`),
    sessionDeleted: (h, reason) => events.push(`session- ${label(table!, h)} ${deleteReasonName(reason)}`),
    bibCreated: (b) => events.push(`bib+ ${table!.bibClientPort(b)}->${table!.bibNatPort(b)}`),
    bibDeleted: (b, reason) => events.push(`bib- ${table!.bibClientPort(b)}->${table!.bibNatPort(b)} ${deleteReasonName(reason)}`),
    tcpProbe: (h) => events.push(`probe ${label(table!, h)}`),
  };
  table = new Nat64Table({ pool4: [{ address: NAT_1 }], clock: clock.read, secret: SECRET, listener, ...overrides });
  return { table, clock, events };
}

/** "proto clientPort->natPort server:port" for event logs. */
export function label(table: Nat64Table, h: number): string {
  return `${table.protocol(h)} ${table.clientPort(h)}->${table.natPort(h)} ${table.serverAddress(h) & 0xff}:${table.serverPort(h)}`;
}
