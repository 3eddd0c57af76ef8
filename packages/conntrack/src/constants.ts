// Numbers the connection table and its stores depend on: first those fixed by specifications,
// then our own choices.
import { Protocol } from '@nat64/handoff-codec';

/**
 * The only protocols stateful NAT64 tracks (RFC 6146 §3), numbered as an entry's Protocol field
 * carries them (IANA). For ICMP the ports are query identifiers (RFC 6146 §3.5.3).
 */
export const IpProtocol = { icmp: Protocol.ICMP, tcp: Protocol.TCP, udp: Protocol.UDP } as const;

/** Field ranges of the model: IPv4 addresses (RFC 791 §3.1), IPv6 addresses (RFC 8200 §3), ports (RFC 768, RFC 9293 §3.1). */
export const FieldLimit = {
  ipv4AddressMax: 0xffff_ffff,
  ipv6AddressBytes: 16,
  portMax: 0xffff,
} as const;

/** Why an entry left the table. `gateway` and `admin` arrive as delete operations; the table decides the rest. */
export const DELETE_REASONS = ['gateway', 'replaced', 'idle', 'evicted', 'admin'] as const;

/** Implementation: how the SQLite file identifies itself and which schema it holds. */
export const SqliteFormat = {
  /** PRAGMA application_id (file header offset 68): the bytes "N64C". */
  applicationId: 0x4e36_3443,
  /** PRAGMA user_version (file header offset 60): the newest schema this code reads and writes. */
  schemaVersion: 3,
  /** The oldest schema a reader (SqliteReader, openReadOnly) reads as it is; older files need a writer to migrate them first. */
  oldestReadableVersion: 2,
  /** The first 16 bytes of every SQLite 3 database file ("SQLite format 3\0"). */
  magic: 'SQLite format 3\u0000',
  /** Length of the database file header. */
  headerBytes: 100,
  /** Appended to the database path for the single-writer lock file. */
  lockSuffix: '-lock',
} as const;

/** Implementation defaults for SqliteStore. */
export const SqliteDefault = {
  busyTimeoutMs: 1000,
  /** Page cache; the two history indexes of a million-row table need tens of MiB to stay in memory. */
  cacheKiB: 64 * 1024,
  /**
   * Page size of a new file (an existing file keeps its own). Against 4 KiB, half the WAL frames
   * and write(2)s per commit and fewer B-tree splits: about a tenth of the writer's CPU per entry
   * (docs/BENCHMARKS.md, "Receiver ingest, round five").
   */
  pageBytes: 8192,
  /** Truncate the WAL back to this size after a checkpoint, so one burst does not keep a huge file. */
  walSizeLimitBytes: 64 * 1024 * 1024,
} as const;

/** Implementation: how the SQLite writer shapes its work. */
export const SqliteTuning = {
  /**
   * Rows per INSERT statement for a run of creates, each size prepared once, largest used first;
   * must include 1. One statement step per 64 rows instead of per row cut the SQLite CPU cost of a
   * create by about a quarter (bench/ingest.mjs); larger statements gained nothing more.
   */
  insertRows: [64, 16, 4, 1],
} as const;

/** Implementation: how history past its retention is deleted. */
export const RetentionDefault = {
  /**
   * Ended incarnations a Retention run deletes per transaction of its own (when commits alone do
   * not keep up, e.g. a backlog while idle): a commit queued behind one waits for it, so a chunk
   * costs about what writing a full commit batch (4096 entries) does.
   */
  chunkRows: 4096,
  /**
   * Once a store has a retention bound (ConnStore.retain), each commit also deletes up to this many
   * ended incarnations per event it stores, plus `rowsPerCommit`: pruning keeps pace with any
   * ingest rate (each event ends at most one incarnation) and drains a backlog besides, at a cost
   * spread evenly over the commits, in their transactions (no extra fsync).
   */
  rowsPerEvent: 2,
  rowsPerCommit: 256,
} as const;

/** How many ended incarnations a commit of `events` events may delete under a retention bound. */
export function retainedPerCommit(events: number): number {
  return events * RetentionDefault.rowsPerEvent + RetentionDefault.rowsPerCommit;
}

/** Implementation: the hand-off between the table's thread and a SqliteWorkerStore's writer thread. */
export const WorkerTuning = {
  /** Entries per message when the writer sends the current table (48 bytes each). */
  loadChunkEntries: 16_384,
  /** Commit buffers kept for reuse once the writer hands them back. */
  bufferPool: 8,
  /** Smallest commit buffer allocated; a batch of about 1300 events fits. */
  minBufferBytes: 64 * 1024,
  /** A blocked call re-checks that the writer thread is alive this often, ms. */
  waitSliceMs: 100,
  /** Most pipelined commits the writer stores in one transaction when they wait for it together (group commit). */
  groupCommits: 16,
} as const;

/** Implementation default shared by the stores: history() answers at most this many rows unless told. */
export const HISTORY_LIMIT = 100;
