import { describe, expect, it } from 'vitest';
import { PROTOCOL, TCP_FLAG, TCP_STATE, type Nat64Table } from '@nat64/nat64';
import { STEP_ACTION_SHIFT, STEP_STATE_MASK, TIMER_ACTION, tcpStep } from '../src/tcp.js';
import { client, HOUR, MINUTE, NAT_1, newTable, SERVER_1, SERVER_2 } from './support.js';

const { SYN, FIN, RST, ACK } = TCP_FLAG;
const S = TCP_STATE;
const V6 = true;
const V4 = false;

function run(state: number, fromV6: boolean, flags: number): [number, number] {
  const r = tcpStep(state, fromV6, flags);
  return [r & STEP_STATE_MASK, r >>> STEP_ACTION_SHIFT];
}

describe('tcp', () => {
  // Each row: state, direction, flags -> next state, timer action (RFC 6146 3.5.2.2).
  const rows: [string, number, boolean, number, number, number][] = [
    ['V4 INIT + V6 SYN', S.V4_INIT, V6, SYN, S.ESTABLISHED, TIMER_ACTION.EST],
    ['V4 INIT + V6 SYN-ACK', S.V4_INIT, V6, SYN | ACK, S.ESTABLISHED, TIMER_ACTION.EST],
    ['V4 INIT + V4 SYN again', S.V4_INIT, V4, SYN, S.V4_INIT, TIMER_ACTION.NONE],
    ['V4 INIT + V6 ACK', S.V4_INIT, V6, ACK, S.V4_INIT, TIMER_ACTION.NONE],
    ['V6 INIT + V4 SYN', S.V6_INIT, V4, SYN, S.ESTABLISHED, TIMER_ACTION.EST],
    ['V6 INIT + V4 SYN-ACK', S.V6_INIT, V4, SYN | ACK, S.ESTABLISHED, TIMER_ACTION.EST],
    ['V6 INIT + V6 SYN again', S.V6_INIT, V6, SYN, S.V6_INIT, TIMER_ACTION.TRANS],
    ['V6 INIT + V4 RST', S.V6_INIT, V4, RST | ACK, S.V6_INIT, TIMER_ACTION.NONE],
    ['ESTABLISHED + data', S.ESTABLISHED, V6, ACK, S.ESTABLISHED, TIMER_ACTION.EST],
    ['ESTABLISHED + V4 FIN', S.ESTABLISHED, V4, FIN | ACK, S.V4_FIN_RCV, TIMER_ACTION.EST],
    ['ESTABLISHED + V6 FIN', S.ESTABLISHED, V6, FIN | ACK, S.V6_FIN_RCV, TIMER_ACTION.EST],
    ['ESTABLISHED + V4 RST', S.ESTABLISHED, V4, RST, S.TRANS, TIMER_ACTION.TRANS],
    ['ESTABLISHED + V6 RST', S.ESTABLISHED, V6, RST | ACK, S.TRANS, TIMER_ACTION.TRANS],
    ['ESTABLISHED + RST with FIN', S.ESTABLISHED, V6, RST | FIN, S.TRANS, TIMER_ACTION.TRANS],
    ['V4 FIN RCV + V6 FIN', S.V4_FIN_RCV, V6, FIN | ACK, S.V4_FIN_V6_FIN_RCV, TIMER_ACTION.TRANS],
    ['V4 FIN RCV + V4 FIN again', S.V4_FIN_RCV, V4, FIN, S.V4_FIN_RCV, TIMER_ACTION.EST],
    ['V4 FIN RCV + V6 data', S.V4_FIN_RCV, V6, ACK, S.V4_FIN_RCV, TIMER_ACTION.EST],
    ['V6 FIN RCV + V4 FIN', S.V6_FIN_RCV, V4, FIN | ACK, S.V4_FIN_V6_FIN_RCV, TIMER_ACTION.TRANS],
    ['V6 FIN RCV + V6 FIN again', S.V6_FIN_RCV, V6, FIN, S.V6_FIN_RCV, TIMER_ACTION.EST],
    ['V6 FIN RCV + V4 data', S.V6_FIN_RCV, V4, ACK, S.V6_FIN_RCV, TIMER_ACTION.EST],
    ['V4 FIN + V6 FIN RCV + ACK', S.V4_FIN_V6_FIN_RCV, V6, ACK, S.V4_FIN_V6_FIN_RCV, TIMER_ACTION.NONE],
    ['V4 FIN + V6 FIN RCV + RST', S.V4_FIN_V6_FIN_RCV, V4, RST, S.V4_FIN_V6_FIN_RCV, TIMER_ACTION.NONE],
    ['TRANS + V4 data', S.TRANS, V4, ACK, S.ESTABLISHED, TIMER_ACTION.EST],
    ['TRANS + V6 data', S.TRANS, V6, ACK, S.ESTABLISHED, TIMER_ACTION.EST],
    ['TRANS + RST', S.TRANS, V6, RST, S.TRANS, TIMER_ACTION.NONE],
  ];

  for (const [name, state, fromV6, flags, next, action] of rows) {
    it(`moves ${name} to state ${next} with timer action ${action}`, () => {
      expect(run(state, fromV6, flags)).toEqual([next, action]);
    });
  }

  it('packs every state into the state bits', () => {
    for (const state of Object.values(S)) expect(state & STEP_STATE_MASK).toBe(state);
  });
});

