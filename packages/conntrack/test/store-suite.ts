// The ConnStore contract, run against every implementation (memory-store.test.ts,
// sqlite/sqlite-store.test.ts, sqlite/worker/worker-store.test.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DELETE_REASONS, StoreError, type ConnEvent, type ConnStore } from '@nat64/conntrack';
import { NAT, SECOND, T0, tcp } from './helpers/entries.js';
import type { StoreHarness } from './helpers/stores.js';

const created = (entry: ReturnType<typeof tcp>, at: number): ConnEvent => ({ kind: 'created', entry, at });
const deleted = (entry: ReturnType<typeof tcp>, at: number): ConnEvent => ({ kind: 'deleted', entry, at, reason: 'gateway' });

export function storeContract(makeHarness: () => StoreHarness): void {
  let harness: StoreHarness;
  let store: ConnStore;

  beforeEach(async () => {
    harness = makeHarness();
    store = await harness.open();
  });
  afterEach(async () => {
    await harness.cleanup();
  });

  describe('commit', () => {
    it('applies events in order: created opens an incarnation, deleted ends the open one', () => {
      store.commit([created(tcp(1, 1), T0), deleted(tcp(1, 1), T0 + 1), created(tcp(1, 2), T0 + 1), created(tcp(2, 1), T0 + 2)], []);
      expect([...store.loadCurrent()].map((entry) => [entry.natPort, entry.clientAddress[15], entry.startedAt])).toEqual([
        [1, 2, T0 + 1],
        [2, 1, T0 + 2],
      ]);
      expect(store.history({ natAddress: NAT, natPort: 1 }).map((row) => [row.clientAddress[15], row.endedAt, row.endReason])).toEqual([
        [2, null, null],
        [1, T0 + 1, 'gateway'],
      ]);
    });

    it('ignores a delete of a key that is not held', () => {
      store.commit([deleted(tcp(9), T0)], []);
      expect([...store.loadCurrent()]).toEqual([]);
      expect(store.history({ natAddress: NAT, natPort: 9 })).toEqual([]);
    });

    it('rejects a create for a held key with constraint and stores nothing of that commit', () => {
      store.commit([created(tcp(1), T0)], [['w', new Uint8Array([1])]]);
      const bad = [created(tcp(2), T0 + 1), deleted(tcp(1), T0 + 1), created(tcp(3), T0 + 1), created(tcp(3, 2), T0 + 1)];
      expect(() => store.commit(bad, [['w', new Uint8Array([2])]])).toThrow(expect.objectContaining({ code: 'constraint' }));
      expect([...store.loadCurrent()].map((entry) => entry.natPort)).toEqual([1]);
      expect(store.history({ natAddress: NAT, natPort: 2 })).toEqual([]);
      expect(store.history({ natAddress: NAT, natPort: 1 })[0]?.endedAt).toBeNull();
      expect(store.getSide('w')).toEqual(new Uint8Array([1]));
      store.commit([created(tcp(2), T0 + 2)], []);
      expect([...store.loadCurrent()].map((entry) => entry.natPort)).toEqual([1, 2]);
      store.commit([deleted(tcp(1), T0 + 3), created(tcp(3), T0 + 3)], []);
      expect([...store.loadCurrent()].map((entry) => entry.natPort)).toEqual([2, 3]);
      expect(store.history({ natAddress: NAT, natPort: 1 })[0]?.endedAt).toBe(T0 + 3);
    });

    it('keeps its own copy of what it stores', () => {
      const entry = tcp(1);
      const value = new Uint8Array([1, 2]);
      store.commit([created(entry, T0)], [['w', value]]);
      entry.clientAddress.fill(0);
      value.fill(0);
      expect([...store.loadCurrent()][0]?.clientAddress).toEqual(tcp(1).clientAddress);
      expect(store.getSide('w')).toEqual(new Uint8Array([1, 2]));
    });

    it('stores every field exactly, at the extremes of each range', () => {
      const entry = tcp(0xffff, 0xffff, {
        protocol: 17,
        natAddress: 0xffff_ffff,
        clientAddress: new Uint8Array(16).fill(0xff),
        clientPort: 0xffff,
        serverAddress: 0xffff_ffff,
        serverPort: 0xffff,
        createdAt: Number.MAX_SAFE_INTEGER,
      });
      store.commit([created(entry, Number.MAX_SAFE_INTEGER - 1), created(tcp(0, 0, { natAddress: 0, createdAt: 0, clientPort: 0 }), 0)], []);
      expect([...store.loadCurrent()]).toEqual(
        [
          { ...tcp(0, 0, { natAddress: 0, createdAt: 0, clientPort: 0 }), startedAt: 0 },
          { ...entry, startedAt: Number.MAX_SAFE_INTEGER - 1 },
        ].map((expected) => expect.objectContaining(expected)),
      );
    });

    it('stores every delete reason the package knows', () => {
      const reasons = DELETE_REASONS;
      store.commit(
        reasons.map((_, i) => created(tcp(i), T0)),
        [],
      );
      store.commit(
        reasons.map((reason, i) => ({ kind: 'deleted', entry: tcp(i), at: T0 + 1, reason })),
        [],
      );
      expect(reasons.map((_, i) => store.history({ natAddress: NAT, natPort: i })[0]?.endReason)).toEqual(reasons);
    });
  });

  describe('side records', () => {
    it('lists by literal prefix in name order and deletes with null', () => {
      store.commit(
        [],
        [
          ['b%', new Uint8Array([1])],
          ['b_x', new Uint8Array([2])],
          ['bx', new Uint8Array([3])],
          ['a', new Uint8Array([4])],
          ['b%2', new Uint8Array([5])],
        ],
      );
      expect(store.listSide('b%').map(([name]) => name)).toEqual(['b%', 'b%2']);
      expect(store.listSide('b_').map(([name]) => name)).toEqual(['b_x']);
      expect(store.listSide('').map(([name]) => name)).toEqual(['a', 'b%', 'b%2', 'b_x', 'bx']);
      store.commit(
        [],
        [
          ['bx', null],
          ['missing', null],
        ],
      );
      expect(store.getSide('bx')).toBeNull();
      expect(store.listSide('b')).toHaveLength(3);
    });
  });

  describe('history and prune', () => {
    it('lists the incarnations one commit ended, by the commit time', () => {
      store.commit([created(tcp(1, 1), T0), created(tcp(2, 1), T0), created(tcp(3, 1), T0)], []);
      store.commit([deleted(tcp(3, 1), T0 + 5), deleted(tcp(1, 1), T0 + 5), created(tcp(1, 2), T0 + 5)], []);
      store.commit([deleted(tcp(2, 1), T0 + 9)], []);
      expect(store.endedAt(T0 + 5).map((row) => [row.natPort, row.clientAddress[15], row.endReason])).toEqual([
        [1, 1, 'gateway'],
        [3, 1, 'gateway'],
      ]);
      expect(store.endedAt(T0 + 9).map((row) => row.natPort)).toEqual([2]);
      expect(store.endedAt(T0 + 7)).toEqual([]);
    });

    it('prunes only ended incarnations older than the bound, at most `limit`', () => {
      store.commit([created(tcp(1), T0), created(tcp(2), T0), created(tcp(3), T0)], []);
      store.commit([deleted(tcp(1), T0 + SECOND), deleted(tcp(2), T0 + 2 * SECOND)], []);
      expect(store.prune(T0 + SECOND)).toBe(0);
      expect(store.prune(T0 + 3 * SECOND, 0)).toBe(0);
      expect(store.prune(T0 + 3 * SECOND, -1)).toBe(0);
      expect(store.prune(T0 + 3 * SECOND, 1)).toBe(1);
      expect(store.history({ natAddress: NAT, natPort: 1 })).toEqual([]);
      expect(store.prune(T0 + 3 * SECOND)).toBe(1);
      expect(store.prune(Number.MAX_SAFE_INTEGER)).toBe(0);
      expect(store.history({ natAddress: NAT, natPort: 3 })).toHaveLength(1);
    });

    it('deletes, with each commit under a retention bound, the oldest ended incarnations past it: 2 per event plus 256', () => {
      const ports = Array.from({ length: 700 }, (_, i) => i + 1);
      store.commit(
        ports.map((port) => created(tcp(port), T0)),
        [],
      );
      // Ports 301-600 end first, 1-300 a second later, 601-700 after the bound; none open remains.
      store.commit(
        ports.slice(300, 600).map((port) => deleted(tcp(port), T0 + SECOND)),
        [],
      );
      store.commit(
        ports.slice(0, 300).map((port) => deleted(tcp(port), T0 + 2 * SECOND)),
        [],
      );
      store.commit(
        ports.slice(600).map((port) => deleted(tcp(port), T0 + 5 * SECOND)),
        [],
      );
      const kept = () => ports.filter((port) => store.history({ natAddress: NAT, natPort: port }).length > 0);
      store.retain(T0 + 4 * SECOND);
      expect(kept()).toHaveLength(700);
      store.commit([created(tcp(1000), T0 + 6 * SECOND)], []);
      expect(store.prunedByCommits).toBe(2 + 256);
      expect(kept()).toEqual([...ports.slice(0, 300), ...ports.slice(558)]);
      store.commit([], [['w', new Uint8Array([1])]]);
      expect(store.prunedByCommits).toBe(2 * 256 + 2);
      expect(kept()).toEqual([...ports.slice(214, 300), ...ports.slice(600)]);
      store.commit([created(tcp(1001), T0 + 7 * SECOND)], []);
      expect(store.prunedByCommits).toBe(600);
      expect(kept()).toEqual(ports.slice(600));
      expect([...store.loadCurrent()].map((entry) => entry.natPort)).toEqual([1000, 1001]);
    });

    it('finds the incarnation held at a time per protocol, including one still held', () => {
      store.commit([created(tcp(5, 1), T0), created(tcp(5, 2, { protocol: 1, serverPort: 0 }), T0 + 1)], []);
      store.commit([deleted(tcp(5, 1), T0 + 10), created(tcp(5, 3), T0 + 10)], []);
      const at = (time: number) => store.history({ natAddress: NAT, natPort: 5, at: time }).map((row) => `${row.protocol} by ${row.clientAddress[15]}`);
      expect(at(T0)).toEqual(['6 by 1']);
      expect(at(T0 + 9)).toEqual(['1 by 2', '6 by 1']);
      expect(at(T0 + 10)).toEqual(['6 by 3', '1 by 2']);
      expect(store.history({ natAddress: NAT, natPort: 5, at: T0 + 10, limit: 1 })).toHaveLength(1);
      expect(store.history({ natAddress: NAT, natPort: 5, limit: -1 })).toEqual([]);
      expect(store.history({ natAddress: NAT + 1, natPort: 5, at: T0 + 10 })).toEqual([]);
    });
  });

  describe('close', () => {
    it('throws closed after close and tolerates a second close', () => {
      store.close();
      store.close();
      expect(() => store.getSide('w')).toThrow(StoreError);
      expect(() => store.commit([], [])).toThrow(expect.objectContaining({ code: 'closed' }));
    });
  });
}
