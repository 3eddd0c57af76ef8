// Table semantics every store must give the same way: conn-table.test.ts runs this suite against
// MemoryStore and SqliteStore, sqlite/worker/worker-store.test.ts against SqliteWorkerStore.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnTable, StoreError, connKey, type ConnTableOptions } from '@nat64/conntrack';
import { NAT, SECOND, T0, create, del, manualClock, tcp } from './helpers/entries.js';
import { FailingStore, type StoreHarness } from './helpers/stores.js';
import { brief, snapshot, view } from './helpers/snapshot.js';

export function tableSemantics(makeHarness: () => StoreHarness): void {
  let harness: StoreHarness;
  let clock: ReturnType<typeof manualClock>;
  let table: ConnTable;
  const open = async (options: Partial<ConnTableOptions> = {}) =>
    ConnTable.open(await harness.open(), { capacity: 1000, idleTimeout: 300 * SECOND, clock, ...options });
  const reopen = async (options: Partial<ConnTableOptions> = {}) =>
    ConnTable.open(await harness.reopen(), { capacity: 1000, idleTimeout: 300 * SECOND, clock, ...options });

  beforeEach(async () => {
    harness = makeHarness();
    clock = manualClock();
    table = await open();
  });
  afterEach(async () => {
    await harness.cleanup();
  });

  describe('create', () => {
    it('stores a new entry and reports it at the receiver clock', () => {
      const entry = tcp(3719);
      const events = table.apply([create(entry)]);
      expect(events).toEqual([{ kind: 'created', entry, at: T0 }]);
      expect(table.size).toBe(1);
      expect(table.get(connKey(6, NAT, 3719))).toEqual(entry);
    });

    it('treats a repeated create from the same client as a no-op', () => {
      table.apply([create(tcp(3719, 1))]);
      clock.advance(SECOND);
      expect(table.apply([create(tcp(3719, 1, { createdAt: T0 + 5 }))])).toEqual([]);
      expect(table.get(connKey(6, NAT, 3719))?.createdAt).toBe(T0 - 1000);
      expect(table.history({ natAddress: NAT, natPort: 3719 })).toHaveLength(1);
    });

    it('replaces an entry held by another client with deleted, then created', () => {
      table.apply([create(tcp(3719, 1))]);
      clock.advance(SECOND);
      const events = table.apply([create(tcp(3719, 2))]);
      expect(brief(events)).toEqual(['deleted(replaced) 6/3719 by 1', 'created 6/3719 by 2']);
      expect(events.map((event) => event.at)).toEqual([T0 + SECOND, T0 + SECOND]);
      expect(view(table.get(connKey(6, NAT, 3719))!).client).toBe(view(tcp(3719, 2)).client);
      expect(table.size).toBe(1);
    });

    it('keeps the same NAT port apart per protocol', () => {
      table.apply([create(tcp(7)), create(tcp(7, 2, { protocol: 17 })), create(tcp(7, 3, { protocol: 1, serverPort: 0 }))]);
      expect(table.size).toBe(3);
      expect(table.get(connKey(17, NAT, 7))?.clientAddress[15]).toBe(2);
      expect(table.get(connKey(1, NAT, 7))?.clientAddress[15]).toBe(3);
    });
  });

  describe('by client side', () => {
    const findOf = (t: ConnTable, entry: ReturnType<typeof tcp>) => t.findByClient(entry.protocol, entry.natAddress, entry.clientAddress, entry.clientPort);

    it('finds the entry a client endpoint holds, by protocol and NAT address', () => {
      table.apply([create(tcp(3719, 1)), create(tcp(3720, 2)), create(tcp(3721, 1, { protocol: 17 }))]);
      expect(findOf(table, tcp(0, 1))?.natPort).toBe(3719);
      expect(findOf(table, tcp(0, 2))?.natPort).toBe(3720);
      expect(findOf(table, tcp(0, 1, { protocol: 17 }))?.natPort).toBe(3721);
      expect(findOf(table, tcp(0, 1, { natAddress: NAT + 1 }))).toBeUndefined();
      expect(findOf(table, tcp(0, 1, { clientPort: 9 }))).toBeUndefined();
      expect(findOf(table, tcp(0, 3))).toBeUndefined();
    });

    it('forgets an entry deleted, evicted or replaced by another client', async () => {
      table.apply([create(tcp(1, 1)), create(tcp(2, 2))]);
      table.apply([del(tcp(1, 1)), create(tcp(2, 3))]);
      expect(findOf(table, tcp(0, 1))).toBeUndefined();
      expect(findOf(table, tcp(0, 2))).toBeUndefined();
      expect(findOf(table, tcp(0, 3))?.natPort).toBe(2);
      table.close();
      table = await reopen({ capacity: 1 });
      table.apply([create(tcp(5, 4))]);
      expect(findOf(table, tcp(0, 3))).toBeUndefined();
      expect(findOf(table, tcp(0, 4))?.natPort).toBe(5);
    });

    it('answers with the entry created last when a client endpoint holds several NAT ports', () => {
      table.apply([create(tcp(10, 1, { createdAt: T0 - 5000 })), create(tcp(11, 1, { createdAt: T0 - 10 })), create(tcp(12, 1, { createdAt: T0 - 9000 }))]);
      expect(findOf(table, tcp(0, 1))?.natPort).toBe(11);
      table.apply([del(tcp(11, 1, { createdAt: T0 - 10 }))]);
      expect(findOf(table, tcp(0, 1))?.natPort).toBe(10);
    });

    it('finds entries again after a reopen', async () => {
      table.apply(Array.from({ length: 50 }, (_, i) => create(tcp(100 + i, i + 1))));
      table.close();
      table = await reopen();
      for (let i = 0; i < 50; i++) expect(findOf(table, tcp(0, i + 1))?.natPort).toBe(100 + i);
    });

    it('leaves the client index as it was when a commit fails', async () => {
      table.apply([create(tcp(1, 1))]);
      table.close();
      const failing = new FailingStore(await harness.reopen());
      table = ConnTable.open(failing, { capacity: 1000, idleTimeout: 300 * SECOND, clock });
      failing.failing = 'store-error';
      expect(() => table.apply([del(tcp(1, 1)), create(tcp(2, 2))])).toThrow(StoreError);
      expect(findOf(table, tcp(0, 1))?.natPort).toBe(1);
      expect(findOf(table, tcp(0, 2))).toBeUndefined();
    });
  });

  describe('delete', () => {
    it('deletes the entry held by the named client, with the given reason', () => {
      table.apply([create(tcp(1)), create(tcp(2))]);
      clock.advance(SECOND);
      const events = table.apply([del(tcp(1), 'gateway'), del(tcp(2), 'admin')]);
      expect(brief(events)).toEqual(['deleted(gateway) 6/1 by 1', 'deleted(admin) 6/2 by 1']);
      expect(events[0]).toMatchObject({ at: T0 + SECOND, entry: tcp(1) });
      expect(table.size).toBe(0);
    });

    it('ignores a delete for a key held by another client or not held at all', () => {
      table.apply([create(tcp(1, 1))]);
      expect(table.apply([del(tcp(1, 2)), del(tcp(1, 1, { clientPort: 9 })), del(tcp(2, 1)), del(tcp(1, 1, { protocol: 17 }))])).toEqual([]);
      expect(table.size).toBe(1);
    });

    it('reports the stored entry, not the one in the request', () => {
      table.apply([create(tcp(1, 1, { serverPort: 80 }))]);
      const [event] = table.apply([del(tcp(1, 1, { serverPort: 8080 }))]);
      expect(event?.entry.serverPort).toBe(80);
    });
  });

  describe('capacity and eviction', () => {
    it('evicts the least recently used entry, in the same batch, before the create that needs room', async () => {
      table.close();
      table = await reopen({ capacity: 3 });
      table.apply([create(tcp(1)), create(tcp(2)), create(tcp(3))]);
      clock.advance(SECOND);
      const events = table.apply([create(tcp(4)), create(tcp(5))]);
      expect(brief(events)).toEqual(['deleted(evicted) 6/1 by 1', 'created 6/4 by 1', 'deleted(evicted) 6/2 by 1', 'created 6/5 by 1']);
      expect(snapshot(table).map((entry) => entry.key)).toEqual([3, 4, 5].map((port) => `6/${NAT}:${port}`));
    });

    it('moves a touched entry to the back of the eviction order', async () => {
      table.close();
      table = await reopen({ capacity: 3 });
      table.apply([create(tcp(1)), create(tcp(2)), create(tcp(3))]);
      expect(table.touch(connKey(6, NAT, 1))).toBe(true);
      expect(table.touch(connKey(6, NAT, 99))).toBe(false);
      expect(brief(table.apply([create(tcp(4))]))).toEqual(['deleted(evicted) 6/2 by 1', 'created 6/4 by 1']);
    });

    it('counts a repeated create from the same client as use', async () => {
      table.close();
      table = await reopen({ capacity: 2 });
      table.apply([create(tcp(1)), create(tcp(2))]);
      table.apply([create(tcp(1))]);
      expect(brief(table.apply([create(tcp(3))]))).toEqual(['deleted(evicted) 6/2 by 1', 'created 6/3 by 1']);
    });

    it('never holds more entries than its capacity', async () => {
      table.close();
      table = await reopen({ capacity: 5 });
      for (let batch = 0; batch < 10; batch++) {
        table.apply(Array.from({ length: 7 }, (_, i) => create(tcp(batch * 7 + i))));
        expect(table.size).toBe(5);
      }
      expect(snapshot(table).map((entry) => entry.key)).toEqual([65, 66, 67, 68, 69].map((port) => `6/${NAT}:${port}`));
    });

    it('evicts down to a lowered capacity on the next create after a reopen', async () => {
      table.apply([create(tcp(1)), create(tcp(2)), create(tcp(3))]);
      table.close();
      table = await reopen({ capacity: 2 });
      expect(table.size).toBe(3);
      expect(brief(table.apply([create(tcp(4))]))).toEqual(['deleted(evicted) 6/1 by 1', 'deleted(evicted) 6/2 by 1', 'created 6/4 by 1']);
    });
  });

  describe('idle expiry', () => {
    it('deletes entries not created or touched for longer than the idle timeout', () => {
      table.apply([create(tcp(1)), create(tcp(2)), create(tcp(3))]);
      clock.advance(200 * SECOND);
      table.touch(connKey(6, NAT, 2));
      table.apply([create(tcp(3))]);
      clock.advance(100 * SECOND);
      expect(table.expireIdle()).toEqual([]); // exactly the timeout is not longer than it
      clock.advance(1);
      const events = table.expireIdle();
      expect(brief(events)).toEqual(['deleted(idle) 6/1 by 1']);
      expect(events[0]?.at).toBe(T0 + 300 * SECOND + 1);
      clock.advance(200 * SECOND);
      expect(brief(table.expireIdle())).toEqual(['deleted(idle) 6/2 by 1', 'deleted(idle) 6/3 by 1']);
      expect(table.size).toBe(0);
    });

    it('expires at most `limit` entries per call, oldest first', () => {
      table.apply([1, 2, 3, 4, 5].map((port) => create(tcp(port))));
      clock.advance(301 * SECOND);
      expect(brief(table.expireIdle(2))).toEqual(['deleted(idle) 6/1 by 1', 'deleted(idle) 6/2 by 1']);
      expect(table.expireIdle(2)).toHaveLength(2);
      expect(table.expireIdle(2)).toHaveLength(1);
      expect(table.history({ natAddress: NAT, natPort: 5 })[0]?.endReason).toBe('idle');
    });

    it('gives entries loaded at open a full idle timeout', async () => {
      table.apply([create(tcp(1))]);
      clock.advance(299 * SECOND);
      table.close();
      table = await reopen();
      clock.advance(299 * SECOND);
      expect(table.expireIdle()).toEqual([]);
      clock.advance(2 * SECOND);
      expect(table.expireIdle()).toHaveLength(1);
    });
  });

  describe('time', () => {
    it('stamps every event of a batch with one time that never goes backwards', () => {
      table.apply([create(tcp(1))]);
      clock.advance(-10 * SECOND);
      const events = table.apply([create(tcp(1, 2)), create(tcp(2))]);
      expect(events.map((event) => event.at)).toEqual([T0, T0, T0]);
    });
  });

  describe('side records', () => {
    it('commits side records with the batch and reads them back by name and prefix', () => {
      table.apply(
        [create(tcp(1))],
        [
          ['window/192.0.2.1', new Uint8Array([1, 2, 3])],
          ['window/192.0.2.2', new Uint8Array([4])],
          ['other', new Uint8Array([5])],
        ],
      );
      expect(table.getSide('window/192.0.2.1')).toEqual(new Uint8Array([1, 2, 3]));
      expect(table.getSide('missing')).toBeNull();
      expect(table.listSide('window/')).toEqual([
        ['window/192.0.2.1', new Uint8Array([1, 2, 3])],
        ['window/192.0.2.2', new Uint8Array([4])],
      ]);
      table.apply(
        [],
        [
          ['window/192.0.2.1', null],
          ['window/192.0.2.2', new Uint8Array([9])],
        ],
      );
      expect(table.listSide('window/')).toEqual([['window/192.0.2.2', new Uint8Array([9])]]);
    });

    it('copies side values, so the caller may reuse its buffer', () => {
      const buffer = new Uint8Array([7, 7]);
      table.apply([], [['w', buffer]]);
      buffer.fill(0);
      expect(table.getSide('w')).toEqual(new Uint8Array([7, 7]));
    });
  });

  describe('restart', () => {
    it('reopens with the same entries, in the same eviction order, and the same side records', async () => {
      table.apply([create(tcp(1)), create(tcp(2, 2)), create(tcp(3, 3, { protocol: 17 }))], [['w', new Uint8Array([1])]]);
      clock.advance(SECOND);
      table.apply([create(tcp(2, 4)), del(tcp(1))], [['w', new Uint8Array([2])]]);
      const before = snapshot(table);
      table.close();
      table = await reopen();
      expect(snapshot(table)).toEqual(before);
      expect(table.getSide('w')).toEqual(new Uint8Array([2]));
    });
  });

  describe('history', () => {
    it('tells which client held a NAT endpoint at a past or present time', () => {
      table.apply([create(tcp(3719, 1)), create(tcp(3719, 5, { protocol: 17 }))]);
      clock.set(T0 + 10 * SECOND);
      table.apply([create(tcp(3719, 2))]);
      clock.set(T0 + 20 * SECOND);
      table.apply([del(tcp(3719, 2))]);
      const heldAt = (at: number, protocol?: number) =>
        table
          .history({ natAddress: NAT, natPort: 3719, at, ...(protocol === undefined ? {} : { protocol }) })
          .map((record) => `${record.protocol} by ${record.clientAddress[15]}`);
      expect(heldAt(T0 - 1)).toEqual([]);
      expect(heldAt(T0)).toEqual(['17 by 5', '6 by 1']); // newest first; same start, so by commit order
      expect(heldAt(T0 + 10 * SECOND - 1, 6)).toEqual(['6 by 1']);
      expect(heldAt(T0 + 10 * SECOND, 6)).toEqual(['6 by 2']);
      expect(heldAt(T0 + 20 * SECOND)).toEqual(['17 by 5']);
      expect(heldAt(T0 + 3600 * SECOND, 17)).toEqual(['17 by 5']);
    });

    it('lists every incarnation newest first with start, end and reason', () => {
      table.apply([create(tcp(80, 1))]);
      clock.set(T0 + SECOND);
      table.apply([create(tcp(80, 2))]);
      clock.set(T0 + 2 * SECOND);
      table.apply([del(tcp(80, 2), 'admin')]);
      clock.set(T0 + 3 * SECOND);
      table.apply([create(tcp(80, 3))]);
      const records = table.history({ natAddress: NAT, natPort: 80 });
      expect(records.map(({ clientAddress, startedAt, endedAt, endReason }) => [clientAddress[15], startedAt, endedAt, endReason])).toEqual([
        [3, T0 + 3 * SECOND, null, null],
        [2, T0 + SECOND, T0 + 2 * SECOND, 'admin'],
        [1, T0, T0 + SECOND, 'replaced'],
      ]);
      expect(records[1]).toMatchObject({ ...tcp(80, 2) });
      expect(table.history({ natAddress: NAT, natPort: 80, limit: 1 })).toHaveLength(1);
      expect(table.history({ natAddress: NAT, natPort: 80, protocol: 17 })).toEqual([]);
    });

    it('prunes ended incarnations older than a time and keeps current ones', () => {
      table.apply([create(tcp(1, 1)), create(tcp(2, 1))]);
      clock.set(T0 + SECOND);
      table.apply([create(tcp(1, 2))]);
      clock.set(T0 + 2 * SECOND);
      table.apply([create(tcp(1, 3))]);
      expect(table.prune(T0 + SECOND)).toBe(0);
      expect(table.prune(T0 + 3 * SECOND, 1)).toBe(1);
      expect(table.history({ natAddress: NAT, natPort: 1 }).map((record) => record.clientAddress[15])).toEqual([3, 2]);
      expect(table.prune(T0 + 3 * SECOND)).toBe(1);
      expect(table.history({ natAddress: NAT, natPort: 1 }).map((record) => record.clientAddress[15])).toEqual([3]);
      expect(table.history({ natAddress: NAT, natPort: 2 })).toHaveLength(1);
    });
  });

  describe('atomicity', () => {
    it('refuses an invalid operation before changing anything', () => {
      table.apply([create(tcp(1))]);
      const before = snapshot(table);
      const bad = [create(tcp(2)), create(tcp(3, 1, { clientAddress: new Uint8Array(4) }))];
      expect(() => table.apply(bad)).toThrow(expect.objectContaining({ code: 'invalid-argument', message: expect.stringContaining('operation 1') }));
      expect(() => table.apply([create(tcp(2, 1, { protocol: 58 }))])).toThrow(StoreError);
      expect(() => table.apply([del(tcp(1), 'bogus' as 'admin')])).toThrow(StoreError);
      expect(snapshot(table)).toEqual(before);
    });

    it('leaves memory and store exactly as before when the commit fails, and works after', async () => {
      table.close();
      const failing = new FailingStore(await harness.reopen());
      table = ConnTable.open(failing, { capacity: 4, idleTimeout: 300 * SECOND, clock });
      table.apply(
        [1, 2, 3, 4].map((port) => create(tcp(port))),
        [['w', new Uint8Array([1])]],
      );
      table.touch(connKey(6, NAT, 1));
      const before = snapshot(table);
      clock.advance(SECOND);
      // Every kind of change: a touch by repeated create, a replacement, an eviction, a delete,
      // a create and delete of the same key.
      const batch = [create(tcp(2)), create(tcp(3, 2)), create(tcp(5)), del(tcp(2)), create(tcp(6)), del(tcp(6)), create(tcp(7)), create(tcp(8))];
      for (const failure of ['store-error', 'plain-error'] as const) {
        failing.failing = failure;
        expect(() => table.apply(batch, [['w', new Uint8Array([2])]])).toThrow(StoreError);
        expect(snapshot(table)).toEqual(before);
        expect(table.size).toBe(4);
        expect(table.get(connKey(6, NAT, 4))).toBeDefined();
        expect(table.getSide('w')).toEqual(new Uint8Array([1]));
      }
      clock.advance(301 * SECOND);
      expect(() => table.expireIdle()).toThrow(StoreError);
      expect(snapshot(table)).toEqual(before);

      failing.failing = false;
      clock.set(T0 + SECOND);
      expect(brief(table.apply(batch))).toEqual([
        'deleted(replaced) 6/3 by 1',
        'created 6/3 by 2',
        'deleted(evicted) 6/4 by 1',
        'created 6/5 by 1',
        'deleted(gateway) 6/2 by 1',
        'created 6/6 by 1',
        'deleted(gateway) 6/6 by 1',
        'created 6/7 by 1',
        'deleted(evicted) 6/1 by 1',
        'created 6/8 by 1',
      ]);
      const after = snapshot(table);
      expect(after.map((entry) => entry.key)).toEqual([3, 5, 7, 8].map((port) => `6/${NAT}:${port}`));
      table.close();
      table = await reopen({ capacity: 4 });
      expect(snapshot(table)).toEqual(after);
    });

    it('restores the idle time of an entry a failed batch refreshed', async () => {
      table.close();
      const failing = new FailingStore(await harness.reopen());
      table = ConnTable.open(failing, { capacity: 10, idleTimeout: 100 * SECOND, clock });
      table.apply([create(tcp(1)), create(tcp(2))]);
      clock.advance(60 * SECOND);
      failing.failing = 'store-error';
      expect(() => table.apply([create(tcp(1)), create(tcp(3))])).toThrow(StoreError);
      failing.failing = false;
      clock.advance(41 * SECOND);
      expect(brief(table.expireIdle())).toEqual(['deleted(idle) 6/1 by 1', 'deleted(idle) 6/2 by 1']);
    });
  });

  describe('close', () => {
    it('refuses use after close', () => {
      table.close();
      expect(() => table.apply([create(tcp(1))])).toThrow(expect.objectContaining({ code: 'closed' }));
      table.close();
    });
  });
}
