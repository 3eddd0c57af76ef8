// The authoritative connection table a receiver keeps, and the stores that make it durable.
export { ConnTable, type ConnTableOptions, type PipelinedBatch, type PipelinedRecords } from './conn-table.js';
export { EventRecords, type EntryFields } from './event-records.js';
export { CREATED_KIND, BatchLayout, deleteKind, deleteReasonOf } from './sqlite/batch-codec.js';
export { isPipelined, type ConnStore, type PipelinedConnStore } from './store.js';
export { Retention, type RetentionOptions, type RetentionRun } from './retention.js';
export { MemoryStore } from './memory-store.js';
export { SqliteStore, type SqliteStoreOptions, type Durability } from './sqlite/sqlite-store.js';
export type { SqliteWorkerStore } from './sqlite/worker/worker-store.js';
export { SqliteReader } from './sqlite-reader.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export { connKey, checkEntry, ownEntry, type ConnKey, type EntryProblem } from './entry.js';
export { IpProtocol, DELETE_REASONS } from './constants.js';
export type {
  ConnEntry,
  ConnEvent,
  ConnOperation,
  DeleteReason,
  SideRecord,
  StoredEntry,
  HistoryRecord,
  HistoryQuery,
  ClientHistoryQuery,
} from './types.js';
