// Client records: one per IPv6 client address that holds BIB entries. A record carries the pool4 address
// the client is paired with (RFC 4787 REQ-2, "paired" pooling, RFC 6146 3.5.1.1) and the session count the
// per-client limit checks. It is created with the client's first BIB entry and freed with its last.

import { ChainedIndex } from './chained-index.js';
import { grown } from './grow.js';
import type { KeyedHash } from './hash.js';
import { SlotTable } from './slot-table.js';

const FREE = -1;

export class ClientTable extends SlotTable {
  /** The address, four big-endian words per record. */
  address = new Uint32Array(0);
  /** Index of the paired pool4 address, or -1 before the first mapping. */
  pool = new Int32Array(0);
  /** BIB entries of this client (any protocol); FREE (-1) marks a free slot. */
  bibs = new Int32Array(0);
  /** Sessions of this client (any protocol), for the per-client limit. */
  sessions = new Int32Array(0);
  /** The address index; its chain link is the free-list link of free slots. */
  readonly index: ChainedIndex;

  /** Slots reserved for `bound` records (SlotTable.reserve); the index's buckets start at `initialCapacity`. */
  constructor(
    private readonly hash: KeyedHash,
    initialCapacity: number,
    bound = initialCapacity,
  ) {
    super();
    this.index = new ChainedIndex(0, initialCapacity);
    this.reserve(initialCapacity, bound);
  }

  /** The record of this address, or -1. */
  find(a0: number, a1: number, a2: number, a3: number): number {
    const address = this.address;
    const index = this.index;
    const next = index.next;
    const hashes = index.hashes;
    const h = this.hash.address6(a0 | 0, a1 | 0, a2 | 0, a3 | 0);
    let i = index.head(h);
    while (i >= 0) {
      const o = i * 4;
      if (hashes[i] === h && address[o] === a0 && address[o + 1] === a1 && address[o + 2] === a2 && address[o + 3] === a3) return i;
      i = next[i]!;
    }
    return -1;
  }

  /** Adds a record for an address that has none; it starts with no BIB entries and no pool address. */
  insert(a0: number, a1: number, a2: number, a3: number): number {
    const i = this.takeSlot(this.index.next);
    const o = i * 4;
    this.address[o] = a0;
    this.address[o + 1] = a1;
    this.address[o + 2] = a2;
    this.address[o + 3] = a3;
    this.pool[i] = -1;
    this.bibs[i] = 0;
    this.sessions[i] = 0;
    this.index.add(i, this.hash.address6(a0 | 0, a1 | 0, a2 | 0, a3 | 0), this.count);
    return i;
  }

  remove(i: number): void {
    this.index.remove(i);
    this.bibs[i] = FREE;
    this.pool[i] = -1;
    this.freeSlot(i, this.index.next);
  }

  /** Bytes of the arrays in use (SlotTable.inUse). */
  bytesAllocated(): number {
    const slots = this.inUse(this.address.byteLength + this.pool.byteLength + this.bibs.byteLength + this.sessions.byteLength + this.index.slotBytes());
    return slots + this.index.bucketBytes();
  }

  protected grow(capacity: number): void {
    this.address = grown(this.address, capacity * 4);
    this.pool = grown(this.pool, capacity);
    this.bibs = grown(this.bibs, capacity);
    this.sessions = grown(this.sessions, capacity);
    this.index.grow(capacity);
  }

  protected prepare(start: number, end: number): void {
    this.pool.fill(-1, start, end);
    this.bibs.fill(FREE, start, end);
    this.index.prepare(start, end);
  }
}
