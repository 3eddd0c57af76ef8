import { describe, expect, it } from 'vitest';
import { Nat64Error, PROTOCOL, VERDICT } from '@nat64/nat64';
import { client, HOUR, NAT_1, newTable, SERVER_1, SERVER_2, v4 } from './support.js';

const { TCP, UDP } = PROTOCOL;

describe('admin', () => {
  const web = { protocol: TCP, clientAddress: client(80), clientPort: 80, natAddress: NAT_1, natPort: 80 } as const;

  it('lets IPv4 servers reach a static BIB entry and never expires it', () => {
    const { table, clock } = newTable({ staticBib: [web] });
    const b = table.findBibByNat(TCP, NAT_1, 80);
    expect(table.isStaticBib(b)).toBe(true);
    const h = table.inbound(TCP, SERVER_1, 51_000, NAT_1, 80, 0x02);
    expect(table.clientPort(h)).toBe(80);
    clock.advance(10 * HOUR);
    table.expire();
    expect(table.sessionCount).toBe(0);
    expect(table.bibCount).toBe(1);
    expect(table.counters().find((c) => c.name === 'bibStatic')?.value).toBe(1);
  });

  it('refuses a static entry on a reserved port', () => {
    const { table } = newTable({ reservedPorts: [{ protocol: UDP, port: 62_863 }] });
    expect(() => table.addStaticBib({ ...web, protocol: UDP, natPort: 62_863 })).toThrow(/reserved/);
    expect(table.addStaticBib({ ...web, natPort: 62_863 })).toBeGreaterThanOrEqual(0);
  });

  it("maps the static client's other ports on the same pool address", () => {
    const { table } = newTable({ staticBib: [web] });
    const h = table.outbound(UDP, client(80), 0, 5353, SERVER_2, 53);
    expect(table.natAddress(h)).toBe(NAT_1);
  });

  it('refuses static entries that collide or sit outside pool4', () => {
    const { table } = newTable({ staticBib: [web] });
    expect(() => table.addStaticBib({ ...web, clientPort: 81 })).toThrow(/in use/);
    expect(() => table.addStaticBib({ ...web, natPort: 81 })).toThrow(/already has a BIB entry/);
    expect(() => table.addStaticBib({ ...web, natAddress: v4(192, 0, 2, 9) })).toThrow(Nat64Error);
    expect(() => table.addStaticBib({ ...web, clientAddress: new Uint8Array(4) })).toThrow(/16 bytes/);
    expect(() => table.addStaticBib({ ...web, protocol: 2 as 6 })).toThrow(/protocol/);
  });

  it('removes a static entry with its sessions', () => {
    const { table, events } = newTable({ staticBib: [web] });
    table.inbound(TCP, SERVER_1, 51_000, NAT_1, 80, 0x02);
    table.inbound(TCP, SERVER_2, 51_000, NAT_1, 80, 0x02);
    expect(table.removeStaticBib(TCP, NAT_1, 80)).toBe(true);
    expect(table.sessionCount).toBe(0);
    expect(table.bibCount).toBe(0);
    expect(events.slice(-3).map((e) => e.split(' ').at(-1))).toEqual(['ADMINISTRATIVE', 'ADMINISTRATIVE', 'ADMINISTRATIVE']);
    expect(table.removeStaticBib(TCP, NAT_1, 80)).toBe(false);
    expect(table.inbound(TCP, SERVER_1, 51_000, NAT_1, 80, 0x02)).toBe(VERDICT.HELD_SYN);
  });

  it('refuses to remove a dynamic entry as static', () => {
    const { table } = newTable();
    const h = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    expect(table.removeStaticBib(UDP, NAT_1, table.natPort(h))).toBe(false);
    expect(table.sessionCount).toBe(1);
  });

  it('deletes one session by hand', () => {
    const { table, events } = newTable();
    const h = table.outbound(UDP, client(1), 0, 1000, SERVER_1, 53);
    table.deleteSession(h);
    expect(table.sessionCount).toBe(0);
    expect(events.at(-2)).toMatch(/ ADMINISTRATIVE$/);
    expect(() => table.deleteSession(h)).toThrow(/no session/);
  });
});
