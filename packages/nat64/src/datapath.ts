// The packet path: outbound (IPv6 -> IPv4) and inbound (IPv4 -> IPv6) lookups that create state as RFC 6146
// 3.5 says. A hit costs one hash and a short chain walk and returns; what follows it is the slow path. Never
// throws: a miss is a verdict.

import { readU32 } from '@nat64/wire';
import { PROTOCOL, TCP_FLAG, TCP_STATE, VERDICT } from './constants.js';
import type { Core } from './core.js';
import { COUNTER } from './counters.js';
import { protocolSlot } from './pool4.js';

/** RFC 6146 3.5.3: an ICMP query session is keyed by its identifier alone; the "server port" is always 0. */
export function serverPortKey(protocol: number, serverPort: number): number {
  return protocol === PROTOCOL.ICMP ? 0 : serverPort;
}

export function outbound(
  c: Core,
  protocol: number,
  clientAddress: Uint8Array,
  offset: number,
  clientPort: number,
  serverAddress: number,
  serverPort: number,
  tcpFlags: number,
  newMapping: boolean,
): number {
  serverPort = serverPortKey(protocol, serverPort);
  // The flow the call before found new, nothing changed since: neither a session nor a BIB entry.
  const known = newMapping && c.newFlow.take(c.changes, protocol, clientAddress, offset, clientPort, serverAddress, serverPort);
  const h = known ? -1 : c.sessions.findOut(protocol, clientAddress, offset, clientPort, serverAddress, serverPort);
  const now = c.clock();
  if (h >= 0) {
    c.refresh(h, true, tcpFlags, now);
    return h;
  }
  const a0 = readU32(clientAddress, offset);
  const a1 = readU32(clientAddress, offset + 4);
  const a2 = readU32(clientAddress, offset + 8);
  const a3 = readU32(clientAddress, offset + 12);
  if (protocolSlot(protocol) < 0) return c.verdict(VERDICT.NO_SESSION, COUNTER.noSession);
  const tcp = protocol === PROTOCOL.TCP;
  // RFC 6146 3.5.2.2 CLOSED: only a V6 SYN opens a TCP session from the IPv6 side.
  if (tcp && (tcpFlags & TCP_FLAG.SYN) === 0) return c.verdict(VERDICT.NO_SESSION, COUNTER.noSession);
  let b = known ? -1 : c.bibs.findByClient(protocol, a0, a1, a2, a3, clientPort);
  if (b < 0 && !newMapping) {
    c.newFlow.note(c.changes, protocol, a0, a1, a2, a3, clientPort, serverAddress, serverPort);
    return VERDICT.NEW_MAPPING;
  }
  let client = b >= 0 ? c.bibs.client[b]! : c.clients.find(a0, a1, a2, a3);
  if (client >= 0 && c.clients.sessions[client]! >= c.maxSessionsPerClient) {
    return c.verdict(VERDICT.CLIENT_LIMIT, COUNTER.clientLimit);
  }
  if (c.sessions.count >= c.maxSessions) {
    if (!c.evictLeastRecentlyUsed()) return c.verdict(VERDICT.TABLE_FULL, COUNTER.tableFull);
    // The eviction may have taken this client's BIB entry, or its record.
    b = c.bibs.findByClient(protocol, a0, a1, a2, a3, clientPort);
    client = b >= 0 ? c.bibs.client[b]! : c.clients.find(a0, a1, a2, a3);
  }
  // Endpoint-independent mapping (RFC 4787 REQ-1): an existing BIB entry serves every server.
  if (b < 0) {
    b = c.allocateBib(protocol, a0, a1, a2, a3, clientPort, client, serverAddress, serverPort);
    if (b < 0) return b;
  }
  let state: number = TCP_STATE.CLOSED;
  if (tcp) {
    state = TCP_STATE.V6_INIT;
    const held = c.held.find(c.bibs.natAddress[b]!, c.bibs.natPort[b]!, serverAddress, serverPort);
    if (held >= 0) {
      // V4 INIT + V6 SYN: simultaneous open; the stored IPv4 SYN is discarded (RFC 6146 3.5.2.2).
      c.held.take(held);
      c.count(COUNTER.simultaneousOpens);
      state = TCP_STATE.ESTABLISHED;
    }
  }
  c.count(COUNTER.sessionsCreated);
  return c.createSession(protocol, b, serverAddress, serverPort, state, 0, now);
}

export function inbound(
  c: Core,
  protocol: number,
  serverAddress: number,
  serverPort: number,
  natAddress: number,
  natPort: number,
  tcpFlags: number,
  packet: Uint8Array | undefined,
  start: number,
  end: number,
): number {
  serverPort = serverPortKey(protocol, serverPort);
  const h = c.sessions.findIn(protocol, natAddress, natPort, serverAddress, serverPort);
  const now = c.clock();
  if (h >= 0) {
    c.refresh(h, false, tcpFlags, now);
    return h;
  }
  const tcp = protocol === PROTOCOL.TCP;
  const syn = tcp && (tcpFlags & TCP_FLAG.SYN) !== 0;
  let b = c.bibs.findByNat(protocol, natAddress, natPort);
  const filtered = b >= 0 && c.addressDependentFiltering && !c.hasSessionWith(b, serverAddress);
  if (b < 0 || filtered) {
    // An unsolicited SYN, to a NAT address of ours or filtered, waits for the simultaneous open (RFC 6146 3.5.2.2).
    if (syn && !c.dropUnsolicitedTcp && (filtered || c.pool.indexOf(natAddress) >= 0)) {
      const held = c.held.hold(natAddress, natPort, serverAddress, serverPort, packet, start, end, now);
      return held < 0 ? c.verdict(VERDICT.HELD_SYN_LIMIT, COUNTER.heldSynLimit) : c.verdict(VERDICT.HELD_SYN, COUNTER.heldSyns);
    }
    return filtered ? c.verdict(VERDICT.FILTERED, COUNTER.filtered) : c.verdict(VERDICT.NO_BIB, COUNTER.noBib);
  }
  if (tcp && !syn) return c.verdict(VERDICT.NO_SESSION, COUNTER.noSession);
  if (syn && c.dropUnsolicitedTcp) return c.verdict(VERDICT.FILTERED, COUNTER.filtered);
  if (c.clients.sessions[c.bibs.client[b]!]! >= c.maxSessionsPerClient) {
    return c.verdict(VERDICT.CLIENT_LIMIT, COUNTER.clientLimit);
  }
  if (c.sessions.count >= c.maxSessions) {
    if (!c.evictLeastRecentlyUsed()) return c.verdict(VERDICT.TABLE_FULL, COUNTER.tableFull);
    // The eviction may have taken this BIB entry's last session, and so the entry.
    b = c.bibs.findByNat(protocol, natAddress, natPort);
    if (b < 0) return c.verdict(VERDICT.NO_BIB, COUNTER.noBib);
  }
  // RFC 6146 3.5.2.2 CLOSED, V4 SYN with a BIB entry and no filtering: V4 INIT, lifetime TCP_TRANS.
  const state = tcp ? TCP_STATE.V4_INIT : TCP_STATE.CLOSED;
  c.count(COUNTER.sessionsCreated);
  return c.createSession(protocol, b, serverAddress, serverPort, state, 0, now);
}
