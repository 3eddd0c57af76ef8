// Storage for the entries of the in-memory table, one column per field in typed arrays indexed by
// slot, plus a doubly linked list through the slots in least-recently-used order (head = least
// recent). Struct of arrays keeps a million entries in tens of MB with nothing for the garbage
// collector to trace; slots are recycled through a free list threaded through `next`.
import { FieldLimit } from './constants.js';
import { connKey } from './entry.js';
import type { EventRecords } from './event-records.js';
import { BatchLayout } from './sqlite/batch-codec.js';
import type { ConnEntry } from './types.js';

const NONE = -1;
const MIN_SLOTS = 1024;
/** Slots from which reserved columns grow straight to their capacity (EntrySlab.reserve). */
const RESERVE_FROM = 65_536;
const ADDRESS_BYTES = FieldLimit.ipv6AddressBytes;

export class EntrySlab {
  protocol: Uint8Array;
  natAddress: Uint32Array;
  natPort: Uint16Array;
  clientAddress: Uint8Array;
  clientPort: Uint16Array;
  serverAddress: Uint32Array;
  serverPort: Uint16Array;
  createdAt: Float64Array;
  /** Receiver time of the last create or touch, µs. Non-decreasing from head to tail. */
  lastUsed: Float64Array;
  prev: Int32Array;
  next: Int32Array;
  /** The next slot in the same chain of the client index (client-index.ts), or -1. */
  clientNext: Int32Array;

  /** Least recently used slot, or -1. */
  head = NONE;
  /** Most recently used slot, or -1. */
  tail = NONE;
  private freeHead = NONE;
  /** Slots ever handed out; slots at or above it were never used. */
  private highWater = 0;
  /** The capacity the columns grow to from RESERVE_FROM slots on (0: none). */
  private reserved = 0;

  constructor(expected = 0) {
    const slots = Math.max(MIN_SLOTS, expected);
    this.protocol = new Uint8Array(slots);
    this.natAddress = new Uint32Array(slots);
    this.natPort = new Uint16Array(slots);
    this.clientAddress = new Uint8Array(slots * ADDRESS_BYTES);
    this.clientPort = new Uint16Array(slots);
    this.serverAddress = new Uint32Array(slots);
    this.serverPort = new Uint16Array(slots);
    this.createdAt = new Float64Array(slots);
    this.lastUsed = new Float64Array(slots);
    this.prev = new Int32Array(slots);
    this.next = new Int32Array(slots);
    this.clientNext = new Int32Array(slots);
  }

  /**
   * Columns that double up to RESERVE_FROM slots and then grow once, straight to `capacity`, so that a
   * large table never stops to copy them again (a million slots took 40 ms to double): fresh columns
   * are zero pages that the kernel commits only as slots are first used, so the unused capacity costs
   * address space, not memory. Not up front: on Node 20 a process that allocated tens of MB and ended
   * soon after sometimes hung at exit (nodejs/node#54918, the platform's task drain), which a
   * short-lived table (tests, tools) then met. Where the reservation is refused, columns double.
   */
  static reserve(capacity: number): EntrySlab {
    const slab = new EntrySlab();
    slab.reserved = capacity;
    return slab;
  }

  get slots(): number {
    return this.protocol.length;
  }

  /** Bytes of the columns in use: those of the slots ever handed out (the rest of a reservation is address space). */
  get byteLength(): number {
    return this.highWater * BYTES_PER_SLOT;
  }

  /** Forgets every entry and slot; the columns keep their size. */
  clear(): void {
    this.head = NONE;
    this.tail = NONE;
    this.freeHead = NONE;
    this.highWater = 0;
  }

  /** A free slot, not yet linked. Grows the columns when all are taken. */
  allocate(): number {
    if (this.freeHead !== NONE) {
      const slot = this.freeHead;
      this.freeHead = this.next[slot]!;
      return slot;
    }
    if (this.highWater === this.slots) this.growColumns();
    return this.highWater++;
  }

  /** Returns an unlinked slot to the free list. */
  release(slot: number): void {
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
  }

  write(slot: number, entry: ConnEntry, lastUsed: number): void {
    this.protocol[slot] = entry.protocol;
    this.natAddress[slot] = entry.natAddress;
    this.natPort[slot] = entry.natPort;
    this.clientAddress.set(entry.clientAddress, slot * ADDRESS_BYTES);
    this.clientPort[slot] = entry.clientPort;
    this.serverAddress[slot] = entry.serverAddress;
    this.serverPort[slot] = entry.serverPort;
    this.createdAt[slot] = entry.createdAt;
    this.lastUsed[slot] = lastUsed;
  }

  /** write() from record `index` of `records`. */
  writeRecord(slot: number, records: EventRecords, index: number, lastUsed: number): void {
    const view = records.view;
    const o = index * BatchLayout.eventBytes;
    this.protocol[slot] = records.bytes[o + BatchLayout.protocol]!;
    this.natAddress[slot] = view.getUint32(o + BatchLayout.natAddress, true);
    this.natPort[slot] = view.getUint16(o + BatchLayout.natPort, true);
    copyAddress(records.bytes, o + BatchLayout.clientAddress, this.clientAddress, slot * ADDRESS_BYTES);
    this.clientPort[slot] = view.getUint16(o + BatchLayout.clientPort, true);
    this.serverAddress[slot] = view.getUint32(o + BatchLayout.serverAddress, true);
    this.serverPort[slot] = view.getUint16(o + BatchLayout.serverPort, true);
    this.createdAt[slot] = view.getFloat64(o + BatchLayout.createdAt, true);
    this.lastUsed[slot] = lastUsed;
  }

