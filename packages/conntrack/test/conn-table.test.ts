import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnTable, MemoryStore, StoreError, connKey, type ConnOperation, type ConnTableOptions } from '@nat64/conntrack';
import { NAT, SECOND, T0, create, del, manualClock, tcp } from './helpers/entries.js';
import { TableModel } from './helpers/model.js';
import { brief, snapshot, view } from './helpers/snapshot.js';
import { FailingStore, memoryHarness, sqliteHarness, type StoreHarness } from './helpers/stores.js';
import { tableSemantics } from './table-suite.js';

describe('conn-table', () => {
  describe('on MemoryStore', () => tableSemantics(memoryHarness));
  describe('on SqliteStore', () => tableSemantics(() => sqliteHarness()));
});

describe('conn-table against a reference model', () => {
  const command = fc.oneof(
    fc.record({
      kind: fc.constant('batch' as const),
      ops: fc.array(
        fc.record({
          op: fc.constantFrom('create' as const, 'delete' as const),
          protocol: fc.constantFrom(6, 17),
          port: fc.integer({ min: 0, max: 5 }),
          who: fc.integer({ min: 1, max: 3 }),
        }),
        { maxLength: 6 },
      ),
      fail: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('touch' as const), protocol: fc.constantFrom(6, 17), port: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant('clock' as const), step: fc.integer({ min: -20 * SECOND, max: 80 * SECOND }) }),
    fc.record({ kind: fc.constant('expire' as const), limit: fc.integer({ min: 1, max: 4 }), fail: fc.boolean() }),
  );

  type Command = typeof command extends fc.Arbitrary<infer C> ? C : never;

  const run = (harness: StoreHarness, commands: readonly Command[]) => {
    const clock = manualClock();
    const failing = new FailingStore(harness.open());
    const options = { capacity: 4, idleTimeout: 100 * SECOND, clock };
    const table = ConnTable.open(failing, options);
    const model = new TableModel(options.capacity, options.idleTimeout, clock());
    try {
      for (const step of commands) {
        const before = snapshot(table);
        if (step.kind === 'clock') {
          clock.advance(step.step);
        } else if (step.kind === 'touch') {
          expect(table.touch(connKey(step.protocol, NAT, step.port))).toBe(model.touch(step.protocol, step.port, clock()));
        } else {
          failing.failing = step.fail ? 'store-error' : false;
          const expected =
            step.kind === 'batch'
              ? model.apply(toOperations(step.ops), clock(), step.fail)
              : model.expireIdle(step.limit, clock(), step.fail);
          const act = () =>
            step.kind === 'batch' ? table.apply(toOperations(step.ops), [['step', new Uint8Array([1])]]) : table.expireIdle(step.limit, [['step', new Uint8Array([2])]]);
          // An expiry that ends nothing writes nothing, so it cannot fail.
          if (step.fail && (step.kind === 'batch' || model.wouldExpire(clock()))) {
            expect(act).toThrow(StoreError);
            expect(snapshot(table)).toEqual(before);
          } else {
            expect(brief(act())).toEqual(expected);
          }
        }
        expect(snapshot(table)).toEqual(model.held.map((held) => view(held.entry)));
      }
      table.close();
      const reopened = ConnTable.open(harness.reopen(), options);
      const byStart = model.held.map((held) => held.row).sort((a, b) => a.startedAt - b.startedAt || model.rows.indexOf(a) - model.rows.indexOf(b));
      expect(snapshot(reopened)).toEqual(byStart.map((row) => view(row.entry)));
      for (const protocol of [6, 17]) {
        for (let port = 0; port <= 5; port++) {
          const expected = model.rows
            .filter((row) => row.entry.protocol === protocol && row.entry.natPort === port)
            .reverse()
            .sort((a, b) => b.startedAt - a.startedAt)
            .map((row) => ({ ...view(row.entry), startedAt: row.startedAt, endedAt: row.endedAt, endReason: row.endReason }));
          const actual = reopened
            .history({ natAddress: NAT, natPort: port, protocol })
            .map((record) => ({ ...view(record), startedAt: record.startedAt, endedAt: record.endedAt, endReason: record.endReason }));
          expect(actual).toEqual(expected);
        }
      }
      reopened.close();
    } finally {
      harness.cleanup();
    }
  };

  it('matches the model through random batches, touches, clock steps, expiries and failed commits (MemoryStore)', () => {
    fc.assert(fc.property(fc.array(command, { maxLength: 40 }), (commands) => run(memoryHarness(), commands)), { numRuns: 300 });
  });

  it('matches the model through random batches, touches, clock steps, expiries and failed commits (SqliteStore)', () => {
    fc.assert(fc.property(fc.array(command, { maxLength: 40 }), (commands) => run(sqliteHarness(), commands)), { numRuns: 40 });
  });
});

function toOperations(ops: ReadonlyArray<{ op: 'create' | 'delete'; protocol: number; port: number; who: number }>): ConnOperation[] {
  return ops.map(({ op, protocol, port, who }) =>
    op === 'create' ? create(tcp(port, who, { protocol })) : del(tcp(port, who, { protocol })),
  );
}

describe('conn-table open', () => {
  it('refuses a store whose current table holds the same key twice, and closes it', () => {
    const inner = new MemoryStore();
    const twice = { ...tcp(1), startedAt: T0 };
    const store = new FailingStore(inner);
    store.loadCurrent = () => [twice, { ...twice, clientPort: 1 }];
    expect(() => ConnTable.open(store, { capacity: 10, idleTimeout: Infinity, clock: manualClock() })).toThrow(
      expect.objectContaining({ code: 'corrupt' }),
    );
    expect(() => inner.getSide('w')).toThrow(expect.objectContaining({ code: 'closed' }));
  });

  it('refuses invalid options', () => {
    const open = (options: Partial<ConnTableOptions>) => () =>
      ConnTable.open(new MemoryStore(), { capacity: 10, idleTimeout: 0, clock: manualClock(), ...options });
    expect(open({})).not.toThrow();
    expect(open({ capacity: 0 })).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(open({ capacity: 1.5 })).toThrow(StoreError);
    expect(open({ idleTimeout: -1 })).toThrow(StoreError);
    expect(open({ idleTimeout: Number.NaN })).toThrow(StoreError);
  });
});

describe('conn-table idle expiry', () => {
  it('writes nothing, side records included, when nothing is idle', () => {
    const clock = manualClock();
    const store = new FailingStore(new MemoryStore());
    const table = ConnTable.open(store, { capacity: 10, idleTimeout: 10 * SECOND, clock });
    table.apply([create(tcp(1))]);
    expect(store.commits).toBe(1);
    expect(table.expireIdle(Infinity, [['marker', new Uint8Array([1])]])).toEqual([]);
    expect(store.commits).toBe(1);
    expect(table.getSide('marker')).toBeNull();
    clock.advance(11 * SECOND);
    expect(table.expireIdle(Infinity, [['marker', new Uint8Array([1])]])).toHaveLength(1);
    expect(store.commits).toBe(2);
    expect(table.getSide('marker')).toEqual(new Uint8Array([1]));
  });
});
