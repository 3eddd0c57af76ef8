// Crash recovery of the connection log. The receiver writes a batch's lines right after the
// batch commits; a crash between the two would lose those lines although the store holds the
// changes. Every commit therefore stores its time (all events of a commit share it), and at
// startup, if the log file ends before that time, the lines of that last commit are rebuilt from
// the store: the gateways it initialized, the incarnations it ended and those it started.
// (Only the last commit can be missing: each commit's lines are written before the next commit.)
import type { ConnStore, StoredEntry } from '@nat64/conntrack';
import { connKey } from '@nat64/conntrack';
import { parseIpv4 } from '@nat64/service';
import { entryLine, initializedLine, type TimeZoneMode } from './conn-log.js';
import { PEER_SIDE_PREFIX, parseStoredPeers } from './peers.js';
import { LAST_COMMIT_RECORD, readCommitTime } from './receiver.js';

export interface MissingLines {
  at: number;
  lines: string[];
}

/**
 * The lines of the last commit when the log (whose last line was written at `lastLoggedAt`, or
 * undefined when empty) does not have them yet; undefined when the log is complete.
 */
export function findMissingLines(store: ConnStore, lastLoggedAt: number | undefined, zone: TimeZoneMode): MissingLines | undefined {
  const at = readCommitTime(store.getSide(LAST_COMMIT_RECORD));
  if (at === 0 || (lastLoggedAt !== undefined && lastLoggedAt >= at)) return undefined;
  const lines: string[] = [];
  for (const peer of parseStoredPeers(store.listSide(PEER_SIDE_PREFIX))) {
    if (peer.initializedAt === at) lines.push(initializedLine(at, parseIpv4(peer.address), zone));
  }
  const started = new Map<number, StoredEntry>();
  for (const entry of store.loadCurrent()) {
    if (entry.startedAt === at) started.set(connKey(entry.protocol, entry.natAddress, entry.natPort), entry);
  }
  // A replaced entry is followed by its successor, as the receiver logged it; the original order
  // of unrelated changes within one commit is not stored and does not matter to readers.
  for (const ended of store.endedAt(at)) {
    lines.push(entryLine(at, 'Deleted', ended, zone));
    const key = connKey(ended.protocol, ended.natAddress, ended.natPort);
    const successor = started.get(key);
    if (successor && ended.endReason === 'replaced') {
      lines.push(entryLine(at, 'Created', successor, zone));
      started.delete(key);
    }
  }
  for (const entry of started.values()) lines.push(entryLine(at, 'Created', entry, zone));
  return { at, lines };
}
