// Validation of what callers hand the table, before anything changes.
import { DELETE_REASONS } from './constants.js';
import { checkEntry, createdAtValid, protocolCode, serverPortValid } from './entry.js';
import { StoreError } from './errors.js';
import type { EventRecords } from './event-records.js';
import type { ConnTableOptions } from './conn-table.js';
import type { ConnOperation, SideRecord } from './types.js';

export function checkOptions(options: ConnTableOptions): void {
  if (!Number.isSafeInteger(options.capacity) || options.capacity < 1 || options.capacity > 0x7fff_ffff) {
    throw new StoreError('invalid-argument', `capacity must be an integer from 1 to 2^31-1, got ${options.capacity}`);
  }
  if (!(options.idleTimeout >= 0)) {
    throw new StoreError('invalid-argument', `idleTimeout must be a non-negative number of µs, got ${options.idleTimeout}`);
  }
  if (typeof options.clock !== 'function') throw new StoreError('invalid-argument', 'clock must be a function');
}

export function checkOperation(operation: ConnOperation, index: number): void {
  const problem = checkEntry(operation.entry);
  if (problem !== undefined) {
    throw new StoreError('invalid-argument', `operation ${index}: invalid entry (${problem})`);
  }
  if (operation.op === 'delete' ? !DELETE_REASONS.includes(operation.reason) : operation.op !== 'create') {
    throw new StoreError('invalid-argument', `operation ${index}: unknown operation or delete reason`);
  }
}

/**
 * checkOperation for record `index` of `records`: the fields that its typed layout does not bound
 * already (the protocol, an ICMP entry's server port, the creation time, the kind), by checkFields'
 * rules.
 */
export function checkRecord(records: EventRecords, index: number): void {
  const protocol = records.protocol(index);
  let problem: string | undefined;
  if (protocolCode(protocol) < 0) problem = 'invalid entry (protocol)';
  else if (!serverPortValid(protocol, records.serverPort(index))) problem = 'invalid entry (server-port)';
  else if (!createdAtValid(records.createdAt(index))) problem = 'invalid entry (created-at)';
  else if (records.kind(index) > DELETE_REASONS.length) problem = 'unknown operation or delete reason';
  if (problem !== undefined) throw new StoreError('invalid-argument', `operation ${index}: ${problem}`);
}

export function checkSide(side: readonly SideRecord[]): void {
  for (const [name, value] of side) {
    if (typeof name !== 'string' || !(value === null || value instanceof Uint8Array)) {
      throw new StoreError('invalid-argument', 'side records are [name: string, value: Uint8Array | null]');
    }
  }
}
