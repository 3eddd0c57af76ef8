// @nat64/nat64: the stateful NAT64 tables (RFC 6146) the gateway asks for mappings. Pure state, no I/O.

export { Nat64Table, type Nat64RuntimeOptions, type Pool4Usage } from './table.js';
export { ChainedIndex } from './chained-index.js';
export { KeyedHash } from './hash.js';
export { grown, grownIfAllowed } from './grow.js';
export { PREPARE_SLOTS, SlotTable } from './slot-table.js';
export {
  PROTOCOL,
  TCP_FLAG,
  TCP_STATE,
  VERDICT,
  DELETE_REASON,
  SPEC,
  IMPL,
  type Protocol,
  type TcpState,
  type Verdict,
  type DeleteReason,
} from './constants.js';
export { Nat64Error, type Nat64ErrorCode } from './errors.js';
export type { Nat64Options, Nat64Listener, ReservedPort, StaticBibEntry, Timeouts } from './options.js';
export type { Pool4Entry, PortRange } from './pool4.js';
export type { RestoreEntry } from './handoff.js';
export type { SessionCursor, SessionFilter } from './cursor.js';
export type { CounterSnapshot } from './counters.js';
export { FragmentTracker, FAMILY, type Family, type FragmentTrackerOptions } from './fragments.js';
export { verdictName, deleteReasonName, tcpStateName } from './names.js';
