import { describe, expect, it } from 'vitest';
import { PROTOCOL, TCP_FLAG, VERDICT } from '@nat64/nat64';
import { client, MINUTE, NAT_1, NAT_2, newTable, SERVER_1, SERVER_2, v4 } from './support.js';

const { TCP, UDP, ICMP } = PROTOCOL;
const { SYN, ACK } = TCP_FLAG;

describe('datapath', () => {
  it('creates an outbound session and exposes its mapping through the handle', () => {
    const { table } = newTable();
    // The client address sits inside a larger buffer, as in a received IPv6 header (source at offset 8).
    const packet = new Uint8Array(40);
    packet.set(client(0x0a0b0c0d), 8);
    const h = table.outbound(UDP, packet, 8, 40_001, SERVER_1, 53);
    expect(h).toBeGreaterThanOrEqual(0);
    expect(table.protocol(h)).toBe(UDP);
    expect(table.clientPort(h)).toBe(40_001);
    expect(table.natAddress(h)).toBe(NAT_1);
    expect(table.natPort(h) % 2).toBe(1);
    expect(table.natPort(h)).toBeGreaterThanOrEqual(1024);
    expect(table.serverAddress(h)).toBe(SERVER_1);
    expect(table.serverPort(h)).toBe(53);
    const out = new Uint8Array(20).fill(0xee);
    expect(table.copyClientAddress(h, out, 2)).toBe(18);
    expect([...out]).toEqual([0xee, 0xee, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0x0b, 0x0c, 0x0d, 0xee, 0xee]);
  });

  it('finds the same session for the reply and for the next outbound packet', () => {
    const { table } = newTable();
    const h = table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53);
    expect(table.inbound(UDP, SERVER_1, 53, NAT_1, table.natPort(h))).toBe(h);
    expect(table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53)).toBe(h);
    expect(table.sessionCount).toBe(1);
  });

  it('maps one client transport address to one NAT transport address for every server (EIM)', () => {
    const { table } = newTable();
    const a = table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53);
    const b = table.outbound(UDP, client(1), 0, 40_000, SERVER_2, 123);
    expect(b).not.toBe(a);
    expect(table.natPort(b)).toBe(table.natPort(a));
    expect(table.bibOf(b)).toBe(table.bibOf(a));
    expect(table.bibCount).toBe(1);
    const c = table.outbound(UDP, client(1), 0, 40_002, SERVER_1, 53);
    expect(table.natPort(c)).not.toBe(table.natPort(a));
    expect(table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 53, SYN)).toBeGreaterThanOrEqual(0);
    expect(table.bibCount).toBe(3);
  });

  it('lets any server reach a mapping under endpoint-independent filtering', () => {
    const { table } = newTable();
    const h = table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53);
    const natPort = table.natPort(h);
    const other = table.inbound(UDP, SERVER_2, 9999, NAT_1, natPort);
    expect(other).toBeGreaterThanOrEqual(0);
    expect(table.clientPort(other)).toBe(40_000);
    expect(table.serverAddress(other)).toBe(SERVER_2);
    expect(table.lookupOutbound(UDP, client(1), 0, 40_000, SERVER_2, 9999)).toBe(other);
  });

  it('admits only contacted server addresses under address-dependent filtering', () => {
    const { table } = newTable({ filtering: 'address-dependent' });
    const h = table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53);
    const natPort = table.natPort(h);
    // Same address, another port: allowed (address-dependent, not address-and-port-dependent).
    expect(table.inbound(UDP, SERVER_1, 5353, NAT_1, natPort)).toBeGreaterThanOrEqual(0);
    expect(table.inbound(UDP, SERVER_2, 53, NAT_1, natPort)).toBe(VERDICT.FILTERED);
    expect(table.sessionCount).toBe(2);
  });

  it('refuses inbound packets for a NAT transport address no BIB entry holds', () => {
    const { table } = newTable();
    expect(table.inbound(UDP, SERVER_1, 53, NAT_1, 4000)).toBe(VERDICT.NO_BIB);
    expect(table.inbound(UDP, SERVER_1, 53, v4(192, 0, 2, 1), 4000)).toBe(VERDICT.NO_BIB);
    expect(table.sessionCount).toBe(0);
  });

  it('opens TCP sessions only with a SYN', () => {
    const { table } = newTable();
    expect(table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, ACK)).toBe(VERDICT.NO_SESSION);
    const h = table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, SYN);
    expect(h).toBeGreaterThanOrEqual(0);
    // Under EIF the mapping exists, yet a non-SYN from another server opens nothing.
    expect(table.inbound(TCP, SERVER_2, 80, NAT_1, table.natPort(h), ACK)).toBe(VERDICT.NO_SESSION);
    expect(table.sessionCount).toBe(1);
  });

  it('keys ICMP query sessions by identifier and ignores the server port', () => {
    const { table } = newTable();
    const h = table.outbound(ICMP, client(1), 0, 0x1234, SERVER_1, 0x1234);
    expect(table.clientPort(h)).toBe(0x1234);
    expect(table.serverPort(h)).toBe(0);
    expect(table.inbound(ICMP, SERVER_1, 0, NAT_1, table.natPort(h))).toBe(h);
    expect(table.inbound(ICMP, SERVER_1, 0x5555, NAT_1, table.natPort(h))).toBe(h);
    expect(table.outbound(ICMP, client(1), 0, 0x1234, SERVER_1, 7)).toBe(h);
  });

  it('finds sessions without creating or refreshing them in the lookup-only variants', () => {
    const { table, clock } = newTable();
    expect(table.lookupOutbound(UDP, client(1), 0, 40_000, SERVER_1, 53)).toBe(VERDICT.NO_SESSION);
    const h = table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53);
    const expiry = table.expiresAt(h);
    clock.advance(MINUTE);
    expect(table.lookupOutbound(UDP, client(1), 0, 40_000, SERVER_1, 53)).toBe(h);
    expect(table.lookupInbound(UDP, SERVER_1, 53, NAT_1, table.natPort(h))).toBe(h);
    expect(table.lookupInbound(UDP, SERVER_2, 53, NAT_1, table.natPort(h))).toBe(VERDICT.NO_SESSION);
    expect(table.expiresAt(h)).toBe(expiry);
    expect(table.sessionCount).toBe(1);
    expect(table.findBibByClient(UDP, client(1), 0, 40_000)).toBe(table.bibOf(h));
    expect(table.findBibByNat(UDP, NAT_1, table.natPort(h))).toBe(table.bibOf(h));
    expect(table.findBibByNat(TCP, NAT_1, table.natPort(h))).toBe(VERDICT.NO_BIB);
  });

  it('without newMapping, tells a flow that needs a new BIB entry apart and makes nothing for it', () => {
    const { table } = newTable({ maxSessions: 2 });
    const created = () => table.counters().find((c) => c.name === 'sessionsCreated')!.value;
    expect(table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53, 0, false)).toBe(VERDICT.NEW_MAPPING);
    expect(table.outbound(ICMP, client(1), 0, 7, SERVER_1, 0, 0, false)).toBe(VERDICT.NEW_MAPPING);
    expect([table.sessionCount, table.bibCount, created()]).toEqual([0, 0, 0]);
    const h = table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53);
    // An established flow, and a new server on the client's mapping (EIM): found or made as usual.
    expect(table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53, 0, false)).toBe(h);
    const other = table.outbound(UDP, client(1), 0, 40_000, SERVER_2, 53, 0, false);
    expect(table.bibOf(other)).toBe(table.bibOf(h));
    // A full table evicts nothing (here a handed-off session) for a flow it only tells apart.
    table.setHandedOff(h, true);
    expect(table.outbound(UDP, client(2), 0, 40_000, SERVER_1, 53, 0, false)).toBe(VERDICT.NEW_MAPPING);
    expect([table.sessionCount, table.bibCount, created()]).toEqual([2, 1, 2]);
    expect(table.outbound(UDP, client(2), 0, 40_000, SERVER_1, 53)).toBeGreaterThanOrEqual(0);
    expect(table.lookupOutbound(UDP, client(1), 0, 40_000, SERVER_1, 53)).toBe(VERDICT.NO_SESSION);
  });

  it('makes the flow it just told apart as new, and only that flow, on the next call', () => {
    const { table } = newTable();
    const established = table.outbound(UDP, client(3), 0, 40_000, SERVER_1, 53);
    expect(table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53, 0, false)).toBe(VERDICT.NEW_MAPPING);
    // Other flows come first: an established one is found, a new one of the same client gets its own
    // session on the client's one mapping.
    expect(table.outbound(UDP, client(3), 0, 40_000, SERVER_1, 53)).toBe(established);
    const other = table.outbound(UDP, client(1), 0, 40_000, SERVER_2, 53);
    const h = table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53);
    expect(table.bibOf(h)).toBe(table.bibOf(other));
    expect(h).not.toBe(other);
    expect([table.sessionCount, table.bibCount]).toEqual([3, 2]);
    // The flow asked about is made on the next call, and found by the one after.
    expect(table.outbound(UDP, client(2), 0, 40_000, SERVER_1, 53, 0, false)).toBe(VERDICT.NEW_MAPPING);
    const made = table.outbound(UDP, client(2), 0, 40_000, SERVER_1, 53);
    expect(table.outbound(UDP, client(2), 0, 40_000, SERVER_1, 53)).toBe(made);
    expect(table.lookupOutbound(UDP, client(2), 0, 40_000, SERVER_1, 53)).toBe(made);
    expect([table.sessionCount, table.bibCount]).toEqual([4, 3]);
  });

  it('looks a flow told apart as new up again when the table changed before it is made', () => {
    const { table } = newTable();
    // A static entry for the client comes between the two calls (here, the operator's): the flow must take it.
    expect(table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53, 0, false)).toBe(VERDICT.NEW_MAPPING);
    table.addStaticBib({ protocol: UDP, clientAddress: client(1), clientPort: 40_000, natAddress: NAT_1, natPort: 5000 });
    const h = table.outbound(UDP, client(1), 0, 40_000, SERVER_1, 53);
    expect(table.natPort(h)).toBe(5000);
    expect(table.bibCount).toBe(1);
    // A session restored between them (a receiver's answer): the flow finds it instead of making another.
    expect(table.outbound(UDP, client(2), 0, 40_000, SERVER_1, 53, 0, false)).toBe(VERDICT.NEW_MAPPING);
    const restored = table.restore({
      protocol: UDP,
      clientAddress: client(2),
      clientPort: 40_000,
      natAddress: NAT_1,
      natPort: 6000,
      serverAddress: SERVER_1,
      serverPort: 53,
    });
    expect(table.outbound(UDP, client(2), 0, 40_000, SERVER_1, 53)).toBe(restored);
    expect([table.sessionCount, table.bibCount]).toEqual([2, 2]);
  });

  it('keeps each client on one pool4 address across ports and protocols (paired pooling)', () => {
    const { table } = newTable({ pool4: [{ address: NAT_1 }, { address: NAT_2 }] });
    const used = new Set<number>();
    for (let c = 1; c <= 40; c++) {
      const addresses = new Set<number>();
      for (let port = 0; port < 10; port++) {
        addresses.add(table.natAddress(table.outbound(UDP, client(c), 0, 30_000 + port, SERVER_1, 53)));
        addresses.add(table.natAddress(table.outbound(TCP, client(c), 0, 30_000 + port, SERVER_1, 80, SYN)));
      }
      expect(addresses.size).toBe(1);
      used.add([...addresses][0]!);
    }
    // Clients spread over both addresses.
    expect(used).toEqual(new Set([NAT_1, NAT_2]));
  });

  it('reports exhaustion of the paired address even when another address has ports', () => {
    const { table } = newTable({
      pool4: [
        { address: NAT_1, udp: { min: 2000, max: 2003 } },
        { address: NAT_2, udp: { min: 2000, max: 2003 } },
      ],
    });
    const first = table.outbound(UDP, client(1), 0, 10_000, SERVER_1, 53);
    const paired = table.natAddress(first);
    for (let port = 10_001; port < 10_004; port++) {
      expect(table.natAddress(table.outbound(UDP, client(1), 0, port, SERVER_1, 53))).toBe(paired);
    }
    expect(table.outbound(UDP, client(1), 0, 10_004, SERVER_1, 53)).toBe(VERDICT.POOL_EXHAUSTED);
    // A new client lands on the other address.
    const other = table.outbound(UDP, client(2), 0, 10_000, SERVER_1, 53);
    expect(table.natAddress(other)).not.toBe(paired);
    expect(table.counters().find((c) => c.name === 'poolExhausted')?.value).toBe(1);
  });

  it('limits the sessions of one client address', () => {
    const { table } = newTable({ maxSessionsPerClient: 3 });
    for (let port = 1; port <= 3; port++) expect(table.outbound(UDP, client(1), 0, 20_000 + port, SERVER_1, 53)).toBeGreaterThanOrEqual(0);
    expect(table.outbound(UDP, client(1), 0, 20_004, SERVER_1, 53)).toBe(VERDICT.CLIENT_LIMIT);
    // Existing mapping, new server: still a new session, still refused.
    expect(table.outbound(UDP, client(1), 0, 20_001, SERVER_2, 53)).toBe(VERDICT.CLIENT_LIMIT);
    const natPort = table.natPort(table.lookupOutbound(UDP, client(1), 0, 20_001, SERVER_1, 53));
    expect(table.inbound(UDP, SERVER_2, 53, NAT_1, natPort)).toBe(VERDICT.CLIENT_LIMIT);
    expect(table.outbound(UDP, client(2), 0, 20_001, SERVER_1, 53)).toBeGreaterThanOrEqual(0);
  });

  it('refuses new sessions at the maximum when nothing is evictable', () => {
    const { table } = newTable({ maxSessions: 2 });
    table.outbound(UDP, client(1), 0, 1111, SERVER_1, 53);
    const h = table.outbound(UDP, client(2), 0, 1111, SERVER_1, 53);
    expect(table.outbound(UDP, client(3), 0, 1111, SERVER_1, 53)).toBe(VERDICT.TABLE_FULL);
    expect(table.inbound(UDP, SERVER_2, 53, NAT_1, table.natPort(h))).toBe(VERDICT.TABLE_FULL);
    expect(table.sessionCount).toBe(2);
  });

  it('serves hairpinned traffic by running the translated packet inbound', () => {
    const { table } = newTable();
    // Client 2 has a mapping; client 1 reaches it through the NAT64 (destination inside pool4).
    const b = table.outbound(UDP, client(2), 0, 5000, SERVER_1, 53);
    const bNat = table.natPort(b);
    expect(table.isPoolAddress(NAT_1)).toBe(true);
    expect(table.isPoolAddress(SERVER_1)).toBe(false);
    const a = table.outbound(UDP, client(1), 0, 6000, NAT_1, bNat);
    const back = table.inbound(UDP, table.natAddress(a), table.natPort(a), NAT_1, bNat);
    expect(back).toBeGreaterThanOrEqual(0);
    expect(table.clientPort(back)).toBe(5000);
    const out = new Uint8Array(16);
    table.copyClientAddress(back, out, 0);
    expect(out).toEqual(client(2));
  });
});
