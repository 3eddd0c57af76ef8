import { describe, expect, it } from 'vitest';
import { PROTOCOL, TCP_FLAG, TCP_STATE, VERDICT } from '@nat64/nat64';
import { client, NAT_1, newTable, SERVER_1, SERVER_2 } from './support.js';

const TCP = PROTOCOL.TCP;
const { SYN, ACK } = TCP_FLAG;

/** A stand-in IPv4 SYN: 20-byte header + 20-byte TCP header, bytes numbered so a copy can be checked. */
function synPacket(length = 40): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => i & 0xff);
}

function counter(table: ReturnType<typeof newTable>['table'], name: string): number | undefined {
  return table.counters().find((c) => c.name === name)?.value;
}

describe('held-syn', () => {
  it('holds an unsolicited SYN without BIB entry and hands its copy back after 6 seconds', () => {
    const { table, clock } = newTable();
    const packet = synPacket();
    expect(table.inbound(TCP, SERVER_1, 443, NAT_1, 5000, SYN, packet)).toBe(VERDICT.HELD_SYN);
    packet.fill(0xff); // the caller reuses its buffer; the held copy must not change
    clock.advance(5_999);
    expect(table.expire()).toEqual([]);
    clock.advance(1);
    const expired = table.expire();
    expect(expired).toHaveLength(1);
    expect(expired[0]).toEqual(synPacket());
    expect(counter(table, 'heldSynsExpired')).toBe(1);
    expect(table.sessionCount).toBe(0);
  });

  it('keeps a copy even of a Node Buffer, whose slice would be a view', () => {
    const { table, clock } = newTable();
    const buffer = Buffer.from(synPacket());
    table.inbound(TCP, SERVER_1, 443, NAT_1, 5000, SYN, buffer);
    buffer.fill(0xff);
    clock.advance(6_000);
    expect(table.expire()[0]).toEqual(synPacket());
  });

  it('copies only packet[start, end) and at most 576 bytes', () => {
    const { table, clock } = newTable();
    const buffer = synPacket(2000);
    table.inbound(TCP, SERVER_1, 443, NAT_1, 5000, SYN, buffer, 10, 1000);
    clock.advance(6_000);
    const [copy] = table.expire();
    expect(copy).toHaveLength(576);
    expect(copy![0]).toBe(10);
    expect(copy![575]).toBe((10 + 575) & 0xff);
  });

  it('answers a simultaneous open: the V6 SYN discards the held SYN and the session is ESTABLISHED', () => {
    // One NAT port, so the client's mapping is predictably the port the IPv4 SYN was sent to.
    const { table, clock } = newTable({ pool4: [{ address: NAT_1, tcp: { min: 5000, max: 5000 } }] });
    expect(table.inbound(TCP, SERVER_1, 443, NAT_1, 5000, SYN, synPacket())).toBe(VERDICT.HELD_SYN);
    clock.advance(3_000);
    const h = table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 443, SYN);
    expect(table.natPort(h)).toBe(5000);
    expect(table.tcpState(h)).toBe(TCP_STATE.ESTABLISHED);
    clock.advance(10_000);
    expect(table.expire()).toEqual([]);
    expect(counter(table, 'simultaneousOpens')).toBe(1);
  });

  it('holds a SYN refused by address-dependent filtering until the client opens toward that server', () => {
    const { table } = newTable({ filtering: 'address-dependent' });
    const first = table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, SYN);
    const natPort = table.natPort(first);
    expect(table.inbound(TCP, SERVER_2, 443, NAT_1, natPort, SYN, synPacket())).toBe(VERDICT.HELD_SYN);
    expect(table.inbound(TCP, SERVER_2, 443, NAT_1, natPort, ACK)).toBe(VERDICT.FILTERED);
    const h = table.outbound(TCP, client(1), 0, 40_000, SERVER_2, 443, SYN);
    expect(table.tcpState(h)).toBe(TCP_STATE.ESTABLISHED);
    expect(table.inbound(TCP, SERVER_2, 443, NAT_1, natPort, ACK)).toBe(h);
  });

  it('lets a SYN through at once when address-dependent filtering knows the server address', () => {
    const { table } = newTable({ filtering: 'address-dependent' });
    const first = table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, SYN);
    const h = table.inbound(TCP, SERVER_1, 8080, NAT_1, table.natPort(first), SYN);
    expect(table.tcpState(h)).toBe(TCP_STATE.V4_INIT);
  });

  it('keeps the first copy of a retransmitted SYN and bounds the store', () => {
    const { table, clock } = newTable({ maxHeldSyns: 1 });
    expect(table.inbound(TCP, SERVER_1, 443, NAT_1, 5000, SYN, synPacket(40))).toBe(VERDICT.HELD_SYN);
    clock.advance(2_000);
    expect(table.inbound(TCP, SERVER_1, 443, NAT_1, 5000, SYN, synPacket(60))).toBe(VERDICT.HELD_SYN);
    expect(table.inbound(TCP, SERVER_2, 443, NAT_1, 5000, SYN, synPacket())).toBe(VERDICT.HELD_SYN_LIMIT);
    clock.advance(4_000);
    const expired = table.expire();
    expect(expired.map((p) => p.length)).toEqual([40]);
    expect(counter(table, 'heldSynLimit')).toBe(1);
    // Room again.
    expect(table.inbound(TCP, SERVER_2, 443, NAT_1, 5000, SYN, synPacket())).toBe(VERDICT.HELD_SYN);
  });

  it('drops unsolicited SYNs silently when the policy says so', () => {
    const { table } = newTable({ dropUnsolicitedTcp: true });
    expect(table.inbound(TCP, SERVER_1, 443, NAT_1, 5000, SYN, synPacket())).toBe(VERDICT.NO_BIB);
    const first = table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, SYN);
    expect(table.inbound(TCP, SERVER_2, 443, NAT_1, table.natPort(first), SYN)).toBe(VERDICT.FILTERED);
    expect(counter(table, 'heldSynsNow')).toBe(0);
  });

  it('holds nothing for an address outside pool4', () => {
    const { table } = newTable();
    expect(table.inbound(TCP, SERVER_1, 443, SERVER_2, 5000, SYN, synPacket())).toBe(VERDICT.NO_BIB);
  });

  it('gives an opening IPv6 SYN the NAT port a held SYN from that server aims at', () => {
    // A wide range, so the hashed choice would almost never be 2600 by chance.
    const { table } = newTable({ pool4: [{ address: NAT_1, tcp: { min: 1024, max: 65535 } }] });
    expect(table.inbound(TCP, SERVER_1, 2601, NAT_1, 2600, SYN, synPacket())).toBe(VERDICT.HELD_SYN);
    // A SYN toward another server port does not take it.
    const other = table.outbound(TCP, client(1), 0, 7000, SERVER_1, 2602, SYN);
    expect(table.natPort(other)).not.toBe(2600);
    const h = table.outbound(TCP, client(1), 0, 2600, SERVER_1, 2601, SYN);
    expect(table.natPort(h)).toBe(2600);
    expect(table.tcpState(h)).toBe(TCP_STATE.ESTABLISHED);
    expect(counter(table, 'heldSynsNow')).toBe(0);
  });

  it('does not take a held port that is already mapped', () => {
    const { table } = newTable({ pool4: [{ address: NAT_1, tcp: { min: 1024, max: 65535 } }], filtering: 'address-dependent' });
    const first = table.outbound(TCP, client(1), 0, 40_000, SERVER_2, 80, SYN);
    const natPort = table.natPort(first);
    // Address-dependent filtering holds this SYN although the port is mapped (to another client's server).
    expect(table.inbound(TCP, SERVER_1, 443, NAT_1, natPort, SYN, synPacket())).toBe(VERDICT.HELD_SYN);
    const h = table.outbound(TCP, client(2), 0, 40_000, SERVER_1, 443, SYN);
    expect(table.natPort(h)).not.toBe(natPort);
  });
});
