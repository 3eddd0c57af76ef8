import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BatchLayout,
  ConnTable,
  DELETE_REASONS,
  EventRecords,
  MemoryStore,
  StoreError,
  connKey,
  type ConnOperation,
  type ConnTableOptions,
  type PipelinedBatch,
  type SideRecord,
} from '@nat64/conntrack';
import { NAT, SECOND, T0, create, del, manualClock, tcp } from './helpers/entries.js';
import { TableModel } from './helpers/model.js';
import { brief, snapshot, view } from './helpers/snapshot.js';
import { FailingStore, memoryHarness, sqliteHarness, workerHarness, type StoreHarness } from './helpers/stores.js';
import { tableSemantics } from './table-suite.js';

describe('conn-table', () => {
  describe('on MemoryStore', () => tableSemantics(memoryHarness));
  describe('on SqliteStore', () => tableSemantics(() => sqliteHarness()));
});

/** 'resolved', 'rejected' or 'pending': what the promise is now (a settled promise's reaction runs before `await null` returns). */
async function promiseState(promise: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  let state: 'resolved' | 'rejected' | 'pending' = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await null;
  return state;
}

describe('conn-table against a reference model', () => {
  const ops = fc.array(
    fc.record({
      op: fc.constantFrom('create' as const, 'delete' as const),
      protocol: fc.constantFrom(6, 17),
      port: fc.integer({ min: 0, max: 5 }),
      who: fc.integer({ min: 1, max: 3 }),
    }),
    { maxLength: 6 },
  );
  const command = fc.oneof(
    fc.record({ kind: fc.constant('batch' as const), ops, fail: fc.boolean() }),
    fc.record({ kind: fc.constant('touch' as const), protocol: fc.constantFrom(6, 17), port: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant('clock' as const), step: fc.integer({ min: -20 * SECOND, max: 80 * SECOND }) }),
    fc.record({ kind: fc.constant('expire' as const), limit: fc.integer({ min: 1, max: 4 }), fail: fc.boolean() }),
  );
  type Command = typeof command extends fc.Arbitrary<infer C> ? C : never;
  const options = (clock: () => number) => ({ capacity: 4, idleTimeout: 100 * SECOND, clock });

  /** Reopens the store and compares the table and every key's history with the model. */
  const checkReopened = async (harness: StoreHarness, model: TableModel, clock: () => number) => {
    const reopened = ConnTable.open(await harness.reopen(), options(clock));
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
  };

  /** Synchronous stores: apply()/expireIdle(), or their pipelined forms (with operations as objects or as records), which must settle before returning. */
  const run = async (harness: StoreHarness, commands: readonly Command[], pipelined: false | 'objects' | 'records') => {
    const clock = manualClock();
    const failing = new FailingStore(await harness.open());
    const table = ConnTable.open(failing, options(clock));
    const model = new TableModel(4, 100 * SECOND, clock());
    try {
      for (const step of commands) {
        const before = snapshot(table);
        if (step.kind === 'clock') {
          clock.advance(step.step);
        } else if (step.kind === 'touch') {
          expect(table.touch(connKey(step.protocol, NAT, step.port))).toBe(model.touch(step.protocol, step.port, clock()));
        } else {
          failing.failing = step.fail ? 'store-error' : false;
          const expected = step.kind === 'batch' ? model.apply(toOperations(step.ops), clock(), step.fail) : model.expireIdle(step.limit, clock(), step.fail);
          // An expiry that ends nothing writes nothing, so it cannot fail.
          const fails = step.fail && (step.kind === 'batch' || model.wouldExpire(clock()));
          if (pipelined) {
            const { events, durable } =
              step.kind === 'batch'
                ? applyPipelined(table, toOperations(step.ops), [['step', new Uint8Array([1])]], pipelined === 'records')
                : table.expireIdlePipelined(step.limit, [['step', new Uint8Array([2])]]);
            expect(await promiseState(durable)).toBe(fails ? 'rejected' : 'resolved');
            if (fails) {
              await expect(durable).rejects.toBeInstanceOf(StoreError);
              expect(snapshot(table)).toEqual(before);
            } else {
              expect(brief(events)).toEqual(expected);
            }
            expect(table.failure).toBeUndefined();
          } else {
            const act = () =>
              step.kind === 'batch'
                ? table.apply(toOperations(step.ops), [['step', new Uint8Array([1])]])
                : table.expireIdle(step.limit, [['step', new Uint8Array([2])]]);
            if (fails) {
              expect(act).toThrow(StoreError);
              expect(snapshot(table)).toEqual(before);
            } else {
              expect(brief(act())).toEqual(expected);
            }
          }
        }
        expect(snapshot(table)).toEqual(model.held.map((held) => view(held.entry)));
      }
      table.close();
      await checkReopened(harness, model, clock);
    } finally {
      await harness.cleanup();
    }
  };

  for (const pipelined of [false, 'objects', 'records'] as const) {
    const how = pipelined === 'records' ? 'applyRecordsPipelined' : pipelined ? 'applyPipelined' : 'apply';
    it(`matches the model through random batches, touches, clock steps, expiries and failed commits (${how}, MemoryStore)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { maxLength: 40 }), (commands) => run(memoryHarness(), commands, pipelined)),
        {
          numRuns: 200,
        },
      );
    });

    it(`matches the model through random batches, touches, clock steps, expiries and failed commits (${how}, SqliteStore)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { maxLength: 40 }), (commands) => run(sqliteHarness(), commands, pipelined)),
        {
          numRuns: 30,
        },
      );
    });
  }

  // On a SqliteWorkerStore, batches are pipelined without waiting. A failure loses a run of queued
  // batches, fails the table, and recover() must bring memory back to exactly the batches before
  // them. Two failures: another connection holding the write lock (no busy timeout), which every
  // batch would hit; and a trigger that rejects the first batch alone (its side record "poison"),
  // so that only the writer's refusal keeps the batches behind it out of the file.
  const pipelineCommand = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('batch' as const), ops, records: fc.boolean() }) },
    fc.record({ kind: fc.constant('touch' as const), protocol: fc.constantFrom(6, 17), port: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant('clock' as const), step: fc.integer({ min: -20 * SECOND, max: 80 * SECOND }) }),
    fc.record({ kind: fc.constant('expire' as const), limit: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ kind: fc.constant('settle' as const) }),
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('fail' as const),
        how: fc.constantFrom('busy' as const, 'poison' as const),
        batches: fc.array(ops, { minLength: 1, maxLength: 3 }),
        records: fc.boolean(),
      }),
    },
  );
  type PipelineCommand = typeof pipelineCommand extends fc.Arbitrary<infer C> ? C : never;

  const runPipelined = async (commands: readonly PipelineCommand[]) => {
    const harness = workerHarness({ busyTimeoutMs: 0 });
    const clock = manualClock();
    const table = ConnTable.open(await harness.open(), options(clock));
    const model = new TableModel(4, 100 * SECOND, clock());
    const pending: Array<Promise<void>> = [];
    const setup = new Database(harness.path);
    setup.exec(`CREATE TRIGGER poison BEFORE INSERT ON side_record WHEN NEW.name = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`);
    setup.close();
    try {
      for (const step of commands) {
        if (step.kind === 'clock') {
          clock.advance(step.step);
        } else if (step.kind === 'touch') {
          expect(table.touch(connKey(step.protocol, NAT, step.port))).toBe(model.touch(step.protocol, step.port, clock()));
        } else if (step.kind === 'batch') {
          const expected = model.apply(toOperations(step.ops), clock(), false);
          const { events, durable } = applyPipelined(table, toOperations(step.ops), [['step', new Uint8Array([1])]], step.records);
          expect(brief(events)).toEqual(expected);
          pending.push(durable);
        } else if (step.kind === 'expire') {
          const expected = model.expireIdle(step.limit, clock(), false);
          const { events, durable } = table.expireIdlePipelined(step.limit, [['step', new Uint8Array([2])]]);
          expect(brief(events)).toEqual(expected);
          pending.push(durable);
        } else if (step.kind === 'settle') {
          await Promise.all(pending.splice(0));
        } else {
          await Promise.all(pending.splice(0));
          const blocker = step.how === 'busy' ? new Database(harness.path) : undefined;
          blocker?.exec('BEGIN IMMEDIATE');
          const code = step.how === 'busy' ? 'busy' : 'constraint';
          try {
            const lost = step.batches.map((batch, i) => {
              model.apply(toOperations(batch), clock(), true);
              return applyPipelined(table, toOperations(batch), [[i === 0 ? 'poison' : 'step', new Uint8Array([3])]], step.records).durable;
            });
            const outcomes = await Promise.allSettled(lost);
            expect(outcomes.map((outcome) => outcome.status)).toEqual(lost.map(() => 'rejected'));
            const reasons = outcomes.map((outcome) => (outcome as PromiseRejectedResult).reason as unknown);
            expect(reasons.map((reason) => (reason as StoreError).code)).toEqual(lost.map(() => code));
            // Every batch lost to one failure reports that same error.
            expect(new Set(reasons).size).toBe(1);
          } finally {
            blocker?.exec('ROLLBACK');
            blocker?.close();
          }
          expect(table.failure?.code).toBe(code);
          expect(() => table.applyPipelined([])).toThrow(expect.objectContaining({ code: 'failed' }));
          await table.recover();
          expect(table.failure).toBeUndefined();
          model.reload(clock());
        }
        expect(snapshot(table)).toEqual(model.held.map((held) => view(held.entry)));
      }
      await Promise.all(pending.splice(0));
      await table.closeAsync();
      await checkReopened(harness, model, clock);
    } finally {
      await harness.cleanup();
    }
  };

  it('matches the model through pipelined batches, touches, clock steps, expiries and lost batches (SqliteWorkerStore)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(pipelineCommand, { maxLength: 30 }), runPipelined), { numRuns: 20 });
  }, 120_000);
});

