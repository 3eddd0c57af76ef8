// The Binding Information Base (RFC 6146 3.1): one entry per mapping of a client transport address
// (protocol, IPv6 address, port) to a NAT transport address (protocol, pool4 address, port). Indexed twice,
// by each side, in chained hash tables over typed arrays. An entry also heads the list of its sessions.

import type { ClientTable } from './clients.js';
import { grown, powerOfTwoAtLeast } from './grow.js';
import type { KeyedHash } from './hash.js';

/** Entry flag: configured, never expires (RFC 6146 3.5.1 "static"). */
export const BIB_STATIC = 1;

export class BibTable {
  capacity: number;
  count = 0;
  highWater = 0;
  /** IP protocol number; 0 marks a free slot. */
  protocol: Uint8Array;
  flags: Uint8Array;
  /** Client record (ClientTable index), which holds the IPv6 address. */
  client: Int32Array;
  clientPort: Uint16Array;
  natAddress: Uint32Array;
  natPort: Uint16Array;
  /** Index of natAddress in pool4. */
  poolIndex: Uint16Array;
  /** First session of this entry (SessionTable index), or -1. */
  sessionHead: Int32Array;
  /** Chain link of the IPv6-side index, or free-list link. */
  nextByClient: Int32Array;
  /** Chain link of the IPv4-side index. */
  nextByNat: Int32Array;
  bucketsByClient: Int32Array;
  bucketsByNat: Int32Array;
  private freeHead = -1;

  constructor(
    private readonly hash: KeyedHash,
    private readonly clients: ClientTable,
    initialCapacity: number,
  ) {
    this.capacity = initialCapacity;
    this.protocol = new Uint8Array(initialCapacity);
    this.flags = new Uint8Array(initialCapacity);
    this.client = new Int32Array(initialCapacity);
    this.clientPort = new Uint16Array(initialCapacity);
    this.natAddress = new Uint32Array(initialCapacity);
    this.natPort = new Uint16Array(initialCapacity);
    this.poolIndex = new Uint16Array(initialCapacity);
    this.sessionHead = new Int32Array(initialCapacity).fill(-1);
    this.nextByClient = new Int32Array(initialCapacity).fill(-1);
    this.nextByNat = new Int32Array(initialCapacity).fill(-1);
    const buckets = powerOfTwoAtLeast(initialCapacity);
    this.bucketsByClient = new Int32Array(buckets).fill(-1);
    this.bucketsByNat = new Int32Array(buckets).fill(-1);
  }

  /** The entry mapping this client transport address, or -1. */
  findByClient(protocol: number, a0: number, a1: number, a2: number, a3: number, port: number): number {
    const address = this.clients.address;
    let i = this.bucketsByClient[this.hash.transport6(protocol, a0, a1, a2, a3, port) & (this.bucketsByClient.length - 1)]!;
    while (i >= 0) {
      if (this.clientPort[i] === port && this.protocol[i] === protocol) {
        const o = this.client[i]! * 4;
        if (address[o] === a0 && address[o + 1] === a1 && address[o + 2] === a2 && address[o + 3] === a3) return i;
      }
      i = this.nextByClient[i]!;
    }
    return -1;
  }

  /** The entry holding this NAT transport address, or -1. */
  findByNat(protocol: number, natAddress: number, natPort: number): number {
    let i = this.bucketsByNat[this.hash.transport4(protocol, natAddress, natPort) & (this.bucketsByNat.length - 1)]!;
    while (i >= 0) {
      if (this.natPort[i] === natPort && this.natAddress[i] === natAddress && this.protocol[i] === protocol) return i;
      i = this.nextByNat[i]!;
    }
    return -1;
  }

