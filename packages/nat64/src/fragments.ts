// Fragment tracking (RFC 6146 3.4, 3.5): only the first fragment carries the transport ports the tables need,
// so the tracker remembers, per datagram (family, source, destination, identification, protocol), what the
// first fragment mapped to (a session token) for the later fragments. Non-first fragments that arrive before
// the first are held as copies, bounded in count and bytes, for FRAGMENT_MIN (RFC 6146 4) and handed back
// when the first fragment arrives, or dropped and counted when the time runs out. Given the byte range each
// fragment covers, it also finds overlapping fragments and then discards the whole datagram, those still to
// come included (RFC 5722, RFC 8200 4.5). Capacity is allocated up front; when full, the oldest datagram is
// forgotten.

import { randomBytes } from 'node:crypto';
import { readU32, type ValueOf } from '@nat64/wire';
import { IMPL, SPEC, VERDICT } from './constants.js';
import type { CounterSnapshot } from './counters.js';
import { Nat64Error } from './errors.js';
import { KeyedHash, SECRET_BYTES } from './hash.js';
import { powerOfTwoAtLeast } from './grow.js';
import { SlotFifo, unchain } from './slot-fifo.js';

export interface FragmentTrackerOptions {
  /** Current time in milliseconds. */
  readonly clock: () => number;
  /** Datagrams followed at once. */
  readonly maxEntries?: number;
  /** Out-of-order fragments held at once (copies). */
  readonly maxHeldFragments?: number;
  /** Bytes of held copies at most. */
  readonly maxHeldBytes?: number;
  /** Idle time after which a datagram is forgotten; at least FRAGMENT_MIN (2 s). */
  readonly timeoutMs?: number;
  readonly secret?: Uint8Array;
}

/** Address families as the tracker takes them. */
export const FAMILY = { IPV4: 4, IPV6: 6 } as const;
export type Family = ValueOf<typeof FAMILY>;

/**
 * What names a fragment's datagram: the family, the packet holding the addresses and their offsets in it
 * (4 bytes each for IPv4, 16 for IPv6), the identification and the protocol.
 */
type DatagramKey = [family: Family, packet: Uint8Array, sourceOffset: number, destinationOffset: number, identification: number, protocol: number];

const PENDING = -1;
/** The datagram is being discarded: every fragment of it is dropped until it is forgotten. */
const DISCARDED = -2;
const PIECES = IMPL.FRAGMENT_PIECES;
/** Ranges are kept in 8-byte units (RFC 8200 4.5: only the last fragment may end elsewhere). */
const UNIT_SHIFT = 3;
const MAX_UNITS = 0x10000 >>> UNIT_SHIFT;
const RANGE_OK = 0;
const RANGE_OVERLAP = 1;
const RANGE_FULL = 2;
const NO_FRAGMENTS: readonly Uint8Array[] = Object.freeze([]);

const HELP = {
  fragmentsHeld: 'non-first fragments held until their first fragment',
  fragmentsReleased: 'held fragments handed back when their first fragment came',
  fragmentsTimedOut: 'held fragments dropped: no first fragment within FRAGMENT_MIN, or forgotten when full',
  fragmentsOverLimit: 'non-first fragments dropped because the held-fragment budget was spent',
  datagramsForgotten: 'datagrams forgotten early because the tracker was full',
  datagramsOverlapping: 'datagrams discarded whole because two of their fragments overlap (RFC 5722)',
  datagramsScattered: `datagrams discarded whole because they came in more than ${IMPL.FRAGMENT_PIECES} separate pieces at once, too many to check for overlaps`,
  fragmentsDiscarded: 'fragments dropped with their discarded datagram: the one that overlapped, those held for it and those that came after',
} as const;
type FragmentCounter = keyof typeof HELP;
const C = Object.fromEntries(Object.keys(HELP).map((name, i) => [name, i])) as Readonly<Record<FragmentCounter, number>>;

export class FragmentTracker {
  private readonly hash: KeyedHash;
  private readonly clock: () => number;
  private readonly capacity: number;
  private readonly maxHeld: number;
  private readonly maxHeldBytes: number;
  private readonly timeoutMs: number;
  private readonly family: Uint8Array;
  private readonly protocol: Uint8Array;
  /** Source then destination, four words each (IPv4 uses the first word of each). */
  private readonly words: Uint32Array;
  private readonly identification: Uint32Array;
  private readonly value: Float64Array;
  private readonly lastSeen: Float64Array;
  private readonly next: Int32Array;
  private readonly fifo: SlotFifo;
  private readonly buckets: Int32Array;
  private readonly held: (Uint8Array[] | undefined)[];
  /** Per datagram, up to PIECES [start, end) ranges in 8-byte units of what its fragments covered so far. */
  private readonly ranges: Uint16Array;
  private readonly rangeCount: Uint8Array;
  /** The key of the fragment being handled, as `locate` loaded it: address words, the rest, its bucket. */
  private readonly key = new Uint32Array(8);
  private keyFamily = 0;
  private keyIdentification = 0;
  private keyProtocol = 0;
  private keyBucket = 0;
  /** The key of an entry being removed (removal can happen while `key` is in use). */
  private readonly removedKey = new Uint32Array(8);
  private readonly counters = new Float64Array(Object.keys(HELP).length);
  private freeHead = 0;
  private heldCount = 0;
  private heldBytes = 0;
  count = 0;