  /** Appends the slot's entry to `records` as an event of `kind` at `at`. */
  appendRecord(slot: number, records: EventRecords, kind: number, at: number): void {
    const o = records.reserve();
    const view = records.view;
    const bytes = records.bytes;
    view.setFloat64(o + BatchLayout.at, at, true);
    view.setFloat64(o + BatchLayout.createdAt, this.createdAt[slot]!, true);
    view.setUint32(o + BatchLayout.natAddress, this.natAddress[slot]!, true);
    view.setUint32(o + BatchLayout.serverAddress, this.serverAddress[slot]!, true);
    view.setUint16(o + BatchLayout.natPort, this.natPort[slot]!, true);
    view.setUint16(o + BatchLayout.clientPort, this.clientPort[slot]!, true);
    view.setUint16(o + BatchLayout.serverPort, this.serverPort[slot]!, true);
    bytes[o + BatchLayout.protocol] = this.protocol[slot]!;
    bytes[o + BatchLayout.kind] = kind;
    copyAddress(this.clientAddress, slot * ADDRESS_BYTES, bytes, o + BatchLayout.clientAddress);
  }

  /** A fresh entry object with its own copy of the client address. */
  read(slot: number): ConnEntry {
    const offset = slot * ADDRESS_BYTES;
    return {
      protocol: this.protocol[slot]!,
      natAddress: this.natAddress[slot]!,
      natPort: this.natPort[slot]!,
      clientAddress: this.clientAddress.slice(offset, offset + ADDRESS_BYTES),
      clientPort: this.clientPort[slot]!,
      serverAddress: this.serverAddress[slot]!,
      serverPort: this.serverPort[slot]!,
      createdAt: this.createdAt[slot]!,
    };
  }

  key(slot: number): number {
    return connKey(this.protocol[slot]!, this.natAddress[slot]!, this.natPort[slot]!);
  }

  /** Whether the slot holds the same client endpoint as `entry` (the incarnation's identity). */
  sameClient(slot: number, entry: ConnEntry): boolean {
    if (this.clientPort[slot] !== entry.clientPort) return false;
    const stored = this.clientAddress;
    const given = entry.clientAddress;
    const offset = slot * ADDRESS_BYTES;
    for (let i = 0; i < ADDRESS_BYTES; i++) if (stored[offset + i] !== given[i]) return false;
    return true;
  }

  /** sameClient() against record `index` of `records`. */
  sameClientRecord(slot: number, records: EventRecords, index: number): boolean {
    if (this.clientPort[slot] !== records.clientPort(index)) return false;
    const stored = this.clientAddress;
    const given = records.bytes;
    const offset = slot * ADDRESS_BYTES;
    const start = records.clientAddressOffset(index);
    for (let i = 0; i < ADDRESS_BYTES; i++) if (stored[offset + i] !== given[start + i]) return false;
    return true;
  }

  /** Links the slot as most recently used. */
  linkTail(slot: number): void {
    this.linkBetween(slot, this.tail, NONE);
  }

  /** Links the slot between two neighbours that are adjacent now (-1 for the list ends). */
  linkBetween(slot: number, prev: number, next: number): void {
    this.prev[slot] = prev;
    this.next[slot] = next;
    if (prev === NONE) this.head = slot;
    else this.next[prev] = slot;
    if (next === NONE) this.tail = slot;
    else this.prev[next] = slot;
  }

  unlink(slot: number): void {
    const prev = this.prev[slot]!;
    const next = this.next[slot]!;
    if (prev === NONE) this.head = next;
    else this.next[prev] = next;
    if (next === NONE) this.tail = prev;
    else this.prev[next] = prev;
  }

  /** Doubles the columns, or at RESERVE_FROM slots grows them to the reserved capacity where that is allowed. */
  private growColumns(): void {
    const doubled = this.slots * 2;
    if (this.slots >= RESERVE_FROM && this.reserved > doubled) {
      try {
        this.grow(this.reserved);
        return;
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        this.reserved = 0;
      }
    }
    this.grow(doubled);
  }

  private grow(slots: number): void {
    this.protocol = grown(this.protocol, new Uint8Array(slots));
    this.natAddress = grown(this.natAddress, new Uint32Array(slots));
    this.natPort = grown(this.natPort, new Uint16Array(slots));
    this.clientAddress = grown(this.clientAddress, new Uint8Array(slots * ADDRESS_BYTES));
    this.clientPort = grown(this.clientPort, new Uint16Array(slots));
    this.serverAddress = grown(this.serverAddress, new Uint32Array(slots));
    this.serverPort = grown(this.serverPort, new Uint16Array(slots));
    this.createdAt = grown(this.createdAt, new Float64Array(slots));
    this.lastUsed = grown(this.lastUsed, new Float64Array(slots));
    this.prev = grown(this.prev, new Int32Array(slots));
    this.next = grown(this.next, new Int32Array(slots));
    this.clientNext = grown(this.clientNext, new Int32Array(slots));
  }
}

const BYTES_PER_SLOT = 1 + 4 + 2 + ADDRESS_BYTES + 2 + 4 + 2 + 8 + 8 + 4 + 4 + 4;

function copyAddress(from: Uint8Array, fromOffset: number, to: Uint8Array, toOffset: number): void {
  for (let i = 0; i < ADDRESS_BYTES; i++) to[toOffset + i] = from[fromOffset + i]!;
}

/** `fresh` holding what of `old` fits (a refused reservation may leave a column longer than the next size). */
function grown<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(old: T, fresh: T): T {
  fresh.set(old.length <= fresh.length ? old : old.subarray(0, fresh.length));
  return fresh;
}
