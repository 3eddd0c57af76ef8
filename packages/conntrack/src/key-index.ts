// An open-addressing hash map from ConnKey (an integer double below 2^50, or any integer below
// 2^53) to a slot number (or, `wide`, any integer below 2^53, such as a row id), kept in
// two typed arrays: no per-entry objects, no boxed keys, nothing for the garbage collector to walk.
// Linear probing with backward-shift deletion, so there are no tombstones and lookups stay short
// however many deletes happen. The load factor stays at or below 1/2.
//
// It doubles without a pause: the keys move from the previous arrays to the new ones a few buckets
// per set (incremental rehashing, as the gateway's ChainedIndex does), so no commit or datagram pays
// for moving a million keys at once (a 1M-key index took 45-55 ms to rehash in one go, the receiver's
// table holds two such indexes and its writer a third). While moving, a key is in exactly one of the
// two; the previous arrays only lose keys, each leaving a MOVED mark so that the probe runs through it
// stay whole.

// A bucket holds its key plus one (exact below 2^53), so that an empty bucket is 0 and new arrays
// need no fill. Their pages are still written once, a page per set from 3/8 load on, before any
// lookup reads them: a page first read maps the kernel's shared zero page, and the write after it is
// a copy-on-write fault whose TLB shootdown interrupts every core the process runs on (that took
// half the main thread's time while a 2^19-bucket index doubled).
const EMPTY = 0;
/** A bucket of the previous arrays whose key has moved (or was deleted) while doubling. */
const MOVED = -1;
const MIN_BUCKETS = 1024;
const TWO_32 = 0x1_0000_0000;
/** Previous buckets moved per set while doubling: done well before the new arrays could fill. */
const MOVES_PER_SET = 8;
/** Elements of an array one page (4 KiB) apart. */
const PAGE_BYTES = 4096;

export class KeyIndex {
  private keys: Float64Array;
  private values: Int32Array | Float64Array;
  private mask: number;
  private count = 0;
  /** While doubling, the previous arrays; their buckets below `moved` are done. */
  private oldKeys: Float64Array | null = null;
  private oldValues: Int32Array | Float64Array | null = null;
  private moved = 0;
  /** Before doubling, the next arrays, their pages written up to byte `touched` of the keys (touch()). */
  private nextKeys: Float64Array | null = null;
  private nextValues: Int32Array | Float64Array | null = null;
  private touched = 0;

  constructor(
    expected = 0,
    /** Values are integers below 2^53 (8 bytes each) rather than int32. */
    private readonly wide = false,
  ) {
    let buckets = MIN_BUCKETS;
    while (buckets < expected * 2) buckets *= 2;
    this.keys = new Float64Array(buckets);
    this.values = this.valuesOf(buckets);
    this.mask = buckets - 1;
    writePages(this.keys, this.values, 0, this.keys.byteLength);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the arrays (while doubling, the previous ones too). */
  get byteLength(): number {
    const old = (this.oldKeys?.byteLength ?? 0) + (this.oldValues?.byteLength ?? 0);
    const next = (this.nextKeys?.byteLength ?? 0) + (this.nextValues?.byteLength ?? 0);
    return this.keys.byteLength + this.values.byteLength + old + next;
  }

  /** The value stored for `key`, or -1. */
  get(key: number): number {
    const keys = this.keys;
    const stored = key + 1;
    let i = home(key, this.mask);
    for (;;) {
      const k = keys[i]!;
      if (k === stored) return this.values[i]!;
      if (k === EMPTY) break;
      i = (i + 1) & this.mask;
    }
    if (this.oldKeys === null) return -1;
    const old = this.findOld(key);
    return old < 0 ? -1 : this.oldValues![old]!;
  }

  /**
   * Stores `value` (a non-negative int32, or integer below 2^53 if `wide`) for `key` (a non-negative
   * integer below 2^53); returns the value it replaces, or -1, so that a caller needing both costs one probe.
   */
  set(key: number, value: number): number {
    if (this.oldKeys === null && this.count * 8 >= this.keys.length * 3) {
      if ((this.count + 1) * 2 > this.keys.length) this.startDoubling();
      else this.touch(1);
    }
    if (this.oldKeys !== null) {
      this.move(MOVES_PER_SET);
      if (this.oldKeys !== null) {
        const old = this.findOld(key);
        if (old >= 0) {
          // Moved now rather than updated in place, so that the previous arrays only ever lose keys.
          const previous = this.oldValues![old]!;
          this.oldKeys[old] = MOVED;
          this.insert(key + 1, value);
          return previous;
        }
      }
    }
    const keys = this.keys;
    const stored = key + 1;
    let i = home(key, this.mask);
    for (;;) {
      const k = keys[i]!;
      if (k === stored) {
        const previous = this.values[i]!;
        this.values[i] = value;
        return previous;
      }
      if (k === EMPTY) break;
      i = (i + 1) & this.mask;
    }
    keys[i] = stored;
    this.values[i] = value;
    this.count++;
    return -1;
  }

  delete(key: number): boolean {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    const stored = key + 1;
    let hole = home(key, mask);
    for (;;) {
      const k = keys[hole]!;
      if (k === stored) break;
      if (k === EMPTY) return this.deleteOld(key);
      hole = (hole + 1) & mask;
    }
    // Backward shift: pull later members of the probe run into the hole unless their home lies
    // cyclically in (hole, j], where they would become unreachable.
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const k = keys[j]!;
      if (k === EMPTY) break;
      const h = home(k - 1, mask);
      const stays = hole <= j ? hole < h && h <= j : hole < h || h <= j;
      if (stays) continue;
      keys[hole] = k;
      values[hole] = values[j]!;
      hole = j;
    }
    keys[hole] = EMPTY;
    this.count--;
    return true;
  }

