// The receiver's side of handoff protocol v1 (docs/protocol/handoff-v1.md): validates every
// datagram, keeps the authoritative table (@nat64/conntrack), writes the connection log through
// the commit pipeline and answers gateways. No sockets and no files of its own: the app feeds it
// datagrams and gives it a send function, a store and a connection log.
export { buildReceiver, type BuiltReceiver, type ReceiverParts } from './build.js';
export { runReceiver, type RunningReceiver, type RunOptions } from './run.js';
export { Receiver, WINDOW, geneveVni, type ReceiverDependencies, type ReceiverOptions } from './receiver.js';
export { DEFAULT_ACK_DELAY_MS, MAX_ACK_DELAY_MS } from './ack-delay.js';
export { RECEIVER_COUNTERS, type ReceiverCounterName } from './counters.js';
export {
  formatTimestamp,
  parseTimestamp,
  entryLine,
  initializedLine,
  type ConnectionLog,
  type LogTail,
  type LoggedEntry,
  type TimeZoneMode,
} from './conn-log.js';
export { CookieJar, newCookieSecret, COOKIE_SECRET_BYTES } from './cookies.js';
export { CommitClock, LOGGED_THROUGH_RECORD, UNLOGGED_COMMITS_RECORD, readUnloggedCommits } from './commit-pipeline.js';
export { findMissingLines } from './log-recovery.js';
export { PEER_SIDE_PREFIX, parseStoredPeers, type GatewayPeer, type Via } from './peers.js';
export { DEAD_EPOCHS_KEPT, EPOCH_SIDE_PREFIX, EpochBook } from './epochs.js';
export { DEFAULT_HELLO_LIMIT, DEFAULT_QUERY_LIMIT, SourceRateLimiter, type RateLimit } from './rate-limit.js';