  constructor(options: FragmentTrackerOptions) {
    this.clock = options.clock;
    this.hash = new KeyedHash(options.secret ?? randomBytes(SECRET_BYTES));
    this.capacity = options.maxEntries ?? IMPL.DEFAULT_FRAGMENT_ENTRIES;
    this.maxHeld = options.maxHeldFragments ?? IMPL.DEFAULT_HELD_FRAGMENTS;
    this.maxHeldBytes = options.maxHeldBytes ?? IMPL.DEFAULT_HELD_FRAGMENT_BYTES;
    this.timeoutMs = options.timeoutMs ?? SPEC.FRAGMENT_MIN_MS;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new Nat64Error('BAD_LIMIT', 'maxEntries must be a positive integer');
    if (!Number.isInteger(this.maxHeld) || this.maxHeld < 0) throw new Nat64Error('BAD_LIMIT', 'maxHeldFragments must be an integer >= 0');
    if (!(this.maxHeldBytes >= 0)) throw new Nat64Error('BAD_LIMIT', 'maxHeldBytes must be >= 0');
    if (!(this.timeoutMs >= SPEC.FRAGMENT_MIN_MS)) {
      throw new Nat64Error('BAD_TIMEOUT', `timeoutMs must be at least FRAGMENT_MIN (${SPEC.FRAGMENT_MIN_MS} ms)`);
    }
    const n = this.capacity;
    this.family = new Uint8Array(n);
    this.protocol = new Uint8Array(n);
    this.words = new Uint32Array(n * 8);
    this.identification = new Uint32Array(n);
    this.value = new Float64Array(n);
    this.lastSeen = new Float64Array(n);
    this.next = new Int32Array(n);
    for (let i = 0; i < n; i++) this.next[i] = i + 1 < n ? i + 1 : -1;
    this.fifo = new SlotFifo(n);
    this.buckets = new Int32Array(powerOfTwoAtLeast(n)).fill(-1);
    this.held = new Array<Uint8Array[] | undefined>(n).fill(undefined);
    this.ranges = new Uint16Array(n * PIECES * 2);
    this.rangeCount = new Uint8Array(n);
  }

  /**
   * Records what the first fragment of a datagram mapped to (`value` >= 0, e.g. a session token) and returns
   * the non-first fragments held for it (copies, to translate now), usually none. Addresses are read from
   * `packet` at the offsets: 4 bytes each for IPv4, 16 for IPv6. With the byte range the fragment's data
   * covers in the datagram, [rangeStart, rangeEnd) (rangeEnd at most 65,536), it is checked against the
   * fragments seen so far: null means the datagram is discarded (RFC 5722) and the fragment must be dropped.
   */
  first(...fragment: [...DatagramKey, value: number]): readonly Uint8Array[];
  first(...fragment: [...DatagramKey, value: number, rangeStart: number, rangeEnd: number]): readonly Uint8Array[] | null;
  first(
    family: Family,
    packet: Uint8Array,
    sourceOffset: number,
    destinationOffset: number,
    identification: number,
    protocol: number,
    value: number,
    rangeStart = -1,
    rangeEnd = -1,
  ): readonly Uint8Array[] | null {
    const now = this.clock();
    let i = this.locate(family, packet, sourceOffset, destinationOffset, identification, protocol);
    if (i < 0) i = this.insert();
    this.touch(i, now);
    if (this.value[i] === DISCARDED || (rangeStart >= 0 && !this.cover(i, rangeStart, rangeEnd))) {
      this.counters[C.fragmentsDiscarded]!++;
      return null;
    }
    this.value[i] = value;
    const held = this.takeHeld(i);
    if (held === undefined) return NO_FRAGMENTS;
    this.counters[C.fragmentsReleased]! += held.length;
    return held;
  }

