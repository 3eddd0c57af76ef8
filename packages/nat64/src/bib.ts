// The Binding Information Base (RFC 6146 3.1): one entry per mapping of a client transport address
// (protocol, IPv6 address, port) to a NAT transport address (protocol, pool4 address, port). Indexed twice,
// by each side, in chained hash tables over typed arrays. An entry also heads the list of its sessions.

import type { ClientTable } from './clients.js';
import { ChainedIndex } from './chained-index.js';
import { grown } from './grow.js';
import type { KeyedHash } from './hash.js';
import { SlotTable } from './slot-table.js';

/** Entry flag: configured, never expires (RFC 6146 3.5.1 "static"). */
export const BIB_STATIC = 1;

export class BibTable extends SlotTable {
  /** IP protocol number; 0 marks a free slot. */
  protocol = new Uint8Array(0);
  flags = new Uint8Array(0);
  /** Client record (ClientTable index), which holds the IPv6 address. */
  client = new Int32Array(0);
  clientPort = new Uint16Array(0);
  natAddress = new Uint32Array(0);
  natPort = new Uint16Array(0);
  /** Index of natAddress in pool4. */
  poolIndex = new Uint16Array(0);
  /** First session of this entry (SessionTable index), or -1. */
  sessionHead = new Int32Array(0);
  /** The IPv6-side index (client transport address); its chain link is the free-list link of free slots. */
  readonly byClient: ChainedIndex;
  /** The IPv4-side index (NAT transport address). */
  readonly byNat: ChainedIndex;

  /** Slots reserved for `bound` entries (SlotTable.reserve); the indexes' buckets start at `initialCapacity`. */
  constructor(
    private readonly hash: KeyedHash,
    private readonly clients: ClientTable,
    initialCapacity: number,
    bound = initialCapacity,
  ) {
    super();
    this.byClient = new ChainedIndex(0, initialCapacity);
    this.byNat = new ChainedIndex(0, initialCapacity);
    this.reserve(initialCapacity, bound);
  }

  /** The entry mapping this client transport address, or -1. */
  findByClient(protocol: number, a0: number, a1: number, a2: number, a3: number, port: number): number {
    const address = this.clients.address;
    const index = this.byClient;
    const next = index.next;
    const hashes = index.hashes;
    const h = this.hash.transport6(protocol, a0 | 0, a1 | 0, a2 | 0, a3 | 0, port);
    let i = index.head(h);
    while (i >= 0) {
      if (hashes[i] === h && this.clientPort[i] === port && this.protocol[i] === protocol) {
        const o = this.client[i]! * 4;
        if (address[o] === a0 && address[o + 1] === a1 && address[o + 2] === a2 && address[o + 3] === a3) return i;
      }
      i = next[i]!;
    }
    return -1;
  }

  /** The entry holding this NAT transport address, or -1. */
  findByNat(protocol: number, natAddress: number, natPort: number): number {
    const index = this.byNat;
    const next = index.next;
    const hashes = index.hashes;
    const h = this.hash.transport4(protocol, natAddress | 0, natPort);
    let i = index.head(h);
    while (i >= 0) {
      if (hashes[i] === h && this.natPort[i] === natPort && this.natAddress[i] === natAddress && this.protocol[i] === protocol) return i;
      i = next[i]!;
    }
    return -1;
  }

  /** Adds an entry; the caller has checked that neither side is in use. */
  insert(protocol: number, client: number, clientPort: number, natAddress: number, natPort: number, poolIndex: number, flags: number): number {
    const i = this.takeSlot(this.byClient.next);
    this.protocol[i] = protocol;
    this.flags[i] = flags;
    this.client[i] = client;
    this.clientPort[i] = clientPort;
    this.natAddress[i] = natAddress;
    this.natPort[i] = natPort;
    this.poolIndex[i] = poolIndex;
    this.sessionHead[i] = -1;
    const address = this.clients.address;
    const o = client * 4;
    this.byClient.add(
      i,
      this.hash.transport6(protocol, address[o]! | 0, address[o + 1]! | 0, address[o + 2]! | 0, address[o + 3]! | 0, clientPort),
      this.count,
    );
    this.byNat.add(i, this.hash.transport4(protocol, natAddress | 0, natPort), this.count);
    return i;
  }

  remove(i: number): void {
    this.byClient.remove(i);
    this.byNat.remove(i);
    this.protocol[i] = 0;
    this.freeSlot(i, this.byClient.next);
  }

  /** Bytes of the arrays in use (SlotTable.inUse). */
  bytesAllocated(): number {
    const slots = this.inUse(
      this.protocol.byteLength +
        this.flags.byteLength +
        this.client.byteLength +
        this.clientPort.byteLength +
        this.natAddress.byteLength +
        this.natPort.byteLength +
        this.poolIndex.byteLength +
        this.sessionHead.byteLength +
        this.byClient.slotBytes() +
        this.byNat.slotBytes(),
    );
    return slots + this.byClient.bucketBytes() + this.byNat.bucketBytes();
  }

  protected grow(capacity: number): void {
    this.protocol = grown(this.protocol, capacity);
    this.flags = grown(this.flags, capacity);
    this.client = grown(this.client, capacity);
    this.clientPort = grown(this.clientPort, capacity);
    this.natAddress = grown(this.natAddress, capacity);
    this.natPort = grown(this.natPort, capacity);
    this.poolIndex = grown(this.poolIndex, capacity);
    this.sessionHead = grown(this.sessionHead, capacity);
    this.byClient.grow(capacity);
    this.byNat.grow(capacity);
  }

  protected prepare(start: number, end: number): void {
    this.sessionHead.fill(-1, start, end);
    this.byClient.prepare(start, end);
    this.byNat.prepare(start, end);
  }
}
