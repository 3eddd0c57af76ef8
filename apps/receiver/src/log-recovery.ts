// Crash recovery of the connection log. The receiver writes a commit's lines right after the
// commit is durable; a crash in between loses those lines although the store holds the changes.
// Every commit therefore also stores the times of the commits whose lines may still be missing
// (those in flight and itself; all events of a commit carry its time), and at startup the lines of
// those the log file does not reach yet are rebuilt from the store: the gateways each commit
// initialized, the incarnations it ended and those it started.
import { connKey, type ConnStore, type StoredEntry } from '@nat64/conntrack';
import { parseIpv4 } from '@nat64/service';
import { UNLOGGED_COMMITS_RECORD, readUnloggedCommits } from './commit-pipeline.js';
import { entryLine, initializedLine, type TimeZoneMode } from './conn-log.js';
import { PEER_SIDE_PREFIX, parseStoredPeers } from './peers.js';

/**
 * The lines of the commits the log (whose last line was written at `lastLoggedAt`, or undefined
 * when empty) does not have yet, oldest first; empty when the log is complete.
 */
export function findMissingLines(store: ConnStore, lastLoggedAt: number | undefined, zone: TimeZoneMode): string[] {
  const missing = readUnloggedCommits(store.getSide(UNLOGGED_COMMITS_RECORD))
    .filter((at) => lastLoggedAt === undefined || at > lastLoggedAt)
    .sort((a, b) => a - b);
  if (missing.length === 0) return [];
  const peers = parseStoredPeers(store.listSide(PEER_SIDE_PREFIX));
  const ended = new Map(missing.map((at) => [at, store.endedAt(at)]));
  // An incarnation a missing commit started is either still held or ended by a later missing commit.
  const startedAt = new Map<number, StoredEntry[]>(missing.map((at) => [at, []]));
  const candidates: StoredEntry[] = [...store.loadCurrent(), ...[...ended.values()].flat()];
  for (const entry of candidates) startedAt.get(entry.startedAt)?.push(entry);
  const lines: string[] = [];
  for (const at of missing) {
    for (const peer of peers) if (peer.initializedAt === at) lines.push(initializedLine(at, parseIpv4(peer.address), zone));
    const started = new Map(startedAt.get(at)!.map((entry) => [connKey(entry.protocol, entry.natAddress, entry.natPort), entry]));
    // A replaced entry is followed by its successor, as the receiver logged it; the order of
    // unrelated changes within one commit is not stored and does not matter to readers.
    for (const record of ended.get(at)!) {
      lines.push(entryLine(at, 'Deleted', record, zone));
      const key = connKey(record.protocol, record.natAddress, record.natPort);
      const successor = started.get(key);
      if (successor && record.endReason === 'replaced') {
        lines.push(entryLine(at, 'Created', successor, zone));
        started.delete(key);
      }
    }
    for (const entry of started.values()) lines.push(entryLine(at, 'Created', entry, zone));
  }
  return lines;
}
