// The SQLite schema: one history row per incarnation; the current table is the rows not ended.
// `MIGRATIONS[v]` upgrades a database at user_version v to v + 1, so a file of any older version
// is brought forward step by step inside one transaction. To change the schema, append a step and
// raise SqliteFormat.schemaVersion. Steps are literal SQL, never built from constants, so a step
// that has shipped cannot change under a later edit.
//
// Value lists in CHECKs are OR chains, not `IN (...)`: SQLite evaluates a constant IN list in a
// CHECK by building a temporary b-tree for every row written, which halved the insert rate.

export const MIGRATIONS: readonly string[] = [
  // 0 -> 1: the first schema. CHECKs keep whatever reaches the file loadable by ConnTable:
  // protocols 1/6/17, IPv4 addresses below 2^32, ports below 2^16, 16-byte IPv6 addresses.
  `
  CREATE TABLE conn_history (
    id INTEGER PRIMARY KEY,
    protocol INTEGER NOT NULL CHECK (protocol = 1 OR protocol = 6 OR protocol = 17),
    nat_address INTEGER NOT NULL CHECK (nat_address BETWEEN 0 AND 4294967295),
    nat_port INTEGER NOT NULL CHECK (nat_port BETWEEN 0 AND 65535),
    client_address BLOB NOT NULL CHECK (length(client_address) = 16),
    client_port INTEGER NOT NULL CHECK (client_port BETWEEN 0 AND 65535),
    server_address INTEGER NOT NULL CHECK (server_address BETWEEN 0 AND 4294967295),
    server_port INTEGER NOT NULL CHECK (server_port BETWEEN 0 AND 65535),
    created_at INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    end_reason TEXT CHECK (
      end_reason = 'gateway' OR end_reason = 'replaced' OR end_reason = 'idle' OR end_reason = 'evicted' OR end_reason = 'admin'
    ),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
  ) STRICT;
  -- At most one open incarnation per key; also how deletes find the row to end.
  CREATE UNIQUE INDEX conn_current ON conn_history (protocol, nat_address, nat_port) WHERE ended_at IS NULL;
  -- History lookups: the newest start at or before a time, per protocol.
  CREATE INDEX conn_by_nat ON conn_history (nat_address, nat_port, protocol, started_at);
  -- Pruning the oldest ended rows without a full scan.
  CREATE INDEX conn_ended ON conn_history (ended_at) WHERE ended_at IS NOT NULL;
  CREATE TABLE side_record (name TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT, WITHOUT ROWID;
  `,
];