describe('tcp sessions in the table', () => {
  const TCP = PROTOCOL.TCP;
  const EST = (2 * 60 + 4) * MINUTE;
  const TRANS = 4 * MINUTE;

  function open(table: Nat64Table): number {
    const h = table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, SYN);
    expect(table.inbound(TCP, SERVER_1, 80, NAT_1, table.natPort(h), SYN | ACK)).toBe(h);
    return h;
  }

  it('opens from IPv6: V6 INIT for TCP_TRANS, then ESTABLISHED for TCP_EST on the V4 SYN', () => {
    const { table, clock } = newTable();
    const h = table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, SYN);
    expect(table.tcpState(h)).toBe(S.V6_INIT);
    expect(table.expiresAt(h)).toBe(clock.now + TRANS);
    clock.advance(1000);
    expect(table.inbound(TCP, SERVER_1, 80, NAT_1, table.natPort(h), SYN | ACK)).toBe(h);
    expect(table.tcpState(h)).toBe(S.ESTABLISHED);
    expect(table.expiresAt(h)).toBe(clock.now + EST);
  });

  it('refreshes an established session with every segment', () => {
    const { table, clock } = newTable();
    const h = open(table);
    clock.advance(HOUR);
    table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, ACK);
    expect(table.expiresAt(h)).toBe(clock.now + EST);
    clock.advance(EST - 1);
    table.expire();
    expect(table.tcpState(h)).toBe(S.ESTABLISHED);
  });

  it('closes with a V4 FIN then a V6 FIN and deletes after TCP_TRANS as TCP_CLOSED', () => {
    const { table, clock, events } = newTable();
    const h = open(table);
    const natPort = table.natPort(h);
    table.inbound(TCP, SERVER_1, 80, NAT_1, natPort, FIN | ACK);
    expect(table.tcpState(h)).toBe(S.V4_FIN_RCV);
    table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, FIN | ACK);
    expect(table.tcpState(h)).toBe(S.V4_FIN_V6_FIN_RCV);
    expect(table.expiresAt(h)).toBe(clock.now + TRANS);
    // Late ACKs pass without extending the lifetime.
    clock.advance(MINUTE);
    table.inbound(TCP, SERVER_1, 80, NAT_1, natPort, ACK);
    clock.advance(TRANS - MINUTE);
    table.expire();
    expect(table.sessionCount).toBe(0);
    expect(events.slice(-2)).toEqual([`session- 6 40000->${natPort} 10:80 TCP_CLOSED`, `bib- 40000->${natPort} TCP_CLOSED`]);
  });

  it('closes with a V6 FIN then a V4 FIN', () => {
    const { table } = newTable();
    const h = open(table);
    table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, FIN | ACK);
    expect(table.tcpState(h)).toBe(S.V6_FIN_RCV);
    table.inbound(TCP, SERVER_1, 80, NAT_1, table.natPort(h), FIN | ACK);
    expect(table.tcpState(h)).toBe(S.V4_FIN_V6_FIN_RCV);
  });

  it('keeps a half-closed session for TCP_EST and deletes it as a timeout', () => {
    const { table, clock, events } = newTable();
    const h = open(table);
    table.inbound(TCP, SERVER_1, 80, NAT_1, table.natPort(h), FIN | ACK);
    clock.advance(EST);
    table.expire();
    expect(table.sessionCount).toBe(0);
    expect(events.at(-2)).toMatch(/ TIMEOUT$/);
  });

  it('moves to TRANS on a RST, deletes after TCP_TRANS as RST, and revives on other traffic', () => {
    const { table, clock, events } = newTable();
    const h = open(table);
    table.inbound(TCP, SERVER_1, 80, NAT_1, table.natPort(h), RST);
    expect(table.tcpState(h)).toBe(S.TRANS);
    expect(table.expiresAt(h)).toBe(clock.now + TRANS);
    clock.advance(MINUTE);
    table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, ACK);
    expect(table.tcpState(h)).toBe(S.ESTABLISHED);
    table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, RST);
    clock.advance(TRANS);
    table.expire();
    expect(table.sessionCount).toBe(0);
    expect(events.at(-2)).toMatch(/ RST$/);
  });

  it('moves an idle established session to TRANS with a probe, then deletes it as a timeout', () => {
    const { table, clock, events } = newTable();
    const h = open(table);
    clock.advance(EST);
    table.expire();
    expect(table.tcpState(h)).toBe(S.TRANS);
    expect(events.at(-1)).toBe(`probe 6 40000->${table.natPort(h)} 10:80`);
    expect(table.expiresAt(h)).toBe(clock.now + TRANS);
    clock.advance(TRANS);
    table.expire();
    expect(table.sessionCount).toBe(0);
    expect(events.at(-2)).toMatch(/ TIMEOUT$/);
  });

  it('keeps a probed session that answers', () => {
    const { table, clock } = newTable();
    const h = open(table);
    clock.advance(EST);
    table.expire();
    table.inbound(TCP, SERVER_1, 80, NAT_1, table.natPort(h), ACK);
    expect(table.tcpState(h)).toBe(S.ESTABLISHED);
    clock.advance(TRANS);
    table.expire();
    expect(table.sessionCount).toBe(1);
  });

  it('deletes an unanswered V6 INIT after TCP_TRANS, later if the SYN is repeated', () => {
    const { table, clock } = newTable();
    table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, SYN);
    clock.advance(MINUTE);
    table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, SYN);
    clock.advance(TRANS - 1);
    table.expire();
    expect(table.sessionCount).toBe(1);
    clock.advance(1);
    table.expire();
    expect(table.sessionCount).toBe(0);
  });

  it('opens from IPv4 under endpoint-independent filtering: V4 INIT, then ESTABLISHED on the V6 SYN', () => {
    const { table, clock } = newTable();
    const first = table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, SYN);
    const natPort = table.natPort(first);
    const h = table.inbound(TCP, SERVER_2, 443, NAT_1, natPort, SYN);
    expect(table.tcpState(h)).toBe(S.V4_INIT);
    expect(table.expiresAt(h)).toBe(clock.now + TRANS);
    expect(table.outbound(TCP, client(1), 0, 40_000, SERVER_2, 443, ACK)).toBe(h);
    expect(table.tcpState(h)).toBe(S.V4_INIT);
    expect(table.outbound(TCP, client(1), 0, 40_000, SERVER_2, 443, SYN | ACK)).toBe(h);
    expect(table.tcpState(h)).toBe(S.ESTABLISHED);
  });

  it('deletes an unanswered V4 INIT session as a timeout and hands back no packet', () => {
    const { table, clock } = newTable();
    const first = table.outbound(TCP, client(1), 0, 40_000, SERVER_1, 80, SYN);
    const h = table.inbound(TCP, SERVER_2, 443, NAT_1, table.natPort(first), SYN);
    expect(h).toBeGreaterThanOrEqual(0);
    clock.advance(TRANS);
    expect(table.expire()).toEqual([]);
    expect(table.sessionCount).toBe(0);
  });
});