  clear(): void {
    this.keys.fill(EMPTY);
    this.oldKeys = null;
    this.oldValues = null;
    this.nextKeys = null;
    this.nextValues = null;
    this.count = 0;
  }

  private valuesOf(buckets: number): Int32Array | Float64Array {
    return this.wide ? new Float64Array(buckets) : new Int32Array(buckets);
  }

  /** Writes the next `pages` pages of the next arrays (allocated on the first call). */
  private touch(pages: number): void {
    if (this.nextKeys === null) {
      const buckets = this.keys.length * 2;
      this.nextKeys = new Float64Array(buckets);
      this.nextValues = this.valuesOf(buckets);
      this.touched = 0;
    }
    const end = Math.min(this.nextKeys.byteLength, this.touched + pages * PAGE_BYTES);
    writePages(this.nextKeys, this.nextValues!, this.touched, end);
    this.touched = end;
  }

  /** Switches to the next arrays, of twice the buckets; the keys move over as sets follow (move()). */
  private startDoubling(): void {
    this.touch(Number.POSITIVE_INFINITY);
    this.oldKeys = this.keys;
    this.oldValues = this.values;
    this.moved = 0;
    this.keys = this.nextKeys!;
    this.values = this.nextValues!;
    this.mask = this.keys.length - 1;
    this.nextKeys = null;
    this.nextValues = null;
  }

  /** Moves the keys of the next `buckets` previous buckets; drops the previous arrays once all are done. */
  private move(buckets: number): void {
    const oldKeys = this.oldKeys!;
    const oldValues = this.oldValues!;
    const end = Math.min(oldKeys.length, this.moved + buckets);
    for (let i = this.moved; i < end; i++) {
      const k = oldKeys[i]!;
      if (k <= EMPTY) continue;
      oldKeys[i] = MOVED;
      this.insert(k, oldValues[i]!);
    }
    this.moved = end;
    if (end === oldKeys.length) {
      this.oldKeys = null;
      this.oldValues = null;
    }
  }

  /** Puts a key (`stored`: plus one) that is in neither array into the new one (its count already includes it). */
  private insert(stored: number, value: number): void {
    const keys = this.keys;
    let i = home(stored - 1, this.mask);
    while (keys[i]! !== EMPTY) i = (i + 1) & this.mask;
    keys[i] = stored;
    this.values[i] = value;
  }

  /** The bucket of `key` in the previous arrays, or -1. */
  private findOld(key: number): number {
    const oldKeys = this.oldKeys!;
    const mask = oldKeys.length - 1;
    const stored = key + 1;
    let i = home(key, mask);
    for (;;) {
      const k = oldKeys[i]!;
      if (k === stored) return i;
      if (k === EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }

  private deleteOld(key: number): boolean {
    if (this.oldKeys === null) return false;
    const old = this.findOld(key);
    if (old < 0) return false;
    this.oldKeys[old] = MOVED;
    this.count--;
    return true;
  }
}

/**
 * Writes the pages of `keys` from byte `from` to `to`, and those of the same buckets' values (which
 * take at most as many bytes), with the empty value they already hold: a bucket a page apart.
 */
function writePages(keys: Float64Array, values: Int32Array | Float64Array, from: number, to: number): void {
  for (let at = from; at < to; at += PAGE_BYTES) {
    keys[at / 8] = EMPTY;
    values[at / 8] = 0;
  }
}

/** Home bucket: mixes both halves of the key (murmur3 finalizer) so sequential ports spread out. */
function home(key: number, mask: number): number {
  const low = key >>> 0; // ToUint32 is exact modulo 2^32 for integers below 2^53
  const high = (key / TWO_32) >>> 0;
  let h = low ^ Math.imul(high, 0x9e37_79b1);
  h = Math.imul(h ^ (h >>> 16), 0x85eb_ca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2_ae35);
  return (h ^ (h >>> 16)) & mask;
}
