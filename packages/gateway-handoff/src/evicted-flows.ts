// The gateway's compact memory of flows it handed off and then evicted from its cache, so that a
// client speaking first on one of them is asked about (CLIENT-QUERY, handoff v1 section 5.12) while
// a genuinely new flow leaves at once. A flow is (protocol, client address and port, server address
// and port); for ICMP echo the ports are the client's identifier and 0.
//
// Layout: buckets of 4 slots, each slot a 32-bit fingerprint (0 = empty), the NAT address the flow
// had and a 32-bit insertion stamp: 12 bytes per slot, one slot per flow of the capacity, allocated
// once. A flow may sit in either of two buckets, as in a cuckoo filter: the second is
// (H(fingerprint) - first) mod buckets, so a stored fingerprint's other bucket is known without its
// flow. A flow goes into the emptier bucket; when both are full, one of their flows moves to its
// other bucket if that has room, else the new flow takes the place of the oldest of the 8, so the
// memory is bounded and forgets the oldest first, approximately. A lookup compares 8 fingerprints: a flow never stored
// matches with probability at most 8 / 2^32 (about 2e-9); the cost of a false "maybe" is one
// CLIENT-QUERY answered NOT_FOUND and one round trip for that flow's first packet.
//
// With `ports`, each slot also holds a 32-bit value beside the NAT address (16 bytes per slot): the
// bypass transport keeps the NAT port there, or -1 for a flow handed off (bypass/translated-flows.ts).

const SLOTS_PER_BUCKET = 4;
const TWO_32 = 0x1_0000_0000;

/** Bytes of memory per flow the capacity holds (without ports; 4 more with them). */
export const EVICTED_FLOW_BYTES = 12;

export class EvictedFlows {
  readonly capacity: number;
  private readonly buckets: number;
  private readonly fingerprints: Uint32Array;
  private readonly natAddresses: Uint32Array;
  private readonly stamps: Uint32Array;
  private readonly ports: Int32Array | null;
  private clock = 0;
  private count = 0;
  // The hashes of the flow last given to hash(), to avoid returning objects.
  private bucketA = 0;
  private bucketB = 0;
  private fingerprint = 0;
  /** The port value of the flow the last recall() found (with `ports`), else -1. */
  recalledPort = -1;

