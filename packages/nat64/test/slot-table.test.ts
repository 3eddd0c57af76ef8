import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BibTable } from '../src/bib.js';
import { ClientTable } from '../src/clients.js';
import { KeyedHash } from '../src/hash.js';
import { SessionTable } from '../src/sessions.js';
import { grown } from '../src/grow.js';
import { PREPARE_SLOTS, SlotTable } from '../src/slot-table.js';
import { SECRET } from './support.js';

const UDP = 17;
const SERVER = 0xc6336414;
const NAT = 0xcb007101;

/** Client, BIB and session tables as the core drives them: one client per 64 keys, one BIB entry and one session per key. */
class Tables {
  readonly clients: ClientTable;
  readonly bibs: BibTable;
  readonly sessions: SessionTable;
  readonly address = new Uint8Array(16);

  constructor(initialCapacity: number, bound: number) {
    const hash = new KeyedHash(SECRET);
    this.clients = new ClientTable(hash, initialCapacity, bound);
    this.bibs = new BibTable(hash, this.clients, initialCapacity, bound);
    this.sessions = new SessionTable(hash, this.clients, this.bibs, initialCapacity, bound);
  }

  add(key: number): number {
    const a3 = key >>> 6;
    let c = this.clients.find(0x20010db8, 0, 0, a3);
    if (c < 0) c = this.clients.insert(0x20010db8, 0, 0, a3);
    this.clients.bibs[c]!++;
    const b = this.bibs.insert(UDP, c, key & 0xffff, NAT, key & 0xffff, 0, 0);
    return this.sessions.insert(UDP, b, SERVER, 53, 0, 0);
  }

  remove(h: number): void {
    const b = this.sessions.bib[h]!;
    this.sessions.remove(h);
    const c = this.bibs.client[b]!;
    this.bibs.remove(b);
    if (--this.clients.bibs[c]! === 0) this.clients.remove(c);
  }

  /** The session of `key`, or -1; -2 where the indexes disagree. */
  find(key: number): number {
    const a = this.address;
    a.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, (key >>> 30) & 0xff, (key >>> 22) & 0xff, (key >>> 14) & 0xff, (key >>> 6) & 0xff]);
    const out = this.sessions.findOut(UDP, a, 0, key & 0xffff, SERVER, 53);
    const into = this.sessions.findIn(UDP, NAT, key & 0xffff, SERVER, 53);
    const b = this.bibs.findByNat(UDP, NAT, key & 0xffff);
    const agree = into === out && this.bibs.findByClient(UDP, 0x20010db8, 0, 0, key >>> 6, key & 0xffff) === b && (out < 0 ? -1 : this.sessions.bib[out]) === b;
    return agree ? out : -2;
  }

  /** Every per-slot array of the three tables. */
  arrays(): ArrayBufferView[] {
    const { clients: c, bibs: b, sessions: s } = this;
    return [
      c.address,
      c.pool,
      c.bibs,
      c.sessions,
      c.index.next,
      c.index.hashes,
      b.protocol,
      b.flags,
      b.client,
      b.clientPort,
      b.natAddress,
      b.natPort,
      b.poolIndex,
      b.sessionHead,
      b.byClient.next,
      b.byClient.hashes,
      b.byNat.next,
      b.byNat.hashes,
      s.protocol,
      s.state,
      s.flags,
      s.list,
      s.generation,
      s.bib,
      s.serverAddress,
      s.serverPort,
      s.lastUse,
      s.timerNext,
      s.timerPrev,
      s.bibNext,
      s.bibPrev,
      s.outIndex.next,
      s.outIndex.hashes,
      s.inIndex.next,
      s.inIndex.hashes,
    ];
  }
}

/** Adds a key not in the tables, removes one that is; then checks every lookup of keys up to `maxKey` against a model. */
function churn(tables: Tables, operations: readonly number[], maxKey: number): Map<number, number> {
  const model = new Map<number, number>();
  for (const key of operations) {
    const h = model.get(key);
    if (h === undefined) {
      model.set(key, tables.add(key));
    } else {
      tables.remove(h);
      model.delete(key);
    }
  }
  expect(tables.sessions.count).toBe(model.size);
  const wrong: number[] = [];
  for (let key = 0; key <= maxKey; key++) if (tables.find(key) !== (model.get(key) ?? -1)) wrong.push(key);
  expect(wrong).toEqual([]);
  return model;
}