  /** Adds an entry; the caller has checked that neither side is in use. */
  insert(
    protocol: number,
    client: number,
    clientPort: number,
    natAddress: number,
    natPort: number,
    poolIndex: number,
    flags: number,
  ): number {
    let i = this.freeHead;
    if (i >= 0) {
      this.freeHead = this.nextByClient[i]!;
    } else {
      if (this.highWater === this.capacity) this.grow();
      i = this.highWater++;
    }
    this.protocol[i] = protocol;
    this.flags[i] = flags;
    this.client[i] = client;
    this.clientPort[i] = clientPort;
    this.natAddress[i] = natAddress;
    this.natPort[i] = natPort;
    this.poolIndex[i] = poolIndex;
    this.sessionHead[i] = -1;
    this.count++;
    // A rehash links every live entry, this one included.
    if (this.count > this.bucketsByClient.length) this.rehash(this.bucketsByClient.length * 2);
    else this.link(i);
    return i;
  }

  remove(i: number): void {
    const byClient = this.clientBucket(i);
    let j = this.bucketsByClient[byClient]!;
    if (j === i) {
      this.bucketsByClient[byClient] = this.nextByClient[i]!;
    } else {
      while (this.nextByClient[j]! !== i) j = this.nextByClient[j]!;
      this.nextByClient[j] = this.nextByClient[i]!;
    }
    const byNat = this.natBucket(i);
    j = this.bucketsByNat[byNat]!;
    if (j === i) {
      this.bucketsByNat[byNat] = this.nextByNat[i]!;
    } else {
      while (this.nextByNat[j]! !== i) j = this.nextByNat[j]!;
      this.nextByNat[j] = this.nextByNat[i]!;
    }
    this.protocol[i] = 0;
    this.nextByClient[i] = this.freeHead;
    this.nextByNat[i] = -1;
    this.freeHead = i;
    this.count--;
  }

  bytesAllocated(): number {
    return (
      this.protocol.byteLength +
      this.flags.byteLength +
      this.client.byteLength +
      this.clientPort.byteLength +
      this.natAddress.byteLength +
      this.natPort.byteLength +
      this.poolIndex.byteLength +
      this.sessionHead.byteLength +
      this.nextByClient.byteLength +
      this.nextByNat.byteLength +
      this.bucketsByClient.byteLength +
      this.bucketsByNat.byteLength
    );
  }

  private clientBucket(i: number): number {
    const address = this.clients.address;
    const o = this.client[i]! * 4;
    return (
      this.hash.transport6(this.protocol[i]!, address[o]!, address[o + 1]!, address[o + 2]!, address[o + 3]!, this.clientPort[i]!) &
      (this.bucketsByClient.length - 1)
    );
  }

  private natBucket(i: number): number {
    return this.hash.transport4(this.protocol[i]!, this.natAddress[i]!, this.natPort[i]!) & (this.bucketsByNat.length - 1);
  }

  private link(i: number): void {
    const byClient = this.clientBucket(i);
    this.nextByClient[i] = this.bucketsByClient[byClient]!;
    this.bucketsByClient[byClient] = i;
    const byNat = this.natBucket(i);
    this.nextByNat[i] = this.bucketsByNat[byNat]!;
    this.bucketsByNat[byNat] = i;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    this.protocol = grown(this.protocol, capacity);
    this.flags = grown(this.flags, capacity);
    this.client = grown(this.client, capacity);
    this.clientPort = grown(this.clientPort, capacity);
    this.natAddress = grown(this.natAddress, capacity);
    this.natPort = grown(this.natPort, capacity);
    this.poolIndex = grown(this.poolIndex, capacity);
    this.sessionHead = grown(this.sessionHead, capacity, -1);
    this.nextByClient = grown(this.nextByClient, capacity, -1);
    this.nextByNat = grown(this.nextByNat, capacity, -1);
    this.capacity = capacity;
  }

  private rehash(size: number): void {
    this.bucketsByClient = new Int32Array(size).fill(-1);
    this.bucketsByNat = new Int32Array(size).fill(-1);
    for (let i = 0; i < this.highWater; i++) if (this.protocol[i]! !== 0) this.link(i);
  }
}