  /**
   * `capacity`: flows remembered at most (0 turns the memory off: nothing is remembered); `ports`: each
   * flow also keeps a 32-bit port value (remember's `port`, recall's `recalledPort`).
   */
  constructor(
    capacity: number,
    private readonly seed = 0x5eed_f10e,
    ports = false,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`capacity must be a non-negative integer, got ${capacity}`);
    this.buckets = Math.ceil(capacity / SLOTS_PER_BUCKET);
    this.capacity = this.buckets * SLOTS_PER_BUCKET;
    this.fingerprints = new Uint32Array(this.capacity);
    this.natAddresses = new Uint32Array(this.capacity);
    this.stamps = new Uint32Array(this.capacity);
    this.ports = ports ? new Int32Array(this.capacity) : null;
  }

  /** Flows held now. */
  get size(): number {
    return this.count;
  }

  get byteLength(): number {
    return this.capacity * (EVICTED_FLOW_BYTES + (this.ports === null ? 0 : 4));
  }

  /** Remembers a flow evicted with NAT address `natAddress` (and `port`, with ports), replacing what it held for that flow. */
  remember(
    protocol: number,
    client: Uint8Array,
    clientOffset: number,
    clientPort: number,
    server: number,
    serverPort: number,
    natAddress: number,
    port = -1,
  ): void {
    if (this.buckets === 0) return;
    this.hash(protocol, client, clientOffset, clientPort, server, serverPort);
    const fp = this.fingerprint;
    let slot = this.slotOf(fp);
    if (slot < 0) {
      const a = this.bucketA * SLOTS_PER_BUCKET;
      const b = this.bucketB * SLOTS_PER_BUCKET;
      const freeA = this.freeSlot(a);
      const freeB = this.freeSlot(b);
      if (freeA >= 0 || freeB >= 0) {
        slot = freeA >= 0 && (freeB < 0 || this.load(a) <= this.load(b)) ? freeA : freeB;
        this.count++;
      } else {
        slot = this.relocate(a, b);
        if (slot < 0) slot = this.oldest(a, b);
        else this.count++;
      }
    }
    this.fingerprints[slot] = fp;
    this.natAddresses[slot] = natAddress;
    if (this.ports !== null) this.ports[slot] = port;
    this.stamps[slot] = this.clock;
    this.clock = (this.clock + 1) >>> 0;
  }

  /** The NAT address a flow was evicted with when the memory says "maybe", else -1 ("certainly not"). */
  recall(protocol: number, client: Uint8Array, clientOffset: number, clientPort: number, server: number, serverPort: number): number {
    if (this.count === 0) return -1;
    this.hash(protocol, client, clientOffset, clientPort, server, serverPort);
    const slot = this.slotOf(this.fingerprint);
    if (slot < 0) return -1;
    this.recalledPort = this.ports === null ? -1 : this.ports[slot]!;
    return this.natAddresses[slot]!;
  }

  /** Forgets a flow (it came back, or its receiver said it holds nothing); whether it was held. */
  forget(protocol: number, client: Uint8Array, clientOffset: number, clientPort: number, server: number, serverPort: number): boolean {
    if (this.count === 0) return false;
    this.hash(protocol, client, clientOffset, clientPort, server, serverPort);
    const slot = this.slotOf(this.fingerprint);
    if (slot < 0) return false;
    this.fingerprints[slot] = 0;
    this.count--;
    return true;
  }

  clear(): void {
    this.fingerprints.fill(0);
    this.count = 0;
  }

  private slotOf(fp: number): number {
    const fingerprints = this.fingerprints;
    const a = this.bucketA * SLOTS_PER_BUCKET;
    for (let i = a; i < a + SLOTS_PER_BUCKET; i++) if (fingerprints[i] === fp) return i;
    const b = this.bucketB * SLOTS_PER_BUCKET;
    for (let i = b; i < b + SLOTS_PER_BUCKET; i++) if (fingerprints[i] === fp) return i;
    return -1;
  }

  private freeSlot(start: number): number {
    for (let i = start; i < start + SLOTS_PER_BUCKET; i++) if (this.fingerprints[i] === 0) return i;
    return -1;
  }

  private load(start: number): number {
    let used = 0;
    for (let i = start; i < start + SLOTS_PER_BUCKET; i++) if (this.fingerprints[i] !== 0) used++;
    return used;
  }

  /** Moves one flow of the full buckets a and b to its other bucket; the slot it left, or -1. */
  private relocate(a: number, b: number): number {
    const fingerprints = this.fingerprints;
    for (let k = 0; k < 2 * SLOTS_PER_BUCKET; k++) {
      const i = k < SLOTS_PER_BUCKET ? a + k : b + k - SLOTS_PER_BUCKET;
      const here = (i - (i % SLOTS_PER_BUCKET)) / SLOTS_PER_BUCKET;
      const free = this.freeSlot(this.otherBucket(fingerprints[i]!, here) * SLOTS_PER_BUCKET);
      if (free < 0) continue;
      fingerprints[free] = fingerprints[i]!;
      this.natAddresses[free] = this.natAddresses[i]!;
      if (this.ports !== null) this.ports[free] = this.ports[i]!;
      this.stamps[free] = this.stamps[i]!;
      return i;
    }
    return -1;
  }

  private otherBucket(fp: number, bucket: number): number {
    const buckets = this.buckets;
    const h = finish(Math.imul(fp, 0x5bd1_e995)) >>> 0;
    return ((((h % buckets) - bucket) % buckets) + buckets) % buckets;
  }

  private oldest(a: number, b: number): number {
    let best = a;
    let bestAge = -1;
    for (let k = 0; k < 2 * SLOTS_PER_BUCKET; k++) {
      const i = k < SLOTS_PER_BUCKET ? a + k : b + k - SLOTS_PER_BUCKET;
      const age = (this.clock - this.stamps[i]!) >>> 0;
      if (age > bestAge) {
        bestAge = age;
        best = i;
      }
    }
    return best;
  }

  /** Two 32-bit hashes of the flow (murmur3 mixing): the first bucket and a non-zero fingerprint, which gives the second. */
  private hash(protocol: number, client: Uint8Array, offset: number, clientPort: number, server: number, serverPort: number): void {
    let h1 = this.seed;
    let h3 = this.seed ^ 0x7f4a_7c15;
    for (let i = 0; i < 16; i += 4) {
      const word = (client[offset + i]! << 24) | (client[offset + i + 1]! << 16) | (client[offset + i + 2]! << 8) | client[offset + i + 3]!;
      h1 = mix(h1, word);
      h3 = mix(h3, word);
    }
    const ports = (clientPort << 16) | serverPort;
    const rest = protocol;
    h1 = finish(mix(mix(mix(h1, ports), server), rest));
    h3 = finish(mix(mix(mix(h3, ports), server), rest ^ 0xaa));
    const buckets = this.buckets;
    this.bucketA = Math.floor(((h1 >>> 0) * buckets) / TWO_32);
    this.fingerprint = h3 >>> 0 || 1;
    this.bucketB = this.otherBucket(this.fingerprint, this.bucketA);
  }
}

function mix(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e_2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b87_3593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe654_6b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  return h ^ (h >>> 16);
}