describe('slot-table', () => {
  it('keeps the same arrays while filling to its bound, past several prepared chunks', () => {
    const bound = 3 * PREPARE_SLOTS + 100;
    const tables = new Tables(16, bound);
    const arrays = tables.arrays();
    expect(tables.sessions.capacity).toBe(bound);
    for (let key = 0; key < bound; key++) tables.add(key);
    const after = tables.arrays();
    for (let i = 0; i < arrays.length; i++) expect(after[i]).toBe(arrays[i]);
    expect(tables.sessions.capacity).toBe(bound);
    const missing: number[] = [];
    for (let key = 0; key < bound; key++) if (tables.find(key) < 0) missing.push(key);
    expect(missing).toEqual([]);
  });

  it('reuses freed slots, and keeps chains and free lists right across prepared chunks', () => {
    const keys = fc.array(fc.integer({ min: 0, max: 3 * PREPARE_SLOTS }), { minLength: 2 * PREPARE_SLOTS, maxLength: 6 * PREPARE_SLOTS });
    fc.assert(
      fc.property(keys, (operations) => {
        const tables = new Tables(16, 4 * PREPARE_SLOTS);
        const model = churn(tables, operations, 3 * PREPARE_SLOTS);
        // Freed slots go before never used ones, so the slots ever used are at most the largest live count.
        expect(tables.sessions.highWater).toBeLessThanOrEqual(new Set(operations).size);
        expect(tables.sessions.count).toBe(model.size);
      }),
      { numRuns: 5 },
    );
  });

  it('doubles past its bound, and keeps chains and free lists right across the doublings', () => {
    const keys = fc.array(fc.integer({ min: 0, max: 3 * PREPARE_SLOTS }), { minLength: 2 * PREPARE_SLOTS, maxLength: 6 * PREPARE_SLOTS });
    fc.assert(
      fc.property(keys, (operations) => {
        const tables = new Tables(16, 100);
        churn(tables, operations, 3 * PREPARE_SLOTS);
        expect(tables.sessions.capacity).toBeGreaterThanOrEqual(tables.sessions.highWater);
        expect(tables.sessions.capacity).toBeGreaterThan(100);
      }),
      { numRuns: 5 },
    );
  });

  it('starts at its initial capacity and doubles where the reservation is refused', () => {
    // More slots than a typed array may hold: the reservation throws a RangeError.
    const tables = new Tables(16, 2 ** 33);
    expect(tables.sessions.capacity).toBe(16);
    expect(tables.sessions.protocol.length).toBe(16);
    expect(tables.clients.address.length).toBe(64);
    const model = churn(
      tables,
      Array.from({ length: 5000 }, (_, i) => (i * 7919) % 3000),
      3000,
    );
    expect(model.size).toBeGreaterThan(0);
    expect(tables.sessions.capacity).toBeGreaterThanOrEqual(tables.sessions.highWater);
  });

  it('cuts back the columns it reserved before the reservation was refused', () => {
    /** Two columns; the machine refuses the second one's reservation. */
    class Refusing extends SlotTable {
      first = new Int32Array(0);
      second = new Int32Array(0);
      constructor() {
        super();
        this.reserve(16, 1_000_000);
      }
      add(): number {
        return this.takeSlot(this.second);
      }
      protected grow(capacity: number): void {
        this.first = grown(this.first, capacity);
        if (capacity > 1000) throw new RangeError('Array buffer allocation failed');
        this.second = grown(this.second, capacity);
      }
      protected prepare(start: number, end: number): void {
        this.first.fill(-1, start, end);
      }
    }
    const table = new Refusing();
    expect([table.capacity, table.first.length, table.second.length]).toEqual([16, 16, 16]);
    for (let i = 0; i < 100; i++) expect(table.add()).toBe(i);
    expect([table.capacity, table.first.length, table.second.length]).toEqual([128, 128, 128]);
    expect(table.first.every((v) => v === -1)).toBe(true);
  });

  it('grows at once to a bound raised at runtime, and keeps every entry and the free list', () => {
    const tables = new Tables(16, 1000);
    const model = churn(
      tables,
      Array.from({ length: 3000 }, (_, i) => (i * 7919) % 1000),
      1000,
    );
    for (const table of [tables.clients, tables.bibs, tables.sessions]) table.reserveUpTo(5000);
    expect(tables.sessions.capacity).toBe(5000);
    const arrays = tables.arrays();
    // Filling to the new bound copies nothing more, and every entry, old and new, is still found.
    for (let key = 1000; key < 4500; key++) model.set(key, tables.add(key));
    expect(tables.arrays().every((array, i) => array === arrays[i])).toBe(true);
    for (const [key, h] of model) expect(tables.find(key)).toBe(h);
    tables.sessions.reserveUpTo(100);
    expect(tables.sessions.capacity).toBe(5000);
  });

  it('keeps its arrays where the machine refuses a raised bound', () => {
    const tables = new Tables(16, 1000);
    for (let key = 0; key < 500; key++) tables.add(key);
    tables.sessions.reserveUpTo(2 ** 33);
    expect(tables.sessions.capacity).toBe(1000);
    expect(tables.sessions.protocol.length).toBe(1000);
    for (let key = 0; key < 500; key++) expect(tables.find(key)).toBeGreaterThanOrEqual(0);
  });

  it('holds -1 links in every slot it has prepared and not used yet', () => {
    const tables = new Tables(16, 2 * PREPARE_SLOTS);
    for (let key = 0; key < 10; key++) tables.add(key);
    const s = tables.sessions;
    for (const links of [s.timerNext, s.timerPrev, s.bibNext, s.bibPrev, s.outIndex.next, s.inIndex.next, tables.bibs.sessionHead, tables.clients.bibs]) {
      expect(links.subarray(s.highWater, PREPARE_SLOTS).every((v) => v === -1)).toBe(true);
    }
  });
});
