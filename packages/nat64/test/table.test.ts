import { describe, expect, it } from 'vitest';
import { deleteReasonName, Nat64Error, Nat64Table, PROTOCOL, tcpStateName, VERDICT, verdictName } from '@nat64/nat64';
import { client, MINUTE, NAT_1, NAT_2, newTable, SERVER_1, TestClock } from './support.js';

const { UDP, TCP } = PROTOCOL;

describe('table', () => {
  it('reserves its slots for maxSessions, grows them at once for a maximum raised at runtime, and still finds every session both ways', () => {
    const { table } = newTable({ initialCapacity: 16, maxSessions: 1000, pool4: [{ address: NAT_1 }, { address: NAT_2 }] });
    const growths = () => table.counters().find((c) => c.name === 'tableGrowths')?.value;
    const handles: number[] = [];
    for (let i = 0; i < 1000; i++) handles.push(table.outbound(UDP, client(i % 700), 0, 1024 + i, SERVER_1, 53));
    expect(growths()).toBe(0);
    const before = table.bytesAllocated();
    table.reconfigure({ maxSessions: 5000 });
    for (let i = 1000; i < 5000; i++) handles.push(table.outbound(UDP, client(i % 700), 0, 1024 + i, SERVER_1, 53));
    expect(table.sessionCount).toBe(5000);
    for (let i = 0; i < 5000; i++) {
      const h = handles[i]!;
      expect(table.lookupOutbound(UDP, client(i % 700), 0, 1024 + i, SERVER_1, 53)).toBe(h);
      expect(table.lookupInbound(UDP, SERVER_1, 53, table.natAddress(h), table.natPort(h))).toBe(h);
    }
    expect(table.bytesAllocated()).toBeGreaterThan(before);
    // Grown by the reconfigure, not doubled by the sessions that filled the old maximum.
    expect(growths()).toBe(0);
  });

  it('counts the ports in use per pool4 address and protocol, leaving out reserved ports', () => {
    const { table, clock } = newTable({ pool4: [{ address: NAT_1 }, { address: NAT_2 }], reservedPorts: [{ protocol: UDP, port: 62863 }] });
    for (let i = 0; i < 300; i++) table.outbound(UDP, client(i), 0, 1024 + i, SERVER_1, 53);
    for (let i = 0; i < 5; i++) table.outbound(TCP, client(i), 0, 2000 + i, SERVER_1, 80, 0x02);
    const usage = table.portsInUse();
    const total = (protocol: string) => usage.filter((u) => u.protocol === protocol).reduce((sum, u) => sum + u.ports, 0);
    expect(usage.map((u) => [u.address, u.protocol])).toEqual([
      [NAT_1, 'tcp'],
      [NAT_1, 'udp'],
      [NAT_1, 'icmp'],
      [NAT_2, 'tcp'],
      [NAT_2, 'udp'],
      [NAT_2, 'icmp'],
    ]);
    expect(total('udp')).toBe(300);
    expect(total('tcp')).toBe(5);
    expect(total('icmp')).toBe(0);
    clock.advance(10 * MINUTE);
    table.expire();
    expect(
      table
        .portsInUse()
        .filter((u) => u.protocol === 'udp')
        .map((u) => u.ports),
    ).toEqual([0, 0]);
  });

  it('reuses freed slots instead of growing', () => {
    const { table, clock } = newTable({ initialCapacity: 16 });
    for (let i = 0; i < 16; i++) table.outbound(UDP, client(i), 0, 1000, SERVER_1, 53);
    const bytes = table.bytesAllocated();
    clock.advance(5 * MINUTE);
    table.expire();
    for (let i = 0; i < 16; i++) table.outbound(UDP, client(100 + i), 0, 1000, SERVER_1, 53);
    expect(table.bytesAllocated()).toBe(bytes);
  });

  it('names a session with a token that stops resolving once the slot is reused', () => {
    const { table, clock } = newTable();
    const h = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    const token = table.sessionToken(h);
    expect(table.sessionFromToken(token)).toBe(h);
    clock.advance(5 * MINUTE);
    table.expire();
    expect(table.sessionFromToken(token)).toBe(VERDICT.NO_SESSION);
    const again = table.outbound(UDP, client(2), 0, 1000, SERVER_1, 53);
    expect(again).toBe(h);
    expect(table.sessionFromToken(token)).toBe(VERDICT.NO_SESSION);
    expect(table.sessionFromToken(table.sessionToken(again))).toBe(again);
  });

  it('lists every counter and gauge with an explanation', () => {
    const { table } = newTable();
    table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    table.outbound(TCP, client(1), 0, 1000, SERVER_1, 80, 0x10);
    table.inbound(UDP, SERVER_1, 53, NAT_1, 9);
    const counters = table.counters();
    const byName = Object.fromEntries(counters.map((c) => [c.name, c.value]));
    expect(byName).toMatchObject({ sessionsCreated: 1, sessionsUdp: 1, sessionsTcp: 0, bibEntries: 1, clients: 1, noSession: 1, noBib: 1 });
    expect(byName.bytesAllocated).toBe(table.bytesAllocated());
    for (const c of counters) expect(c.explanation.length).toBeGreaterThan(10);
    expect(new Set(counters.map((c) => c.name)).size).toBe(counters.length);
  });

  it('switches listeners', () => {
    const { table } = newTable();
    const seen: number[] = [];
    table.setListener({ sessionCreated: (h) => seen.push(h) });
    const h = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    table.setListener(undefined);
    table.outbound(UDP, client(2), 0, 1000, SERVER_1, 53);
    expect(seen).toEqual([h]);
  });

  it('names verdicts, reasons and states', () => {
    expect(verdictName(VERDICT.POOL_EXHAUSTED)).toBe('POOL_EXHAUSTED');
    expect(verdictName(3)).toBe('HANDLE');
    expect(deleteReasonName(3)).toBe('EVICTED');
    expect(tcpStateName(6)).toBe('V4_FIN_V6_FIN_RCV');
  });

  it('refuses bad options', () => {
    const clock = new TestClock();
    const base = { pool4: [{ address: NAT_1 }], clock: clock.read };
    expect(() => new Nat64Table({ ...base, maxSessions: 0 })).toThrow(Nat64Error);
    expect(() => new Nat64Table({ ...base, maxSessionsPerClient: 1.5 })).toThrow(/maxSessionsPerClient/);
    expect(() => new Nat64Table({ ...base, secret: new Uint8Array(8) })).toThrow(/secret/);
    expect(() => new Nat64Table({ ...base, filtering: 'none' as 'address-dependent' })).toThrow(/filtering/);
  });

  it('chooses ports from its secret', () => {
    const ports = (secret: Uint8Array) => {
      const table = new Nat64Table({ pool4: [{ address: NAT_1 }], clock: () => 0, secret });
      return [1, 2, 3].map((c) => table.natPort(table.outbound(UDP, client(c), 0, 1000, SERVER_1, 53)));
    };
    const a = new Uint8Array(64).fill(1);
    const b = new Uint8Array(64).fill(2);
    expect(ports(a)).toEqual(ports(a));
    expect(ports(a)).not.toEqual(ports(b));
  });
});
