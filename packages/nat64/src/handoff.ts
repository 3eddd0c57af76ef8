// Hooks for the handoff phase: restoring sessions the authority (a server's receiver) reports, marked handed
// off so they live only as a cache, and releasing a NAT port on the authority's request.

import { readU32 } from '@nat64/wire';
import { DELETE_REASON, PROTOCOL, TCP_STATE, VERDICT, type Protocol, type TcpState } from './constants.js';
import type { Core } from './core.js';
import { COUNTER } from './counters.js';
import { serverPortKey } from './datapath.js';
import { protocolSlot } from './pool4.js';
import { SESSION_HANDED_OFF } from './sessions.js';
import { touchTimer } from './timers.js';

/** A session as received from the authority. */
export interface RestoreEntry {
  readonly protocol: Protocol;
  /** The client IPv6 address: 16 bytes at `clientAddressOffset` (default 0). */
  readonly clientAddress: Uint8Array;
  readonly clientAddressOffset?: number;
  readonly clientPort: number;
  readonly natAddress: number;
  readonly natPort: number;
  readonly serverAddress: number;
  readonly serverPort: number;
  /** TCP only; default ESTABLISHED. */
  readonly tcpState?: TcpState;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 0xffff;
}

function validAddress(address: number): boolean {
  return Number.isInteger(address) && address >= 0 && address <= 0xffffffff;
}

/**
 * Inserts a handed-off session (and its BIB entry if needed) with the NAT address and port the authority
 * reports. Returns the session handle, or CONFLICT when the NAT port is held by another client or the
 * client's mapping differs, NOT_IN_POOL, INVALID, or TABLE_FULL. An existing identical session is marked
 * handed off and returned.
 */
export function restore(c: Core, entry: RestoreEntry): number {
  const { protocol, clientPort, natAddress, natPort, serverAddress } = entry;
  const offset = entry.clientAddressOffset ?? 0;
  const state = protocol === PROTOCOL.TCP ? (entry.tcpState ?? TCP_STATE.ESTABLISHED) : TCP_STATE.CLOSED;
  const stateValid = protocol !== PROTOCOL.TCP || (Number.isInteger(state) && state >= TCP_STATE.V4_INIT && state <= TCP_STATE.TRANS);
  if (
    protocolSlot(protocol) < 0 ||
    !stateValid ||
    !validPort(clientPort) ||
    !validPort(natPort) ||
    !validPort(entry.serverPort) ||
    !validAddress(natAddress) ||
    !validAddress(serverAddress) ||
    !Number.isInteger(offset) ||
    offset < 0 ||
    entry.clientAddress.length < offset + 16
  ) {
    return c.verdict(VERDICT.INVALID, COUNTER.restoreInvalid);
  }
  const a = c.pool.indexOf(natAddress);
  if (a < 0) return c.verdict(VERDICT.NOT_IN_POOL, COUNTER.restoreNotInPool);
  if (c.pool.isReserved(protocolSlot(protocol), natPort)) return c.verdict(VERDICT.CONFLICT, COUNTER.restoreConflicts);
  const serverPort = serverPortKey(protocol, entry.serverPort);
  const bytes = entry.clientAddress;
  const now = c.clock();
  const existing = c.sessions.findOut(protocol, bytes, offset, clientPort, serverAddress, serverPort);
  if (existing >= 0) {
    const b = c.sessions.bib[existing]!;
    if (c.bibs.natAddress[b] !== natAddress || c.bibs.natPort[b] !== natPort) {
      return c.verdict(VERDICT.CONFLICT, COUNTER.restoreConflicts);
    }
    c.setHandedOff(existing, true);
    touchTimer(c.sessions, c.sessions.list[existing]!, existing, now);
    return existing;
  }
  const a0 = readU32(bytes, offset);
  const a1 = readU32(bytes, offset + 4);
  const a2 = readU32(bytes, offset + 8);
  const a3 = readU32(bytes, offset + 12);
  // The client transport address must be unmapped or mapped to exactly this NAT transport address, and vice versa.
  if (c.bibs.findByClient(protocol, a0, a1, a2, a3, clientPort) !== c.bibs.findByNat(protocol, natAddress, natPort)) {
    return c.verdict(VERDICT.CONFLICT, COUNTER.restoreConflicts);
  }
  if (!c.ensureRoom()) return c.verdict(VERDICT.TABLE_FULL, COUNTER.tableFull);
  let b = c.bibs.findByClient(protocol, a0, a1, a2, a3, clientPort);
  if (b < 0) {
    // The eviction above may have freed the entry; it is recreated from the authority's data.
    let client = c.clients.find(a0, a1, a2, a3);
    if (client < 0) client = c.clients.insert(a0, a1, a2, a3);
    c.pool.markUsed(protocolSlot(protocol), a, natPort);
    b = c.createBib(protocol, client, clientPort, natAddress, natPort, a, 0);
  }
  c.count(COUNTER.sessionsRestored);
  return c.createSession(protocol, b, serverAddress, serverPort, state, SESSION_HANDED_OFF, now);
}

/**
 * Deletes the sessions of a NAT transport address (only those toward `serverAddress` if given), reason
 * RELEASED; the port is freed with the last of them unless the BIB entry is static. Returns how many went.
 */
export function release(c: Core, protocol: number, natAddress: number, natPort: number, serverAddress?: number): number {
  const b = c.bibs.findByNat(protocol, natAddress, natPort);
  if (b < 0) return 0;
  const s = c.sessions;
  let released = 0;
  let h = c.bibs.sessionHead[b]!;
  while (h >= 0) {
    const next = s.bibNext[h]!;
    if (serverAddress === undefined || s.serverAddress[h] === serverAddress) {
      c.deleteSession(h, DELETE_REASON.RELEASED);
      released++;
    }
    h = next;
  }
  return released;
}
