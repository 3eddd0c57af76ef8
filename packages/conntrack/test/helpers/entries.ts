// Entry builders for tests, all in documentation ranges: NAT addresses in 192.0.2.0/24, servers in
// 198.51.100.0/24, clients in 2001:db8::/32.
import type { ConnEntry, ConnOperation, DeleteReason } from '@nat64/conntrack';

/** 192.0.2.7 */
export const NAT = 0xc000_0207;
/** 198.51.100.1 */
export const SERVER = 0xc633_6401;
/** 2019-03-18 10:06:28 UTC in µs. */
export const T0 = Date.UTC(2019, 2, 18, 10, 6, 28) * 1000;
export const SECOND = 1_000_000;

/** 2001:db8::<n>, n below 2^16. */
export function client(n: number): Uint8Array {
  const bytes = new Uint8Array(16);
  bytes.set([0x20, 0x01, 0x0d, 0xb8]);
  bytes[14] = n >> 8;
  bytes[15] = n & 0xff;
  return bytes;
}

/** A TCP entry for NAT port `natPort` held by client 2001:db8::<who>, port 50000 + who. */
export function tcp(natPort: number, who = 1, overrides: Partial<ConnEntry> = {}): ConnEntry {
  return {
    protocol: 6,
    natAddress: NAT,
    natPort,
    clientAddress: client(who),
    clientPort: 50_000 + who,
    serverAddress: SERVER,
    serverPort: 443,
    createdAt: T0 - 1000,
    ...overrides,
  };
}

export const create = (entry: ConnEntry): ConnOperation => ({ op: 'create', entry });
export const del = (entry: ConnEntry, reason: DeleteReason = 'gateway'): ConnOperation => ({ op: 'delete', entry, reason });

/** A manual clock in µs. */
export function manualClock(start = T0): (() => number) & { advance(us: number): void; set(us: number): void } {
  let now = start;
  return Object.assign(() => now, {
    advance(us: number) {
      now += us;
    },
    set(us: number) {
      now = us;
    },
  });
}
