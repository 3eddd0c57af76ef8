// An open-addressing hash map from ConnKey (an integer double below 2^50, or any integer below
// 2^53) to a slot number (or, `wide`, any integer below 2^53, such as a row id), kept in
// two typed arrays: no per-entry objects, no boxed keys, nothing for the garbage collector to walk.
// Linear probing with backward-shift deletion, so there are no tombstones and lookups stay short
// however many deletes happen. The load factor stays at or below 1/2.

const EMPTY = -1;
const MIN_BUCKETS = 1024;
const TWO_32 = 0x1_0000_0000;

export class KeyIndex {
  private keys: Float64Array;
  private values: Int32Array | Float64Array;
  private mask: number;
  private count = 0;

  constructor(
    expected = 0,
    /** Values are integers below 2^53 (8 bytes each) rather than int32. */
    private readonly wide = false,
  ) {
    let buckets = MIN_BUCKETS;
    while (buckets < expected * 2) buckets *= 2;
    this.keys = new Float64Array(buckets).fill(EMPTY);
    this.values = wide ? new Float64Array(buckets) : new Int32Array(buckets);
    this.mask = buckets - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the two arrays. */
  get byteLength(): number {
    return this.keys.byteLength + this.values.byteLength;
  }

  /** The value stored for `key`, or -1. */
  get(key: number): number {
    const keys = this.keys;
    let i = home(key, this.mask);
    for (;;) {
      const k = keys[i]!;
      if (k === key) return this.values[i]!;
      if (k === EMPTY) return -1;
      i = (i + 1) & this.mask;
    }
  }

  /**
   * Stores `value` (a non-negative int32, or integer below 2^53 if `wide`) for `key` (a non-negative
   * integer below 2^53); returns the value it replaces, or -1, so that a caller needing both costs one probe.
   */
  set(key: number, value: number): number {
    if ((this.count + 1) * 2 > this.keys.length) this.resize(this.keys.length * 2);
    const keys = this.keys;
    let i = home(key, this.mask);
    let previous = -1;
    for (;;) {
      const k = keys[i]!;
      if (k === key) {
        previous = this.values[i]!;
        break;
      }
      if (k === EMPTY) {
        keys[i] = key;
        this.count++;
        break;
      }
      i = (i + 1) & this.mask;
    }
    this.values[i] = value;
    return previous;
  }

  delete(key: number): boolean {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let hole = home(key, mask);
    for (;;) {
      const k = keys[hole]!;
      if (k === key) break;
      if (k === EMPTY) return false;
      hole = (hole + 1) & mask;
    }
    // Backward shift: pull later members of the probe run into the hole unless their home lies
    // cyclically in (hole, j], where they would become unreachable.
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const k = keys[j]!;
      if (k === EMPTY) break;
      const h = home(k, mask);
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
    this.count = 0;
  }

  private resize(buckets: number): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.keys = new Float64Array(buckets).fill(EMPTY);
    this.values = this.wide ? new Float64Array(buckets) : new Int32Array(buckets);
    this.mask = buckets - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k !== EMPTY) this.set(k, oldValues[i]!);
    }
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