/** applyPipelined, or applyRecordsPipelined of the same operations as records with its events read back as objects. */
function applyPipelined(table: ConnTable, operations: readonly ConnOperation[], side: readonly SideRecord[], asRecords: boolean): PipelinedBatch {
  if (!asRecords) return table.applyPipelined(operations, side);
  const records = new EventRecords(1);
  for (const operation of operations) expect(records.appendOperation(operation)).toBeUndefined();
  const { events, durable } = table.applyRecordsPipelined(records, side);
  return { events: events.toEvents(), durable };
}

function toOperations(ops: ReadonlyArray<{ op: 'create' | 'delete'; protocol: number; port: number; who: number }>): ConnOperation[] {
  return ops.map(({ op, protocol, port, who }) => (op === 'create' ? create(tcp(port, who, { protocol })) : del(tcp(port, who, { protocol }))));
}

describe('conn-table open', () => {
  it('refuses a store whose current table holds the same key twice, and closes it', () => {
    const inner = new MemoryStore();
    const twice = { ...tcp(1), startedAt: T0 };
    const store = new FailingStore(inner);
    store.loadCurrent = () => [twice, { ...twice, clientPort: 1 }];
    expect(() => ConnTable.open(store, { capacity: 10, idleTimeout: Infinity, clock: manualClock() })).toThrow(expect.objectContaining({ code: 'corrupt' }));
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
    expect(table.expireIdlePipelined(Infinity, [['marker', new Uint8Array([1])]]).events).toEqual([]);
    expect(store.commits).toBe(1);
    expect(table.getSide('marker')).toBeNull();
    clock.advance(11 * SECOND);
    expect(table.expireIdle(Infinity, [['marker', new Uint8Array([1])]])).toHaveLength(1);
    expect(store.commits).toBe(2);
    expect(table.getSide('marker')).toEqual(new Uint8Array([1]));
  });
});

