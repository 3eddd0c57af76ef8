import { describe, expect, it } from 'vitest';
import { MemoryStore, type ConnEntry } from '@nat64/conntrack';
import { LOGGED_THROUGH_RECORD, UNLOGGED_COMMITS_RECORD } from '../src/commit-pipeline.js';
import { entryLine } from '../src/conn-log.js';
import { findMissingLines } from '../src/log-recovery.js';

const T = Date.UTC(2019, 2, 18, 15, 22, 2) * 1000;

function entry(natPort: number, who: number): ConnEntry {
  const clientAddress = new Uint8Array(16);
  clientAddress.set([0x20, 0x01, 0x0d, 0xb8]);
  clientAddress[15] = who;
  return { protocol: 6, natAddress: 0xc0000209, natPort, clientAddress, clientPort: 30000 + who, serverAddress: 0xc633640a, serverPort: 443, createdAt: 1 };
}

function times(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (const [index, value] of values.entries()) view.setFloat64(index * 8, value);
  return bytes;
}

function strip(commits: Array<{ lines: string[] }>): string[] {
  return commits.flatMap((commit) => commit.lines.map((line) => line.slice(27)));
}

const tail = (lastAt: number | undefined, lastLines: string[] = []) => ({ lastAt, lastLines, cutBytes: 0 });

describe('log-recovery', () => {
  it('rebuilds the lines of every commit the log does not reach, including one undone by a later commit', () => {
    const store = new MemoryStore();
    store.commit([{ kind: 'created', entry: entry(1, 1), at: T }], [[UNLOGGED_COMMITS_RECORD, times(T)]]);
    // Two commits in flight when the process died: B ends what A started.
    store.commit(
      [
        { kind: 'created', entry: entry(2, 2), at: T + 10 },
        { kind: 'deleted', entry: entry(1, 1), at: T + 10, reason: 'replaced' },
        { kind: 'created', entry: entry(1, 3), at: T + 10 },
      ],
      [[UNLOGGED_COMMITS_RECORD, times(T + 10)]],
    );
    store.commit([{ kind: 'deleted', entry: entry(2, 2), at: T + 20, reason: 'gateway' }], [[UNLOGGED_COMMITS_RECORD, times(T + 10, T + 20)]]);
    const firstLine = entryLine(T, 'Created', entry(1, 1), 'utc');
    expect(strip(findMissingLines(store, tail(T, [firstLine]), 'utc'))).toEqual([
      'Deleted 192.0.2.9:1 [2001:db8::1]:30001',
      'Created 192.0.2.9:1 [2001:db8::3]:30003',
      'Created 192.0.2.9:2 [2001:db8::2]:30002',
      'Deleted 192.0.2.9:2 [2001:db8::2]:30002',
    ]);
    const lastCommit = findMissingLines(store, tail(T + 10, [entryLine(T + 10, 'Deleted', entry(1, 1), 'utc')]), 'utc');
    expect(lastCommit.map((commit) => commit.at)).toEqual([T + 10, T + 20]);
    expect(lastCommit[0]!.lines.map((line) => line.slice(27))).toEqual(['Created 192.0.2.9:1 [2001:db8::3]:30003', 'Created 192.0.2.9:2 [2001:db8::2]:30002']);
    expect(lastCommit[1]!.lines).toEqual(['2019-03-18 15:22:02.000020 Deleted 192.0.2.9:2 [2001:db8::2]:30002']);
    expect(findMissingLines(store, tail(T + 20, [entryLine(T + 20, 'Deleted', entry(2, 2), 'utc')]), 'utc')).toEqual([]);
  });

  it('brings back a key that changed hands twice in one commit, and one created and deleted in it, in the order they happened', () => {
    const store = new MemoryStore();
    store.commit([{ kind: 'created', entry: entry(7, 1), at: T }], [[UNLOGGED_COMMITS_RECORD, times(T)]]);
    store.commit(
      [
        { kind: 'deleted', entry: entry(7, 1), at: T + 1, reason: 'replaced' },
        { kind: 'created', entry: entry(7, 2), at: T + 1 },
        { kind: 'created', entry: entry(8, 4), at: T + 1 },
        { kind: 'deleted', entry: entry(7, 2), at: T + 1, reason: 'replaced' },
        { kind: 'created', entry: entry(7, 3), at: T + 1 },
        { kind: 'deleted', entry: entry(8, 4), at: T + 1, reason: 'gateway' },
      ],
      [[UNLOGGED_COMMITS_RECORD, times(T + 1)]],
    );
    expect(strip(findMissingLines(store, tail(T, [entryLine(T, 'Created', entry(7, 1), 'utc')]), 'utc'))).toEqual([
      'Deleted 192.0.2.9:7 [2001:db8::1]:30001',
      'Created 192.0.2.9:7 [2001:db8::2]:30002',
      'Deleted 192.0.2.9:7 [2001:db8::2]:30002',
      'Created 192.0.2.9:7 [2001:db8::3]:30003',
      'Created 192.0.2.9:8 [2001:db8::4]:30004',
      'Deleted 192.0.2.9:8 [2001:db8::4]:30004',
    ]);
  });

  it('writes nothing again once a clean stop stored that the log is complete, even into an emptied (rotated) log', () => {
    const store = new MemoryStore();
    store.commit([{ kind: 'created', entry: entry(1, 1), at: T }], [[UNLOGGED_COMMITS_RECORD, times(T)]]);
    expect(strip(findMissingLines(store, tail(undefined), 'utc'))).toEqual(['Created 192.0.2.9:1 [2001:db8::1]:30001']);
    store.commit([], [[LOGGED_THROUGH_RECORD, times(T)]]);
    expect(findMissingLines(store, tail(undefined), 'utc')).toEqual([]);
  });

  it('finds nothing to do in a store that was never written', () => {
    expect(findMissingLines(new MemoryStore(), tail(undefined), 'utc')).toEqual([]);
  });
});
