// Keys and validation of entries. A key (protocol, natAddress, natPort) packs into one double: the
// protocol maps to 2 bits, so key = code * 2^48 + natAddress * 2^16 + natPort < 2^50 stays an exact
// integer, and the in-memory index needs no strings.
import { FieldLimit, IpProtocol } from './constants.js';
import type { ConnEntry } from './types.js';

/** A packed (protocol, natAddress, natPort); -1 when the protocol is not one we track. */
export type ConnKey = number;

const PORT_SPAN = 0x1_0000;
const CODE_SPAN = 0x1_0000_0000_0000;

/** 2-bit code of a tracked protocol, or -1. */
export function protocolCode(protocol: number): number {
  switch (protocol) {
    case IpProtocol.icmp:
      return 0;
    case IpProtocol.tcp:
      return 1;
    case IpProtocol.udp:
      return 2;
    default:
      return -1;
  }
}

/** Packs a key. Arguments are trusted to be in range except the protocol (see ConnKey). */
export function connKey(protocol: number, natAddress: number, natPort: number): ConnKey {
  const code = protocolCode(protocol);
  return code < 0 ? -1 : code * CODE_SPAN + natAddress * PORT_SPAN + natPort;
}

/**
 * A ConnEntry of its own, created at `createdAt`, from the fields of `entry` (a ConnEntry, or the wire
 * codec's entry, which has the same fields): its client address copied, so `entry` may be reused.
 */
export function ownEntry(entry: Omit<ConnEntry, 'createdAt'>, createdAt: number): ConnEntry {
  return {
    protocol: entry.protocol,
    natAddress: entry.natAddress,
    natPort: entry.natPort,
    clientAddress: entry.clientAddress.slice(),
    clientPort: entry.clientPort,
    serverAddress: entry.serverAddress,
    serverPort: entry.serverPort,
    createdAt,
  };
}

export function entryKey(entry: ConnEntry): ConnKey {
  return connKey(entry.protocol, entry.natAddress, entry.natPort);
}

/** The field that makes an entry invalid. */
export type EntryProblem = 'protocol' | 'nat-address' | 'nat-port' | 'client-address' | 'client-port' | 'server-address' | 'server-port' | 'created-at';

/** The first invalid field of an entry, or undefined when the entry is valid. Callers filter with it before apply(). */
export function checkEntry(entry: ConnEntry): EntryProblem | undefined {
  return checkFields(entry, entry.createdAt);
}

/** checkEntry for the fields of `entry` (a ConnEntry, or the wire codec's entry) created at `createdAt`. */
export function checkFields(entry: Omit<ConnEntry, 'createdAt'>, createdAt: number): EntryProblem | undefined {
  if (protocolCode(entry.protocol) < 0) return 'protocol';
  if (!isUint(entry.natAddress, FieldLimit.ipv4AddressMax)) return 'nat-address';
  if (!isUint(entry.natPort, FieldLimit.portMax)) return 'nat-port';
  if (!(entry.clientAddress instanceof Uint8Array) || entry.clientAddress.length !== FieldLimit.ipv6AddressBytes) {
    return 'client-address';
  }
  if (!isUint(entry.clientPort, FieldLimit.portMax)) return 'client-port';
  if (!isUint(entry.serverAddress, FieldLimit.ipv4AddressMax)) return 'server-address';
  if (!serverPortValid(entry.protocol, entry.serverPort)) return 'server-port';
  if (!createdAtValid(createdAt)) return 'created-at';
  return undefined;
}

/** A server port for `protocol`: ICMP query mappings have none (RFC 6146 §3.5.3 tracks only the identifier). */
export function serverPortValid(protocol: number, serverPort: number): boolean {
  return isUint(serverPort, protocol === IpProtocol.icmp ? 0 : FieldLimit.portMax);
}

/** A creation time in µs: a whole number from 0 that a JS number holds exactly. */
export function createdAtValid(createdAt: number): boolean {
  return isUint(createdAt, Number.MAX_SAFE_INTEGER);
}

function isUint(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max;
}
