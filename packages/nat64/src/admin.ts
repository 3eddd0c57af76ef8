// Operator actions: static BIB entries (RFC 6146 3.5.1: configured mappings that never expire, e.g. for a
// server behind the NAT64 reachable from IPv4) and deleting sessions by hand. These throw on bad input,
// since they come from configuration and the control socket, not from packets.

import { readU32 } from '@nat64/wire';
import { BIB_STATIC } from './bib.js';
import { DELETE_REASON } from './constants.js';
import type { Core } from './core.js';
import { Nat64Error } from './errors.js';
import { checkProtocol, type StaticBibEntry } from './options.js';
import { protocolSlot } from './pool4.js';

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new Nat64Error('BAD_PORT', `${name} must be an integer from 0 to 65535, got ${port}`);
  }
}

/** Adds a static BIB entry and returns its handle. Throws if either side is already mapped. */
export function addStaticBib(c: Core, entry: StaticBibEntry): number {
  const { protocol, clientAddress, clientPort, natAddress, natPort } = entry;
  checkProtocol(protocol);
  checkPort('clientPort', clientPort);
  checkPort('natPort', natPort);
  if (clientAddress.length !== 16) throw new Nat64Error('BAD_ADDRESS', 'clientAddress must hold 16 bytes');
  const a = c.pool.indexOf(natAddress);
  if (a < 0) throw new Nat64Error('STATIC_BIB_REFUSED', `static BIB NAT address ${natAddress} is not in pool4`);
  const a0 = readU32(clientAddress, 0);
  const a1 = readU32(clientAddress, 4);
  const a2 = readU32(clientAddress, 8);
  const a3 = readU32(clientAddress, 12);
  if (c.bibs.findByClient(protocol, a0, a1, a2, a3, clientPort) >= 0) {
    throw new Nat64Error('STATIC_BIB_REFUSED', 'the client transport address already has a BIB entry');
  }
  const slot = protocolSlot(protocol);
  if (c.pool.isReserved(slot, natPort)) {
    throw new Nat64Error('STATIC_BIB_REFUSED', `NAT port ${natPort} is reserved for the gateway itself`);
  }
  if (c.pool.isUsed(slot, a, natPort)) {
    throw new Nat64Error('STATIC_BIB_REFUSED', `NAT port ${natPort} of ${natAddress} is already in use`);
  }
  let client = c.clients.find(a0, a1, a2, a3);
  if (client < 0) client = c.clients.insert(a0, a1, a2, a3);
  c.pool.markUsed(slot, a, natPort);
  return c.createBib(protocol, client, clientPort, natAddress, natPort, a, BIB_STATIC);
}

/**
 * Removes a static BIB entry and its sessions (reason ADMINISTRATIVE). Returns false if no static entry
 * holds this NAT transport address.
 */
export function removeStaticBib(c: Core, protocol: number, natAddress: number, natPort: number): boolean {
  const b = c.bibs.findByNat(protocol, natAddress, natPort);
  if (b < 0 || (c.bibs.flags[b]! & BIB_STATIC) === 0) return false;
  // Clearing the flag first lets the last session's deletion take the entry with it.
  c.bibs.flags[b]! &= ~BIB_STATIC;
  c.staticCount--;
  if (c.bibs.sessionHead[b]! < 0) {
    c.deleteBib(b, DELETE_REASON.ADMINISTRATIVE);
    return true;
  }
  while (c.bibs.protocol[b] !== 0 && c.bibs.sessionHead[b]! >= 0) c.deleteSession(c.bibs.sessionHead[b]!, DELETE_REASON.ADMINISTRATIVE);
  return true;
}

/** Deletes one session (reason ADMINISTRATIVE). */
export function deleteSession(c: Core, h: number): void {
  if (!Number.isInteger(h) || h < 0 || h >= c.sessions.highWater || c.sessions.protocol[h] === 0) {
    throw new Nat64Error('BAD_HANDLE', `no session with handle ${h}`);
  }
  c.deleteSession(h, DELETE_REASON.ADMINISTRATIVE);
}
