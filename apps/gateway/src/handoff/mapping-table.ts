// The mappings the gateway has reported to each host (handoff v1 section 5.3: one entry per BIB
// entry and host, however many sessions): records in typed arrays with a free list, found through a
// hash index over (NAT address, host, protocol, NAT port), and kept on one list per peer (NAT
// address, host) so a peer's records can be walked when it comes up or goes down. Nothing is
// allocated per record: a million records are a few typed arrays, not a million map entries for the
// garbage collector to trace on every major collection.

import { randomBytes } from 'node:crypto';
import { ChainedIndex } from '@nat64/nat64';

/** Record flag: an authoritative receiver acknowledged it; its sessions are a cache. */
export const RECORD_HANDED_OFF = 1;

/** The list of one peer's records. */
interface PeerRecords {
  head: number;
  count: number;
}

/** One murmur3 round: word `k` into state `h`. */
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function grown<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(array: T, capacity: number): T {
  const next = new (array.constructor as new (n: number) => T)(capacity);
  next.set(array);
  return next;
}

/**
 * Records of (protocol, NAT address, NAT port, host): live sessions, flags, the first session's server
 * port and the creation time reported (µs). A slot index is valid until the record is removed.
 */
export class MappingTable {
  /** Live sessions of the mapping toward its host. */
  live: Uint32Array;
  flags: Uint8Array;
  serverPort: Uint16Array;
  /** Creation time as reported in CREATED, in µs since 1970 (handoff v1 section 5.3). */
  time: Float64Array;
  natAddress: Uint32Array;
  host: Uint32Array;
  protocol: Uint8Array;
  natPort: Uint16Array;
  count = 0;
  /** Links of the peer lists; the next link is the free-list link of free slots. */
  private peerNext: Int32Array;
  private peerPrev: Int32Array;
  private readonly index: ChainedIndex;
  /** Peers by NAT address, then host: there are few of them, so maps are fine here. */
  private readonly peers = new Map<number, Map<number, PeerRecords>>();
  /** Keys the hash, so that hosts a client picks cannot be aimed at one chain. */
  private readonly seed: number;
  private freeHead = -1;
  private highWater = 0;

  constructor(initialCapacity = 1024) {
    this.live = new Uint32Array(initialCapacity);
    this.flags = new Uint8Array(initialCapacity);
    this.serverPort = new Uint16Array(initialCapacity);
    this.time = new Float64Array(initialCapacity);
    this.natAddress = new Uint32Array(initialCapacity);
    this.host = new Uint32Array(initialCapacity);
    this.protocol = new Uint8Array(initialCapacity);
    this.natPort = new Uint16Array(initialCapacity);
    this.peerNext = new Int32Array(initialCapacity).fill(-1);
    this.peerPrev = new Int32Array(initialCapacity).fill(-1);
    this.index = new ChainedIndex(initialCapacity);
    this.seed = randomBytes(4).readUInt32LE(0);
  }

  /** The slot of a record, or -1. */
  find(natAddress: number, host: number, protocol: number, natPort: number): number {
    const h = this.hash(natAddress, host, protocol, natPort);
    const { next, hashes } = this.index;
    for (let i = this.index.head(h); i >= 0; i = next[i]!) {
      if (hashes[i] === h && this.natPort[i] === natPort && this.host[i] === host && this.natAddress[i] === natAddress && this.protocol[i] === protocol) return i;
    }
    return -1;
  }

  /** Adds a record with one live session; the caller has checked there is none for this key. */
  add(natAddress: number, host: number, protocol: number, natPort: number, serverPort: number, time: number, flags: number): number {
    let slot = this.freeHead;
    if (slot >= 0) {
      this.freeHead = this.peerNext[slot]!;
    } else {
      if (this.highWater === this.live.length) this.grow();
      slot = this.highWater++;
    }
    this.live[slot] = 1;
    this.flags[slot] = flags;
    this.serverPort[slot] = serverPort;
    this.time[slot] = time;
    this.natAddress[slot] = natAddress;
    this.host[slot] = host;
    this.protocol[slot] = protocol;
    this.natPort[slot] = natPort;
    let byHost = this.peers.get(natAddress);
    if (byHost === undefined) this.peers.set(natAddress, (byHost = new Map()));
    let peer = byHost.get(host);
    if (peer === undefined) byHost.set(host, (peer = { head: -1, count: 0 }));
    this.peerPrev[slot] = -1;
    this.peerNext[slot] = peer.head;
    if (peer.head >= 0) this.peerPrev[peer.head] = slot;
    peer.head = slot;
    peer.count++;
    this.count++;
    this.index.add(slot, this.hash(natAddress, host, protocol, natPort), this.count);
    return slot;
  }

  /** Removes a record if there is one; a peer left without records is forgotten. */
  remove(natAddress: number, host: number, protocol: number, natPort: number): void {
    const slot = this.find(natAddress, host, protocol, natPort);
    if (slot < 0) return;
    this.index.remove(slot);
    const byHost = this.peers.get(natAddress)!;
    const peer = byHost.get(host)!;
    const prev = this.peerPrev[slot]!;
    const next = this.peerNext[slot]!;
    if (prev >= 0) this.peerNext[prev] = next;
    else peer.head = next;
    if (next >= 0) this.peerPrev[next] = prev;
    if (--peer.count === 0) {
      byHost.delete(host);
      if (byHost.size === 0) this.peers.delete(natAddress);
    }
    this.live[slot] = 0;
    this.flags[slot] = 0;
    this.peerNext[slot] = this.freeHead;
    this.freeHead = slot;
    this.count--;
  }

  /** The first record of a peer, or -1; nextOfPeer() gives the ones after it. Walk without removing records. */
  firstOfPeer(natAddress: number, host: number): number {
    return this.peers.get(natAddress)?.get(host)?.head ?? -1;
  }

  nextOfPeer(slot: number): number {
    return this.peerNext[slot]!;
  }

  /** Records of one peer. */
  peerCount(natAddress: number, host: number): number {
    return this.peers.get(natAddress)?.get(host)?.count ?? 0;
  }

  bytesAllocated(): number {
    return (
      this.live.byteLength +
      this.flags.byteLength +
      this.serverPort.byteLength +
      this.time.byteLength +
      this.natAddress.byteLength +
      this.host.byteLength +
      this.protocol.byteLength +
      this.natPort.byteLength +
      this.peerNext.byteLength +
      this.peerPrev.byteLength +
      this.index.bytesAllocated()
    );
  }

  /** A murmur3-style mix of the key with the table's seed. */
  private hash(natAddress: number, host: number, protocol: number, natPort: number): number {
    let h = mix(mix(mix(this.seed, natAddress), host), (protocol << 16) | natPort);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  private grow(): void {
    const capacity = this.live.length * 2;
    this.live = grown(this.live, capacity);
    this.flags = grown(this.flags, capacity);
    this.serverPort = grown(this.serverPort, capacity);
    this.time = grown(this.time, capacity);
    this.natAddress = grown(this.natAddress, capacity);
    this.host = grown(this.host, capacity);
    this.protocol = grown(this.protocol, capacity);
    this.natPort = grown(this.natPort, capacity);
    const prev = this.peerPrev.length;
    this.peerNext = grown(this.peerNext, capacity);
    this.peerNext.fill(-1, prev);
    this.peerPrev = grown(this.peerPrev, capacity);
    this.peerPrev.fill(-1, prev);
    this.index.grow(capacity);
  }
}
