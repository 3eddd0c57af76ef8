// The model shared by the table, its stores and their callers. Addresses are numbers and bytes,
// never strings: IPv4 an unsigned 32-bit number, IPv6 16 bytes. Times are microseconds since the
// Unix epoch as JS numbers (exact below 2^53, year 2255).
import type { HandoffEntry } from '@nat64/handoff-codec';
import type { DELETE_REASONS } from './constants.js';

/** One connection-tracking entry as the gateway reports it: the wire codec's entry, its creation time renamed. */
export interface ConnEntry extends Omit<HandoffEntry, 'reason' | 'time'> {
  /** Creation time as reported by the gateway, µs. */
  createdAt: number;
}

export type DeleteReason = (typeof DELETE_REASONS)[number];

/** One change to the table, in the order it happened. `at` is the receiver's clock, µs. */
export type ConnEvent = { kind: 'created'; entry: ConnEntry; at: number } | { kind: 'deleted'; entry: ConnEntry; at: number; reason: DeleteReason };

/** What a caller asks of the table. A delete names the incarnation: key plus client endpoint. */
export type ConnOperation = { op: 'create'; entry: ConnEntry } | { op: 'delete'; entry: ConnEntry; reason: DeleteReason };

/** A small opaque record committed with the entries; `null` deletes it. */
export type SideRecord = readonly [name: string, value: Uint8Array | null];

/** A current entry as a store holds it: the entry plus when the receiver stored it. */
export interface StoredEntry extends ConnEntry {
  startedAt: number;
}

/** One incarnation in the history: held from `startedAt` (receiver clock) until `endedAt`, or still held. */
export interface HistoryRecord extends StoredEntry {
  endedAt: number | null;
  endReason: DeleteReason | null;
}

/** Which incarnations of one IPv6 client address to list (SqliteStore.clientHistory). */
export interface ClientHistoryQuery {
  clientAddress: Uint8Array;
  /** Only incarnations held at this instant. */
  at?: number;
  /** At most this many, newest first. Default 100. */
  limit?: number;
}

/** Which incarnations of a NAT endpoint to list. */
export interface HistoryQuery {
  natAddress: number;
  natPort: number;
  /** Only this protocol; all protocols when absent. */
  protocol?: number;
  /** Only incarnations held at this instant (startedAt <= at < endedAt, or still held). */
  at?: number;
  /** At most this many, newest first. Default 100. */
  limit?: number;
}
