// Crash recovery of the connection log. The receiver writes a commit's lines right after the
// commit is durable; a crash in between (or a log that could not be written, on a full disk) loses
// those lines although the store holds the changes. Every commit therefore also stores the times
// of the commits whose lines may still be missing (those in flight, those the log still holds back,
// and itself); at startup the lines of those the log file does not have yet are rebuilt from the
// store, and written in the order the receiver writes them (commit-lines.ts).
//
// A commit's events are rebuilt from the history rows it touched, key by key. Within one commit a
// key's events alternate (a key has at most one open incarnation), so its rows say exactly what
// happened to it, in order: the incarnation held before the commit ended at its time; then each
// incarnation the commit started, in the order the rows were inserted, each followed by its end
// if the same commit ended it. A key that changed hands twice in one commit, or was created and
// deleted in it, comes back exactly so.
import { connKey, type ConnEvent, type ConnStore, type HistoryRecord, type StoredEntry } from '@nat64/conntrack';
import { ipv4TextToUint32 } from '@nat64/wire';
import { LOGGED_THROUGH_RECORD, UNLOGGED_COMMITS_RECORD, readUnloggedCommits } from './commit-pipeline.js';
import { commitLines } from './commit-lines.js';
import type { LogTail, TimeZoneMode } from './conn-log.js';
import { PEER_SIDE_PREFIX, parseStoredPeers } from './peers.js';

export interface MissingCommit {
  at: number;
  lines: string[];
}

/**
 * The lines the log lacks, per commit, oldest first: those of the commits that may lack lines and
 * that end after what the file ends with (`tail`, undefined when the log's content cannot be read:
 * stdout), minus those of the last commit the file already has.
 */
export function findMissingLines(store: ConnStore, tail: LogTail | undefined, zone: TimeZoneMode): MissingCommit[] {
  const loggedThrough = readUnloggedCommits(store.getSide(LOGGED_THROUGH_RECORD))[0] ?? -Infinity;
  const lastAt = tail?.lastAt;
  const missing = readUnloggedCommits(store.getSide(UNLOGGED_COMMITS_RECORD))
    .filter((at) => at > loggedThrough && (lastAt === undefined || at >= lastAt))
    .sort((a, b) => a - b);
  if (missing.length === 0) return [];
  const peers = parseStoredPeers(store.listSide(PEER_SIDE_PREFIX));
  const ended = new Map(missing.map((at) => [at, store.endedAt(at)]));
  // Incarnations a missing commit started and did not end: still held, or ended by a later missing commit.
  const startedAndKept = new Map<number, StoredEntry[]>(missing.map((at) => [at, []]));
  for (const entry of store.loadCurrent()) startedAndKept.get(entry.startedAt)?.push(entry);
  for (const [at, records] of ended) for (const record of records) if (record.startedAt !== at) startedAndKept.get(record.startedAt)?.push(record);
  const commits: MissingCommit[] = [];
  for (const at of missing) {
    const gateways = peers.filter((peer) => peer.initializedAt === at).map((peer) => ipv4TextToUint32(peer.address));
    let lines = commitLines(at, gateways, eventsOf(at, ended.get(at)!, startedAndKept.get(at)!), zone);
    if (at === lastAt) lines = without(lines, tail!.lastLines);
    if (lines.length > 0) commits.push({ at, lines });
  }
  return commits;
}

/** The events of the commit at `at`, each key's in the order they happened (see the header). */
function eventsOf(at: number, endedHere: readonly HistoryRecord[], keptFromHere: readonly StoredEntry[]): ConnEvent[] {
  const chains = new Map<number, { before: HistoryRecord | undefined; within: HistoryRecord[]; kept: StoredEntry | undefined }>();
  const chainOf = (entry: StoredEntry) => {
    const key = connKey(entry.protocol, entry.natAddress, entry.natPort);
    let chain = chains.get(key);
    if (!chain) {
      chain = { before: undefined, within: [], kept: undefined };
      chains.set(key, chain);
    }
    return chain;
  };
  // endedAt lists rows in insertion order, so `within` is in the order the commit created them.
  for (const record of endedHere) {
    const chain = chainOf(record);
    if (record.startedAt === at) chain.within.push(record);
    else chain.before = record;
  }
  for (const entry of keptFromHere) chainOf(entry).kept = entry;
  const events: ConnEvent[] = [];
  for (const { before, within, kept } of chains.values()) {
    if (before) events.push({ kind: 'deleted', entry: before, at, reason: before.endReason! });
    for (const record of within) {
      events.push({ kind: 'created', entry: record, at });
      events.push({ kind: 'deleted', entry: record, at, reason: record.endReason! });
    }
    if (kept) events.push({ kind: 'created', entry: kept, at });
  }
  return events;
}

/** `lines` without one occurrence of each of `present`, order kept. */
function without(lines: string[], present: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of present) counts.set(line, (counts.get(line) ?? 0) + 1);
  return lines.filter((line) => {
    const count = counts.get(line) ?? 0;
    if (count === 0) return true;
    counts.set(line, count - 1);
    return false;
  });
}
