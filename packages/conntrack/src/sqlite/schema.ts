// The SQLite schema: one history row per incarnation; the current table is the rows not ended.
// `MIGRATIONS[v]` upgrades a database at user_version v to v + 1, so a file of any older version
// is brought forward step by step inside one transaction. To change the schema, append a step and
// raise SqliteFormat.schemaVersion. Steps are literal SQL, never built from constants of the code, so a
// step that has shipped cannot change under a later edit; the columns both steps declare alike are one
// literal of this file, shipped with them and as fixed.
//
// Value lists in CHECKs are OR chains, not `IN (...)`: SQLite evaluates a constant IN list in a
// CHECK by building a temporary b-tree for every row written, which halved the insert rate.

/** Client, server and time columns of conn_history, alike in steps 0 and 1 (shipped: never edit). */
const CLIENT_SERVER_TIME_COLUMNS = `client_address BLOB NOT NULL CHECK (length(client_address) = 16),
    client_port INTEGER NOT NULL CHECK (client_port BETWEEN 0 AND 65535),
    server_address INTEGER NOT NULL CHECK (server_address BETWEEN 0 AND 4294967295),
    server_port INTEGER NOT NULL CHECK (server_port BETWEEN 0 AND 65535),
    created_at INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,`;

export const MIGRATIONS: readonly string[] = [
  // 0 -> 1: the first schema. CHECKs keep whatever reaches the file loadable by ConnTable:
  // protocols 1/6/17, IPv4 addresses below 2^32, ports below 2^16, 16-byte IPv6 addresses.
  `
  CREATE TABLE conn_history (
    id INTEGER PRIMARY KEY,
    protocol INTEGER NOT NULL CHECK (protocol = 1 OR protocol = 6 OR protocol = 17),
    nat_address INTEGER NOT NULL CHECK (nat_address BETWEEN 0 AND 4294967295),
    nat_port INTEGER NOT NULL CHECK (nat_port BETWEEN 0 AND 65535),
    ${CLIENT_SERVER_TIME_COLUMNS}
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
  // 1 -> 2: cheaper writes. The NAT key (protocol, address, port) is one integer,
  // protocol * 2^48 + nat_address * 2^16 + nat_port, and the end reason a number (1-5 in the order
  // of DELETE_REASONS). The unique index of open keys (a random B-tree insert per create) is gone:
  // the writer keeps the open keys and their row ids in memory (commit-writer.ts), and an index of
  // the open rows by start time (appends) finds them at open. Rows keep their ids.
  `
  CREATE TABLE conn_history_2 (
    id INTEGER PRIMARY KEY,
    nat_key INTEGER NOT NULL CHECK (
      (nat_key >> 48 = 1 OR nat_key >> 48 = 6 OR nat_key >> 48 = 17) AND nat_key BETWEEN 0 AND 5066549580791807
    ),
    ${CLIENT_SERVER_TIME_COLUMNS}
    end_reason INTEGER CHECK (end_reason BETWEEN 1 AND 5),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
  ) STRICT;
  INSERT INTO conn_history_2
    SELECT id, protocol * 281474976710656 + nat_address * 65536 + nat_port, client_address, client_port, server_address, server_port,
      created_at, started_at, ended_at,
      CASE end_reason WHEN 'gateway' THEN 1 WHEN 'replaced' THEN 2 WHEN 'idle' THEN 3 WHEN 'evicted' THEN 4 WHEN 'admin' THEN 5 END
    FROM conn_history ORDER BY id;
  DROP TABLE conn_history;
  ALTER TABLE conn_history_2 RENAME TO conn_history;
  -- History lookups: the incarnations of one key by start.
  CREATE INDEX conn_by_key ON conn_history (nat_key, started_at);
  -- The open incarnations (loadCurrent, and the writer's map of open keys), oldest start first.
  CREATE INDEX conn_open ON conn_history (started_at) WHERE ended_at IS NULL;
  -- Pruning the oldest ended rows without a full scan.
  CREATE INDEX conn_ended ON conn_history (ended_at) WHERE ended_at IS NOT NULL;
  `,
  // 2 -> 3: fewer values per row. The server endpoint is one integer, server_address * 2^16 +
  // server_port, checked by one range (every value in it unpacks to a valid address and port); the
  // gateway's creation time is kept as start_delay = started_at - created_at, small (the hand-off's
  // latency and the clocks' skew, negative when the gateway's clock is ahead) where created_at took
  // 8 bytes. Rows keep their ids; the indexes are as in step 1.
  `
  CREATE TABLE conn_history_3 (
    id INTEGER PRIMARY KEY,
    nat_key INTEGER NOT NULL CHECK (
      (nat_key >> 48 = 1 OR nat_key >> 48 = 6 OR nat_key >> 48 = 17) AND nat_key BETWEEN 0 AND 5066549580791807
    ),
    client_address BLOB NOT NULL CHECK (length(client_address) = 16),
    client_port INTEGER NOT NULL CHECK (client_port BETWEEN 0 AND 65535),
    server INTEGER NOT NULL CHECK (server BETWEEN 0 AND 281474976710655),
    started_at INTEGER NOT NULL,
    start_delay INTEGER NOT NULL,
    ended_at INTEGER,
    end_reason INTEGER CHECK (end_reason BETWEEN 1 AND 5),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
  ) STRICT;
  INSERT INTO conn_history_3
    SELECT id, nat_key, client_address, client_port, server_address * 65536 + server_port, started_at, started_at - created_at, ended_at, end_reason
    FROM conn_history ORDER BY id;
  DROP TABLE conn_history;
  ALTER TABLE conn_history_3 RENAME TO conn_history;
  CREATE INDEX conn_by_key ON conn_history (nat_key, started_at);
  CREATE INDEX conn_open ON conn_history (started_at) WHERE ended_at IS NULL;
  CREATE INDEX conn_ended ON conn_history (ended_at) WHERE ended_at IS NOT NULL;
  `,
];
