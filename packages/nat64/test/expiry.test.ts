import { describe, expect, it } from 'vitest';
import { Nat64Error, Nat64Table, PROTOCOL, VERDICT } from '@nat64/nat64';
import { client, HOUR, MINUTE, NAT_1, newTable, SERVER_1, SERVER_2, TestClock } from './support.js';

const { UDP, ICMP } = PROTOCOL;

describe('expiry', () => {
  it('deletes a UDP session after 5 minutes idle by default, not before', () => {
    const { table, clock } = newTable();
    const h = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    expect(table.expiresAt(h)).toBe(clock.now + 5 * MINUTE);
    clock.advance(5 * MINUTE - 1);
    table.expire();
    expect(table.sessionCount).toBe(1);
    clock.advance(1);
    table.expire();
    expect(table.sessionCount).toBe(0);
  });

  it('restarts the lifetime on traffic in either direction', () => {
    const { table, clock } = newTable();
    const h = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    clock.advance(4 * MINUTE);
    table.inbound(UDP, SERVER_1, 53, NAT_1, table.natPort(h));
    clock.advance(4 * MINUTE);
    table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    clock.advance(4 * MINUTE);
    table.expire();
    expect(table.sessionCount).toBe(1);
    clock.advance(MINUTE);
    table.expire();
    expect(table.sessionCount).toBe(0);
  });

  it('deletes an ICMP query session after 60 seconds', () => {
    const { table, clock } = newTable();
    table.outbound(ICMP, client(1), 0, 77, SERVER_1, 0);
    clock.advance(59_999);
    table.expire();
    expect(table.sessionCount).toBe(1);
    clock.advance(1);
    table.expire();
    expect(table.sessionCount).toBe(0);
  });

  it('uses configured timeouts', () => {
    const { table, clock } = newTable({ timeouts: { udp: 2 * MINUTE, icmp: 1000 } });
    table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    table.outbound(ICMP, client(1), 0, 5, SERVER_1, 0);
    clock.advance(1000);
    table.expire();
    expect(table.sessionCount).toBe(1);
    clock.advance(2 * MINUTE - 1000);
    table.expire();
    expect(table.sessionCount).toBe(0);
  });

  it('refuses timeouts below the RFC minimums', () => {
    const clock = new TestClock();
    const make = (timeouts: object) => () => new Nat64Table({ pool4: [{ address: NAT_1 }], clock: clock.read, timeouts });
    expect(make({ udp: 2 * MINUTE - 1 })).toThrow(Nat64Error);
    expect(make({ tcpEstablished: 2 * HOUR })).toThrow(/tcpEstablished/);
    expect(make({ tcpTransitory: 3 * MINUTE })).toThrow(/tcpTransitory/);
    expect(make({ icmp: 0 })).toThrow(/icmp/);
  });

  it('accepts timeouts below the RFC minimums only when told to', () => {
    const { table, clock } = newTable({ allowShortTimeouts: true, timeouts: { udp: 2000, tcpEstablished: 5000, tcpTransitory: 1000 } });
    table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    clock.advance(1999);
    table.expire();
    expect(table.sessionCount).toBe(1);
    clock.advance(1);
    table.expire();
    expect(table.sessionCount).toBe(0);
    expect(() => newTable({ allowShortTimeouts: true, timeouts: { udp: 0 } })).toThrow(/timeouts.udp/);
  });

  it('keeps the BIB entry while any session uses it and deletes it with the last', () => {
    const { table, clock, events } = newTable();
    const a = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    const natPort = table.natPort(a);
    clock.advance(MINUTE);
    table.outbound(UDP, client(1), 0, 1000, SERVER_2, 53);
    clock.advance(4 * MINUTE);
    table.expire();
    expect(table.bibCount).toBe(1);
    clock.advance(MINUTE);
    table.expire();
    expect(table.bibCount).toBe(0);
    expect(events).toEqual([
      `bib+ 1000->${natPort}`,
      `session+ 17 1000->${natPort} 10:53`,
      `session+ 17 1000->${natPort} 20:53`,
      `session- 17 1000->${natPort} 10:53 TIMEOUT`,
      `session- 17 1000->${natPort} 20:53 TIMEOUT`,
      `bib- 1000->${natPort} TIMEOUT`,
    ]);
  });

  it('frees the NAT port of an expired mapping for the next client', () => {
    const { table, clock } = newTable({ pool4: [{ address: NAT_1, udp: { min: 3000, max: 3000 } }] });
    table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    expect(table.outbound(UDP, client(2), 0, 1000, SERVER_1, 53)).toBeLessThan(0);
    clock.advance(5 * MINUTE);
    table.expire();
    expect(table.natPort(table.outbound(UDP, client(2), 0, 1000, SERVER_1, 53))).toBe(3000);
  });

  it('expires in order of last use and stops at the first session not due', () => {
    const { table, clock } = newTable();
    for (let i = 0; i < 10; i++) {
      table.outbound(UDP, client(i), 0, 1000, SERVER_1, 53);
      clock.advance(1000);
    }
    // Touch the oldest: it moves behind the others.
    table.outbound(UDP, client(0), 0, 1000, SERVER_1, 53);
    clock.advance(5 * MINUTE - 10_000 + 4_000);
    table.expire();
    // Sessions of clients 1..4 (created at t0+1s..t0+4s) are due; client 0 was refreshed.
    expect(table.sessionCount).toBe(6);
    expect(table.lookupOutbound(UDP, client(0), 0, 1000, SERVER_1, 53)).toBeGreaterThanOrEqual(0);
    expect(table.lookupOutbound(UDP, client(4), 0, 1000, SERVER_1, 53)).toBeLessThan(0);
    expect(table.lookupOutbound(UDP, client(5), 0, 1000, SERVER_1, 53)).toBeGreaterThanOrEqual(0);
  });

  it('processes at most the budget per call and leaves the rest due', () => {
    const { table, clock } = newTable();
    for (let i = 0; i < 10; i++) table.outbound(UDP, client(i), 0, 1000, SERVER_1, 53);
    clock.advance(5 * MINUTE);
    table.expire(clock.now, 4);
    expect(table.sessionCount).toBe(6);
    table.expire(clock.now, 4);
    expect(table.sessionCount).toBe(2);
    table.expire();
    expect(table.sessionCount).toBe(0);
  });

  it('catches up on everything due when called late', () => {
    const { table, clock } = newTable();
    for (let i = 0; i < 100; i++) table.outbound(i % 2 ? UDP : ICMP, client(i), 0, 1000 + i, SERVER_1, 53);
    clock.advance(10 * HOUR);
    table.expire();
    expect(table.sessionCount).toBe(0);
    expect(table.bibCount).toBe(0);
  });
});