  /**
   * For a non-first fragment: the value its first fragment recorded, or FRAGMENT_HELD when a copy of
   * packet[start, end) was stored to wait for it, or FRAGMENT_LIMIT when it was dropped. With the byte range
   * its data covers (see `first`), FRAGMENT_OVERLAP when the datagram is discarded (RFC 5722). A fragment
   * `first` handed back is not checked again: leave its range out.
   */
  later(
    family: Family,
    packet: Uint8Array,
    sourceOffset: number,
    destinationOffset: number,
    identification: number,
    protocol: number,
    start: number,
    end: number,
    rangeStart = -1,
    rangeEnd = -1,
  ): number {
    const now = this.clock();
    let i = this.locate(family, packet, sourceOffset, destinationOffset, identification, protocol);
    if (i >= 0 && this.value[i]! !== PENDING) {
      this.touch(i, now);
      if (this.value[i] === DISCARDED || (rangeStart >= 0 && !this.cover(i, rangeStart, rangeEnd))) return this.dropDiscarded();
      return this.value[i]!;
    }
    const bytes = end - start;
    if (this.heldCount >= this.maxHeld || this.heldBytes + bytes > this.maxHeldBytes) {
      this.counters[C.fragmentsOverLimit]!++;
      return VERDICT.FRAGMENT_LIMIT;
    }
    if (i < 0) {
      i = this.insert();
      this.touch(i, now);
    }
    if (rangeStart >= 0 && !this.cover(i, rangeStart, rangeEnd)) return this.dropDiscarded();
    // The deadline runs from the first fragment held, so a trickle cannot keep a datagram waiting forever.
    // A plain copy: a Node Buffer (a TUN receive buffer) would slice into a view.
    const copy = new Uint8Array(packet.subarray(start, end));
    const held = this.held[i];
    if (held === undefined) this.held[i] = [copy];
    else held.push(copy);
    this.heldCount++;
    this.heldBytes += bytes;
    this.counters[C.fragmentsHeld]!++;
    return VERDICT.FRAGMENT_HELD;
  }

  /** Forgets datagrams idle for the timeout; returns how many held fragments were dropped with them. */
  expire(now: number = this.clock()): number {
    let dropped = 0;
    const fifo = this.fifo;
    while (fifo.head >= 0 && this.lastSeen[fifo.head]! + this.timeoutMs <= now) dropped += this.remove(fifo.head);
    this.counters[C.fragmentsTimedOut]! += dropped;
    return dropped;
  }

  counterSnapshot(): CounterSnapshot[] {
    return (Object.keys(HELP) as (keyof typeof HELP)[]).map((name, i) => ({
      name,
      value: this.counters[i]!,
      explanation: HELP[name],
    }));
  }

  bytesAllocated(): number {
    return (
      this.heldBytes +
      this.ranges.byteLength +
      this.rangeCount.byteLength +
      this.family.byteLength +
      this.protocol.byteLength +
      this.words.byteLength +
      this.identification.byteLength +
      this.value.byteLength +
      this.lastSeen.byteLength +
      this.next.byteLength +
      this.fifo.byteLength +
      this.buckets.byteLength
    );
  }

  /**
   * Adds [start, end) (bytes) to what datagram i's fragments covered. Returns false, and discards the
   * datagram, when it overlaps what was covered (RFC 5722; an exact duplicate counts as one, which RFC 8200
   * 4.5 allows) or when the datagram is in more separate pieces than are followed.
   */
  private cover(i: number, start: number, end: number): boolean {
    const result = this.addRange(i, start >>> UNIT_SHIFT, Math.min(MAX_UNITS, (end + 7) >>> UNIT_SHIFT));
    if (result === RANGE_OK) return true;
    this.counters[result === RANGE_OVERLAP ? C.datagramsOverlapping : C.datagramsScattered]!++;
    this.discard(i);
    return false;
  }

  /** Adds [s, e) (8-byte units) to datagram i's ranges, merging with the ones it touches. */
  private addRange(i: number, s: number, e: number): number {
    if (e <= s) return RANGE_OK;
    const ranges = this.ranges;
    const base = i * PIECES * 2;
    const n = this.rangeCount[i]!;
    let before = -1;
    let after = -1;
    for (let k = 0; k < n; k++) {
      const a = ranges[base + 2 * k]!;
      const b = ranges[base + 2 * k + 1]!;
      if (s < b && a < e) return RANGE_OVERLAP;
      if (b === s) before = k;
      else if (a === e) after = k;
    }
    if (before >= 0 && after >= 0) {
      // Fills the gap between two pieces: the first grows over the second, the last piece takes its slot.
      ranges[base + 2 * before + 1] = ranges[base + 2 * after + 1]!;
      const last = n - 1;
      ranges[base + 2 * after] = ranges[base + 2 * last]!;
      ranges[base + 2 * after + 1] = ranges[base + 2 * last + 1]!;
      this.rangeCount[i] = last;
    } else if (before >= 0) {
      ranges[base + 2 * before + 1] = e;
    } else if (after >= 0) {
      ranges[base + 2 * after] = s;
    } else {
      if (n === PIECES) return RANGE_FULL;
      ranges[base + 2 * n] = s;
      ranges[base + 2 * n + 1] = e;
      this.rangeCount[i] = n + 1;
    }
    return RANGE_OK;
  }

