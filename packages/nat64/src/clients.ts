// Client records: one per IPv6 client address that holds BIB entries. A record carries the pool4 address
// the client is paired with (RFC 4787 REQ-2, "paired" pooling, RFC 6146 3.5.1.1) and the session count the
// per-client limit checks. It is created with the client's first BIB entry and freed with its last.

import { grown, powerOfTwoAtLeast } from './grow.js';
import type { KeyedHash } from './hash.js';

const FREE = -1;

export class ClientTable {
  capacity: number;
  /** Live records. */
  count = 0;
  /** Slots ever used; slots at and above it were never allocated. */
  highWater = 0;
  /** The address, four big-endian words per record. */
  address: Uint32Array;
  /** Index of the paired pool4 address, or -1 before the first mapping. */
  pool: Int32Array;
  /** BIB entries of this client (any protocol); FREE (-1) marks a free slot. */
  bibs: Int32Array;
  /** Sessions of this client (any protocol), for the per-client limit. */
  sessions: Int32Array;
  /** Hash chain link, or free-list link for free slots. */
  next: Int32Array;
  buckets: Int32Array;
  private freeHead = -1;

  constructor(
    private readonly hash: KeyedHash,
    initialCapacity: number,
  ) {
    this.capacity = initialCapacity;
    this.address = new Uint32Array(initialCapacity * 4);
    this.pool = new Int32Array(initialCapacity).fill(-1);
    this.bibs = new Int32Array(initialCapacity).fill(FREE);
    this.sessions = new Int32Array(initialCapacity);
    this.next = new Int32Array(initialCapacity).fill(-1);
    this.buckets = new Int32Array(powerOfTwoAtLeast(initialCapacity)).fill(-1);
  }

  /** The record of this address, or -1. */
  find(a0: number, a1: number, a2: number, a3: number): number {
    const address = this.address;
    const next = this.next;
    let i = this.buckets[this.hash.address6(a0, a1, a2, a3) & (this.buckets.length - 1)]!;
    while (i >= 0) {
      const o = i * 4;
      if (address[o] === a0 && address[o + 1] === a1 && address[o + 2] === a2 && address[o + 3] === a3) return i;
      i = next[i]!;
    }
    return -1;
  }

  /** Adds a record for an address that has none; it starts with no BIB entries and no pool address. */
  insert(a0: number, a1: number, a2: number, a3: number): number {
    let i = this.freeHead;
    if (i >= 0) {
      this.freeHead = this.next[i]!;
    } else {
      if (this.highWater === this.capacity) this.grow();
      i = this.highWater++;
    }
    const o = i * 4;
    this.address[o] = a0;
    this.address[o + 1] = a1;
    this.address[o + 2] = a2;
    this.address[o + 3] = a3;
    this.pool[i] = -1;
    this.bibs[i] = 0;
    this.sessions[i] = 0;
    this.count++;
    // A rehash links every live record, this one included.
    if (this.count > this.buckets.length) this.rehash(this.buckets.length * 2);
    else this.link(i);
    return i;
  }

  remove(i: number): void {
    const o = i * 4;
    const b = this.hash.address6(this.address[o]!, this.address[o + 1]!, this.address[o + 2]!, this.address[o + 3]!) &
      (this.buckets.length - 1);
    let j = this.buckets[b]!;
    if (j === i) {
      this.buckets[b] = this.next[i]!;
    } else {
      while (this.next[j]! !== i) j = this.next[j]!;
      this.next[j] = this.next[i]!;
    }
    this.bibs[i] = FREE;
    this.pool[i] = -1;
    this.next[i] = this.freeHead;
    this.freeHead = i;
    this.count--;
  }

  bytesAllocated(): number {
    return (
      this.address.byteLength +
      this.pool.byteLength +
      this.bibs.byteLength +
      this.sessions.byteLength +
      this.next.byteLength +
      this.buckets.byteLength
    );
  }

  private link(i: number): void {
    const o = i * 4;
    const b = this.hash.address6(this.address[o]!, this.address[o + 1]!, this.address[o + 2]!, this.address[o + 3]!) &
      (this.buckets.length - 1);
    this.next[i] = this.buckets[b]!;
    this.buckets[b] = i;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    this.address = grown(this.address, capacity * 4);
    this.pool = grown(this.pool, capacity, -1);
    this.bibs = grown(this.bibs, capacity, FREE);
    this.sessions = grown(this.sessions, capacity);
    this.next = grown(this.next, capacity, -1);
    this.capacity = capacity;
  }

  private rehash(size: number): void {
    this.buckets = new Int32Array(size).fill(-1);
    for (let i = 0; i < this.highWater; i++) if (this.bibs[i]! !== FREE) this.link(i);
  }
}
