// Schemas of the store as they shipped, for tests of what opens a file an older version wrote:
// literal copies, not MIGRATIONS, so that an edit of a shipped step cannot change the input the
// migration tests start from.

/** Schema version 1 as it shipped (MIGRATIONS[0]). */
export const SCHEMA_1 = `
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
  CREATE UNIQUE INDEX conn_current ON conn_history (protocol, nat_address, nat_port) WHERE ended_at IS NULL;
  CREATE INDEX conn_by_nat ON conn_history (nat_address, nat_port, protocol, started_at);
  CREATE INDEX conn_ended ON conn_history (ended_at) WHERE ended_at IS NOT NULL;
  CREATE TABLE side_record (name TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT, WITHOUT ROWID;
  PRAGMA application_id = 1312175171;
  PRAGMA user_version = 1;
`;

/** Schema version 2 as it shipped (the end state of MIGRATIONS[1]). */
export const SCHEMA_2 = `
  CREATE TABLE conn_history (
    id INTEGER PRIMARY KEY,
    nat_key INTEGER NOT NULL CHECK (
      (nat_key >> 48 = 1 OR nat_key >> 48 = 6 OR nat_key >> 48 = 17) AND nat_key BETWEEN 0 AND 5066549580791807
    ),
    client_address BLOB NOT NULL CHECK (length(client_address) = 16),
    client_port INTEGER NOT NULL CHECK (client_port BETWEEN 0 AND 65535),
    server_address INTEGER NOT NULL CHECK (server_address BETWEEN 0 AND 4294967295),
    server_port INTEGER NOT NULL CHECK (server_port BETWEEN 0 AND 65535),
    created_at INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    end_reason INTEGER CHECK (end_reason BETWEEN 1 AND 5),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
  ) STRICT;
  CREATE INDEX conn_by_key ON conn_history (nat_key, started_at);
  CREATE INDEX conn_open ON conn_history (started_at) WHERE ended_at IS NULL;
  CREATE INDEX conn_ended ON conn_history (ended_at) WHERE ended_at IS NOT NULL;
  CREATE TABLE side_record (name TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT, WITHOUT ROWID;
  PRAGMA application_id = 1312175171;
  PRAGMA user_version = 2;
`;