describe('reconfigure', () => {
  it('applies a new timeout to the sessions that already exist, and to new ones', () => {
    const { table, clock } = newTable();
    const old = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    clock.advance(MINUTE);
    table.reconfigure({ timeouts: { udp: 10 * MINUTE } });
    expect(table.expiresAt(old)).toBe(clock.now - MINUTE + 10 * MINUTE);
    const fresh = table.outbound(UDP, client(2), 0, 1000, SERVER_1, 53);
    expect(table.expiresAt(fresh)).toBe(clock.now + 10 * MINUTE);
    clock.advance(9 * MINUTE - 1);
    table.expire();
    expect(table.sessionCount).toBe(2);
    clock.advance(1);
    table.expire();
    expect(table.sessionCount).toBe(1);
  });

  it('refuses new sessions past a lowered maximum, keeping the ones it has', () => {
    const { table } = newTable();
    table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    table.outbound(UDP, client(2), 0, 1000, SERVER_1, 53);
    table.reconfigure({ maxSessions: 1 });
    expect(table.sessionCount).toBe(2);
    expect(table.outbound(UDP, client(3), 0, 1000, SERVER_1, 53)).toBe(VERDICT.TABLE_FULL);
    table.reconfigure({ maxSessions: 3, maxSessionsPerClient: 1 });
    expect(table.outbound(UDP, client(1), 0, 1001, SERVER_1, 53)).toBe(VERDICT.CLIENT_LIMIT);
    expect(table.outbound(UDP, client(3), 0, 1000, SERVER_1, 53)).toBeGreaterThanOrEqual(0);
  });

  it('refuses a timeout below the RFC minimum unless allowed, changing nothing', () => {
    const { table, clock } = newTable();
    const h = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    expect(() => table.reconfigure({ timeouts: { udp: 1000 }, maxSessions: 5 })).toThrow(Nat64Error);
    expect(table.expiresAt(h)).toBe(clock.now + 5 * MINUTE);
    table.reconfigure({ timeouts: { udp: 1000 }, allowShortTimeouts: true });
    expect(table.expiresAt(h)).toBe(clock.now + 1000);
  });
});
