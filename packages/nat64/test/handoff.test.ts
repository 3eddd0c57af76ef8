import { describe, expect, it } from 'vitest';
import { IMPL, PROTOCOL, TCP_FLAG, TCP_STATE, VERDICT, type RestoreEntry } from '@nat64/nat64';
import { client, HOUR, MINUTE, NAT_1, NAT_2, newTable, SERVER_1, SERVER_2, v4 } from './support.js';

const { TCP, UDP } = PROTOCOL;
const { SYN, ACK } = TCP_FLAG;

function entry(overrides: Partial<RestoreEntry> = {}): RestoreEntry {
  return {
    protocol: TCP,
    clientAddress: client(7),
    clientPort: 41_000,
    natAddress: NAT_1,
    natPort: 6000,
    serverAddress: SERVER_1,
    serverPort: 443,
    ...overrides,
  };
}

describe('handoff', () => {
  it('walks the sessions of a BIB entry, and only those', () => {
    const { table } = newTable();
    const a = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    const b = table.outbound(UDP, client(1), 0, 1000, SERVER_2, 53);
    table.outbound(UDP, client(2), 0, 1000, SERVER_1, 53);
    const bib = table.bibOf(a);
    const walked: number[] = [];
    for (let h = table.firstSessionOfBib(bib); h >= 0; h = table.nextSessionOfBib(h)) walked.push(h);
    expect(walked.sort()).toEqual([a, b].sort());
    table.release(UDP, table.natAddress(a), table.natPort(a), SERVER_1);
    expect(table.firstSessionOfBib(bib)).toBe(b);
    expect(table.nextSessionOfBib(b)).toBe(-1);
  });

  it('refuses to restore a session onto a reserved port', () => {
    const { table } = newTable({ reservedPorts: [{ protocol: UDP, port: 6081 }] });
    expect(table.restore(entry({ protocol: UDP, natPort: 6081 }))).toBe(VERDICT.CONFLICT);
    expect(table.restore(entry({ natPort: 6081 }))).toBeGreaterThanOrEqual(0);
  });

  it('evicts a handed-off session when its timer runs out instead of deleting it', () => {
    const { table, clock, events } = newTable();
    const h = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    table.setHandedOff(h, true);
    expect(table.isHandedOff(h)).toBe(true);
    expect(table.counters().find((c) => c.name === 'sessionsHandedOff')?.value).toBe(1);
    clock.advance(5 * MINUTE);
    table.expire();
    expect(table.sessionCount).toBe(0);
    expect(events.at(-2)).toMatch(/^session- .* EVICTED$/);
    expect(events.at(-1)).toMatch(/^bib- .* EVICTED$/);
    const counters = Object.fromEntries(table.counters().map((c) => [c.name, c.value]));
    expect(counters.sessionsEvicted).toBe(1);
    expect(counters.sessionsTimedOut).toBe(0);
    expect(counters.sessionsHandedOff).toBe(0);
  });

  it('evicts an idle handed-off TCP session without the ESTABLISHED probe', () => {
    const { table, clock, events } = newTable();
    const h = table.outbound(TCP, client(1), 0, 1000, SERVER_1, 80, SYN);
    table.inbound(TCP, SERVER_1, 80, NAT_1, table.natPort(h), SYN | ACK);
    table.setHandedOff(h, true);
    clock.advance(2 * HOUR + 4 * MINUTE);
    table.expire();
    expect(table.sessionCount).toBe(0);
    expect(events.some((e) => e.startsWith('probe'))).toBe(false);
  });

  it('keeps the session lifetime when it becomes authoritative again', () => {
    const { table, clock, events } = newTable();
    const h = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    const expiry = table.expiresAt(h);
    table.setHandedOff(h, true);
    table.setHandedOff(h, false);
    expect(table.expiresAt(h)).toBe(expiry);
    clock.advance(5 * MINUTE);
    table.expire();
    expect(events.at(-2)).toMatch(/ TIMEOUT$/);
  });

  it('hands off sessions in any order at a bounded cost: lifetimes never shorten and expiry stays in order', () => {
    const { table, clock } = newTable();
    const handles: number[] = [];
    const expiries: number[] = [];
    for (let i = 0; i < 500; i++) {
      handles.push(table.outbound(UDP, client(1 + (i % 7)), 0, 1000 + i, SERVER_1, 53));
      expiries.push(table.expiresAt(handles[i]!));
      clock.advance(10);
    }
    // Newest first, as acknowledgements from a slow receiver may come after those of a fast one.
    for (let i = handles.length - 1; i >= 0; i--) table.setHandedOff(handles[i]!, true);
    const after = handles.map((h) => table.expiresAt(h));
    for (const [i, expiry] of after.entries()) expect(expiry).toBeGreaterThanOrEqual(expiries[i]!);
    // The last ones handed off sorted exactly (IMPL.HANDOFF_SORT_STEPS); the ones further back were raised.
    expect(after.slice(-IMPL.HANDOFF_SORT_STEPS)).toEqual(expiries.slice(-IMPL.HANDOFF_SORT_STEPS));
    expect(after[0]).toBeGreaterThan(expiries[0]!);
    const cut = after[250]!;
    clock.now = cut;
    table.expire();
    const left = handles.filter((_, i) => after[i]! > cut).length;
    expect(table.sessionCount).toBe(left);
  });

  it('keeps exact lifetimes when an older session is handed off after a newer one', () => {
    const { table, clock } = newTable();
    const older = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    const olderExpiry = table.expiresAt(older);
    clock.advance(1000);
    const newer = table.outbound(UDP, client(2), 0, 1000, SERVER_1, 53);
    table.setHandedOff(newer, true);
    table.setHandedOff(older, true);
    expect(table.expiresAt(older)).toBe(olderExpiry);
    clock.now = olderExpiry;
    table.expire();
    expect(table.lookupOutbound(UDP, client(1), 0, 1000, SERVER_1, 53)).toBe(VERDICT.NO_SESSION);
    expect(table.lookupOutbound(UDP, client(2), 0, 1000, SERVER_1, 53)).toBe(newer);
  });

  it("restores a session with the authority's NAT port, marked handed off and found both ways", () => {
    const { table, clock, events } = newTable();
    const h = table.restore(entry());
    expect(h).toBeGreaterThanOrEqual(0);
    expect(table.isHandedOff(h)).toBe(true);
    expect(table.natAddress(h)).toBe(NAT_1);
    expect(table.natPort(h)).toBe(6000);
    expect(table.tcpState(h)).toBe(TCP_STATE.ESTABLISHED);
    expect(table.expiresAt(h)).toBe(clock.now + 2 * HOUR + 4 * MINUTE);
    expect(table.inbound(TCP, SERVER_1, 443, NAT_1, 6000, ACK)).toBe(h);
    expect(table.outbound(TCP, client(7), 0, 41_000, SERVER_1, 443, ACK)).toBe(h);
    expect(events).toEqual(['bib+ 41000->6000', 'session+ 6 41000->6000 10:443']);
  });

  it('restores the given TCP state with its timer class', () => {
    const { table, clock } = newTable();
    const h = table.restore(entry({ tcpState: TCP_STATE.V6_INIT }));
    expect(table.tcpState(h)).toBe(TCP_STATE.V6_INIT);
    expect(table.expiresAt(h)).toBe(clock.now + 4 * MINUTE);
  });

  it('reads the client address at the given offset', () => {
    const { table } = newTable();
    const buffer = new Uint8Array(24);
    buffer.set(client(9), 8);
    const h = table.restore(entry({ clientAddress: buffer, clientAddressOffset: 8 }));
    const out = new Uint8Array(16);
    table.copyClientAddress(h, out, 0);
    expect(out).toEqual(client(9));
  });

  it('refuses a NAT port held by another client, and a client mapped to another port', () => {
    const { table } = newTable();
    expect(table.restore(entry())).toBeGreaterThanOrEqual(0);
    expect(table.restore(entry({ clientAddress: client(8) }))).toBe(VERDICT.CONFLICT);
    expect(table.restore(entry({ natPort: 6001, serverAddress: SERVER_2 }))).toBe(VERDICT.CONFLICT);
    expect(table.restore(entry({ natPort: 6001 }))).toBe(VERDICT.CONFLICT);
    expect(table.counters().find((c) => c.name === 'restoreConflicts')?.value).toBe(3);
  });

  it('adds servers to an existing mapping and returns an existing identical session', () => {
    const { table } = newTable();
    const h = table.outbound(TCP, client(7), 0, 41_000, SERVER_1, 443, SYN);
    const natPort = table.natPort(h);
    expect(table.isHandedOff(h)).toBe(false);
    expect(table.restore(entry({ natPort }))).toBe(h);
    expect(table.isHandedOff(h)).toBe(true);
    const other = table.restore(entry({ natPort, serverAddress: SERVER_2 }));
    expect(table.bibOf(other)).toBe(table.bibOf(h));
    expect(table.bibCount).toBe(1);
  });

  it('refuses an address outside pool4 and malformed entries', () => {
    const { table } = newTable();
    expect(table.restore(entry({ natAddress: v4(192, 0, 2, 1) }))).toBe(VERDICT.NOT_IN_POOL);
    expect(table.restore(entry({ natPort: 70_000 }))).toBe(VERDICT.INVALID);
    expect(table.restore(entry({ clientAddress: new Uint8Array(15) }))).toBe(VERDICT.INVALID);
    expect(table.restore(entry({ tcpState: 9 as TCP_STATE_T }))).toBe(VERDICT.INVALID);
    expect(table.restore(entry({ protocol: 50 as 6 }))).toBe(VERDICT.INVALID);
    expect(table.sessionCount).toBe(0);
  });

  it('keeps a restored port away from dynamic allocation', () => {
    const { table } = newTable({ pool4: [{ address: NAT_1, udp: { min: 3000, max: 3001 } }] });
    table.restore(entry({ protocol: UDP, natPort: 3000 }));
    const h = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    expect(table.natPort(h)).toBe(3001);
    expect(table.outbound(UDP, client(2), 0, 1000, SERVER_1, 53)).toBe(VERDICT.POOL_EXHAUSTED);
  });

  it('releases every session of a NAT port and frees the port', () => {
    const { table, events } = newTable({ pool4: [{ address: NAT_1, udp: { min: 3000, max: 3000 } }] });
    const h = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    table.outbound(UDP, client(1), 0, 1000, SERVER_2, 53);
    expect(table.release(UDP, NAT_1, 3000)).toBe(2);
    expect(table.sessionCount).toBe(0);
    expect(events.slice(-3).map((e) => e.split(' ').at(-1))).toEqual(['RELEASED', 'RELEASED', 'RELEASED']);
    expect(table.natPort(table.outbound(UDP, client(2), 0, 1000, SERVER_1, 53))).toBe(3000);
    expect(h).toBeGreaterThanOrEqual(0);
  });

  it('releases only the sessions toward one server address when asked', () => {
    const { table } = newTable();
    const h = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    const natPort = table.natPort(h);
    table.outbound(UDP, client(1), 0, 1000, SERVER_2, 53);
    table.outbound(UDP, client(1), 0, 1000, SERVER_2, 123);
    expect(table.release(UDP, NAT_1, natPort, SERVER_2)).toBe(2);
    expect(table.lookupOutbound(UDP, client(1), 0, 1000, SERVER_1, 53)).toBe(h);
    expect(table.bibCount).toBe(1);
    expect(table.release(UDP, NAT_2, natPort)).toBe(0);
  });

  it('evicts the least recently used handed-off session to make room, and only those', () => {
    const { table, clock, events } = newTable({ maxSessions: 3 });
    table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    clock.advance(1000);
    const b = table.outbound(UDP, client(2), 0, 1000, SERVER_1, 53);
    clock.advance(1000);
    const c = table.outbound(TCP, client(3), 0, 1000, SERVER_1, 80, SYN);
    table.setHandedOff(b, true);
    table.setHandedOff(c, true);
    const cPort = table.natPort(c);
    clock.advance(1000);
    table.outbound(UDP, client(2), 0, 1000, SERVER_1, 53); // b is now more recent than c
    expect(table.outbound(UDP, client(4), 0, 1000, SERVER_1, 53)).toBeGreaterThanOrEqual(0);
    expect(events.filter((e) => e.includes('EVICTED') && e.startsWith('session-'))).toEqual([`session- 6 1000->${cPort} 10:80 EVICTED`]);
    expect(table.lookupOutbound(TCP, client(3), 0, 1000, SERVER_1, 80)).toBe(VERDICT.NO_SESSION);
    expect(table.outbound(UDP, client(5), 0, 1000, SERVER_1, 53)).toBeGreaterThanOrEqual(0);
    expect(table.lookupOutbound(UDP, client(2), 0, 1000, SERVER_1, 53)).toBe(VERDICT.NO_SESSION);
    expect(table.outbound(UDP, client(6), 0, 1000, SERVER_1, 53)).toBe(VERDICT.TABLE_FULL);
    expect(table.sessionCount).toBe(3);
  });

  it('makes room for a restore by evicting, and refuses one when nothing can go', () => {
    const { table } = newTable({ maxSessions: 1 });
    const first = table.restore(entry());
    expect(first).toBeGreaterThanOrEqual(0);
    const second = table.restore(entry({ clientPort: 41_001, natPort: 6001 }));
    expect(second).toBeGreaterThanOrEqual(0);
    expect(table.lookupInbound(TCP, SERVER_1, 443, NAT_1, 6000)).toBe(VERDICT.NO_SESSION);
    table.setHandedOff(second, false);
    expect(table.restore(entry())).toBe(VERDICT.TABLE_FULL);
  });
});

type TCP_STATE_T = (typeof TCP_STATE)[keyof typeof TCP_STATE];