describe('conn-table pipelined on a synchronous store', () => {
  const open = () => {
    const store = new FailingStore(new MemoryStore());
    const clock = manualClock();
    return { store, clock, table: ConnTable.open(store, { capacity: 10, idleTimeout: 10 * SECOND, clock }) };
  };

  it('commits before it returns and hands back a resolved promise with the events apply() would return', async () => {
    const { store, table } = open();
    const { events, durable } = table.applyPipelined([create(tcp(1)), create(tcp(2))], [['w', new Uint8Array([1])]]);
    expect(store.commits).toBe(1);
    expect(await promiseState(durable)).toBe('resolved');
    expect(brief(events)).toEqual(['created 6/1 by 1', 'created 6/2 by 1']);
    expect(table.getSide('w')).toEqual(new Uint8Array([1]));
    expect(brief(table.applyPipelined([create(tcp(1, 2))]).events)).toEqual(['deleted(replaced) 6/1 by 1', 'created 6/1 by 2']);
  });

  it('restores memory exactly and rejects the promise when the commit fails, and stays usable', async () => {
    const { store, table } = open();
    table.apply([create(tcp(1)), create(tcp(2))]);
    const before = snapshot(table);
    store.failing = 'plain-error';
    const { durable } = table.applyPipelined([create(tcp(1, 2)), del(tcp(2)), create(tcp(3))], [['w', new Uint8Array([1])]]);
    expect(await promiseState(durable)).toBe('rejected');
    await expect(durable).rejects.toMatchObject({ name: 'StoreError', code: 'io' });
    expect(snapshot(table)).toEqual(before);
    expect(table.failure).toBeUndefined();
    store.failing = false;
    expect(await promiseState(table.applyPipelined([create(tcp(3))]).durable)).toBe('resolved');
    expect(table.size).toBe(3);
  });

  it('throws before changing anything for an invalid batch or a closed table', async () => {
    const { table } = open();
    expect(() => table.applyPipelined([create(tcp(1, 1, { natPort: 70_000 }))])).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(table.size).toBe(0);
    await table.closeAsync();
    expect(() => table.applyPipelined([create(tcp(1))])).toThrow(expect.objectContaining({ code: 'closed' }));
    expect(() => table.expireIdlePipelined()).toThrow(expect.objectContaining({ code: 'closed' }));
    await expect(table.recover()).rejects.toMatchObject({ code: 'closed' });
  });

  it('refuses records that hold an invalid operation, or its own events, before changing anything', () => {
    const { store, table } = open();
    const corruptions: Array<(records: EventRecords, o: number) => void> = [
      (records, o) => (records.bytes[o + BatchLayout.protocol] = 2),
      (records, o) => (records.bytes[o + BatchLayout.protocol] = 1), // ICMP with a server port
      (records, o) => records.view.setFloat64(o + BatchLayout.createdAt, 0.5, true),
      (records, o) => (records.bytes[o + BatchLayout.kind] = DELETE_REASONS.length + 1),
    ];
    for (const corrupt of corruptions) {
      const records = new EventRecords(1);
      records.appendOperation(create(tcp(1)));
      records.appendOperation(create(tcp(2)));
      corrupt(records, BatchLayout.eventBytes);
      expect(() => table.applyRecordsPipelined(records)).toThrow(
        expect.objectContaining({ code: 'invalid-argument', message: expect.stringContaining('operation 1') }),
      );
      expect(table.size).toBe(0);
    }
    expect(store.commits).toBe(0);
    const own = new EventRecords(1);
    own.appendOperation(create(tcp(1)));
    const { events } = table.applyRecordsPipelined(own);
    expect(() => table.applyRecordsPipelined(events)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(table.size).toBe(1);
  });

  it('rebuilds memory from the store on recover(), each entry used as of now', async () => {
    const { clock, table } = open();
    table.apply([create(tcp(1)), create(tcp(2))]);
    table.touch(connKey(6, NAT, 1));
    clock.advance(5 * SECOND);
    await table.recover();
    expect(snapshot(table).map((entry) => entry.key)).toEqual([1, 2].map((port) => `6/${NAT}:${port}`));
    clock.advance(9 * SECOND);
    expect(table.expireIdle()).toEqual([]);
  });
});