  private dropDiscarded(): number {
    this.counters[C.fragmentsDiscarded]!++;
    return VERDICT.FRAGMENT_OVERLAP;
  }

  /** Datagram i is discarded: its held fragments go, and every later fragment of it is dropped until it is forgotten. */
  private discard(i: number): void {
    const held = this.takeHeld(i);
    if (held !== undefined) this.counters[C.fragmentsDiscarded]! += held.length;
    this.value[i] = DISCARDED;
    this.rangeCount[i] = 0;
  }

  /** Takes datagram i's held fragments out of it and off the budget; undefined when none are held. */
  private takeHeld(i: number): Uint8Array[] | undefined {
    const held = this.held[i];
    if (held === undefined) return undefined;
    this.held[i] = undefined;
    this.heldCount -= held.length;
    for (const fragment of held) this.heldBytes -= fragment.byteLength;
    return held;
  }

  /** Loads the fragment's datagram key into the scratch key and returns the datagram's entry, or -1. */
  private locate(family: number, packet: Uint8Array, src: number, dst: number, identification: number, protocol: number): number {
    const key = this.key;
    if (family === FAMILY.IPV6) {
      key[0] = readU32(packet, src);
      key[1] = readU32(packet, src + 4);
      key[2] = readU32(packet, src + 8);
      key[3] = readU32(packet, src + 12);
      key[4] = readU32(packet, dst);
      key[5] = readU32(packet, dst + 4);
      key[6] = readU32(packet, dst + 8);
      key[7] = readU32(packet, dst + 12);
    } else {
      key.fill(0);
      key[0] = readU32(packet, src);
      key[4] = readU32(packet, dst);
    }
    this.keyFamily = family;
    this.keyIdentification = identification;
    this.keyProtocol = protocol;
    const bucket = this.hash.fragment(key, 8, identification, (family << 8) | protocol) & (this.buckets.length - 1);
    this.keyBucket = bucket;
    const words = this.words;
    for (let i = this.buckets[bucket]!; i >= 0; i = this.next[i]!) {
      if (this.identification[i] !== identification || this.family[i] !== family || this.protocol[i] !== protocol) continue;
      const o = i * 8;
      let same = true;
      for (let k = 0; k < 8 && same; k++) same = words[o + k] === key[k];
      if (same) return i;
    }
    return -1;
  }

  /** A new entry, pending, for the key `locate` loaded last. */
  private insert(): number {
    if (this.freeHead < 0) {
      this.counters[C.datagramsForgotten]!++;
      this.counters[C.fragmentsTimedOut]! += this.remove(this.fifo.head);
    }
    const i = this.freeHead;
    this.freeHead = this.next[i]!;
    this.family[i] = this.keyFamily;
    this.protocol[i] = this.keyProtocol;
    this.identification[i] = this.keyIdentification;
    this.words.set(this.key, i * 8);
    // A reused slot must not keep its last datagram's state (a discarded one would discard this one).
    this.value[i] = PENDING;
    this.rangeCount[i] = 0;
    this.next[i] = this.buckets[this.keyBucket]!;
    this.buckets[this.keyBucket] = i;
    this.count++;
    return i;
  }

  /** Moves entry i to the FIFO tail, seen at `now`. */
  private touch(i: number, now: number): void {
    const fifo = this.fifo;
    if (fifo.tail !== i) {
      if (fifo.has(i)) fifo.unlink(i);
      fifo.push(i);
    }
    this.lastSeen[i] = now;
  }

  /** Frees entry i; returns how many held fragments it dropped. */
  private remove(i: number): number {
    const o = i * 8;
    const key = this.removedKey;
    for (let k = 0; k < 8; k++) key[k] = this.words[o + k]!;
    const bucket = this.hash.fragment(key, 8, this.identification[i]!, (this.family[i]! << 8) | this.protocol[i]!) & (this.buckets.length - 1);
    unchain(this.buckets, this.next, bucket, i);
    this.fifo.unlink(i);
    const dropped = this.takeHeld(i)?.length ?? 0;
    this.family[i] = 0;
    this.next[i] = this.freeHead;
    this.freeHead = i;
    this.count--;
    return dropped;
  }
}
