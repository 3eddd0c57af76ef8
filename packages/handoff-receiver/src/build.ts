// The build step: a receiver engine made from what the app opened (the store, the connection log)
// and what it decides (clock, logger, counters, options, how replies are sent). It starts no timer
// and opens no socket or file; runReceiver (run.ts) starts the timers, the app owns all I/O.
//
// In order: the log is brought up to date with the store (a crash may have kept lines of durable
// commits out of it), the cookie secret is read or made, the commit clock resumes after the last
// logged commit, and the table opens with the gateway epochs stored beside it.
import { ConnTable, type ConnStore } from '@nat64/conntrack';
import type { Counters, Histogram, Logger, MicroClock } from '@nat64/service';
import { CommitClock, LOGGED_THROUGH_RECORD, UNLOGGED_COMMITS_RECORD, readUnloggedCommits } from './commit-pipeline.js';
import type { ConnectionLog } from './conn-log.js';
import { CookieJar, newCookieSecret, COOKIE_SECRET_BYTES } from './cookies.js';
import type { ReceiverDependencies, ReceiverOptions } from './core.js';
import type { ReceiverCounterName } from './counters.js';
import { findMissingLines } from './log-recovery.js';
import { PEER_SIDE_PREFIX, parseStoredPeers } from './peers.js';
import { Receiver } from './receiver.js';

const COOKIE_SECRET_RECORD = 'cookie-secret';

export interface ReceiverParts {
  /** The store the table is kept in, opened by the app. */
  store: ConnStore;
  /** The connection log, opened by the app (log-file.ts there) and not yet appended to. */
  log: ConnectionLog;
  clock: MicroClock;
  logger: Logger;
  counters: Counters<ReceiverCounterName>;
  /** Entries the table holds at most. */
  capacity: number;
  /** Idle time after which this receiver ends an entry; not finite or 0: never. */
  idleTimeoutMs: number;
  options: ReceiverOptions;
  /** How replies leave (ReceiverDependencies.send); it may name transports opened after the build. */
  send: ReceiverDependencies['send'];
  /** Seconds from applying a reliable message until its ACK is due, before any ACK delay (metrics). */
  ackLatency?: Histogram | undefined;
  /** Runs the engine's flush at the end of the turn (default: setImmediate). */
  scheduleFlush?: (flush: () => void) => void;
  /** Milliseconds an ACK may wait to cover the commits after it (ack-delay.ts); default 0, none. */
  ackDelayMs?: number;
}

export interface BuiltReceiver {
  receiver: Receiver;
  /** The authoritative table; the app closes it (closeAsync) after draining the receiver. */
  table: ConnTable;
  store: ConnStore;
}

export function buildReceiver(parts: ReceiverParts): BuiltReceiver {
  const { store, log, clock, logger } = parts;
  recoverLog(store, log, logger);
  const cookies = new CookieJar(cookieSecret(store));
  const commitClock = new CommitClock(
    clock,
    Math.max(0, ...readUnloggedCommits(store.getSide(UNLOGGED_COMMITS_RECORD)), ...readUnloggedCommits(store.getSide(LOGGED_THROUGH_RECORD))),
  );
  const storedPeers = parseStoredPeers(store.listSide(PEER_SIDE_PREFIX));
  const table = ConnTable.open(store, {
    capacity: parts.capacity,
    idleTimeout: Number.isFinite(parts.idleTimeoutMs) && parts.idleTimeoutMs > 0 ? parts.idleTimeoutMs * 1000 : Infinity,
    clock: commitClock.read,
  });
  const scheduleFlush = parts.scheduleFlush ?? ((flush: () => void) => void setImmediate(flush));
  const receiver: Receiver = new Receiver(
    {
      table,
      commitClock,
      log,
      cookies,
      clock,
      counters: parts.counters,
      logger: logger.child({ component: 'receiver' }),
      send: parts.send,
      scheduleFlush: () => scheduleFlush(() => void receiver.flush()),
      options: parts.options,
      ackLatency: parts.ackLatency,
      ackDelayMs: parts.ackDelayMs,
    },
    storedPeers,
  );
  return { receiver, table, store };
}

/** Cuts a partial last line, then queues the lines of the commits that a crash kept out of the log. */
function recoverLog(store: ConnStore, log: ConnectionLog, logger: Logger): void {
  const tail = log.prepareTail();
  if (tail && tail.cutBytes > 0)
    logger.warn({ bytes: tail.cutBytes }, 'cut a partial last line off the connection log (a write a crash or a full disk interrupted)');
  const missing = findMissingLines(store, tail, log.zone);
  if (missing.length === 0) return;
  for (const commit of missing) {
    for (const line of commit.lines) log.append(line);
    log.flush(commit.at);
  }
  logger.warn(
    { lines: missing.reduce((sum, commit) => sum + commit.lines.length, 0), commits: missing.length },
    'writing the connection log lines of commits that a crash kept out of the log',
  );
}

/** The cookie secret, made and stored on first start so cookies survive restarts. */
function cookieSecret(store: ConnStore): Uint8Array {
  const stored = store.getSide(COOKIE_SECRET_RECORD);
  if (stored && stored.length === COOKIE_SECRET_BYTES) return stored;
  const secret = newCookieSecret();
  store.commit([], [[COOKIE_SECRET_RECORD, secret]]);
  return secret;
}
