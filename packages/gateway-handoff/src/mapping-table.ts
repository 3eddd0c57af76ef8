// The mappings the gateway has reported to each host (handoff v1 section 5.3: one entry per BIB
// entry and host, however many sessions): records in typed arrays with a free list, found through a
// hash index over (NAT address, host, protocol, NAT port), and kept on one list per peer (NAT
// address, host) so a peer's records can be walked when it comes up or goes down. Nothing is
// allocated per record: a million records are a few typed arrays, not a million map entries for the
// garbage collector to trace on every major collection.

import { ChainedIndex, KeyedHash, grown } from '@nat64/nat64';

/** Record flag: an authoritative receiver acknowledged it; its sessions are a cache. */
export const RECORD_HANDED_OFF = 1;

/** The list of one peer's records. */
interface PeerRecords {
  head: number;
  count: number;
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
  /** The table's BIB entry the record was made on, a hint its owner sets (the slot is checked before use); -1 when unknown. */
  bib: Int32Array;
  count = 0;
  /** Links of the peer lists; the next link is the free-list link of free slots. */
  private peerNext: Int32Array;
  private peerPrev: Int32Array;
  private readonly index: ChainedIndex;
  /**
   * Peers by NAT address, then host: there are few of them, so maps are fine here. Keys as int32
   * (`| 0`), which V8 keeps unboxed; an address above 2^31 would otherwise be a heap number per lookup.
   */
  private readonly peers = new Map<number, Map<number, PeerRecords>>();
  /** The peer of the last add(): records of a batch mostly go to the same one. */
  private lastPeer: PeerRecords | null = null;
  private lastNat = 0;
  private lastHost = 0;
  /** Keyed, so that hosts a client picks cannot be aimed at one chain. */
  private readonly keyed = new KeyedHash();
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
    this.bib = new Int32Array(initialCapacity).fill(-1);
    this.peerNext = new Int32Array(initialCapacity).fill(-1);
    this.peerPrev = new Int32Array(initialCapacity).fill(-1);
    this.index = new ChainedIndex(initialCapacity);
  }

  /** The slot of a record, or -1. */
  find(natAddress: number, host: number, protocol: number, natPort: number): number {
    return this.findHashed(this.hash(natAddress, host, protocol, natPort), natAddress, host, protocol, natPort);
  }

  /** find() with the key's hash from hash(), for a caller that may add() the same key next. */
  findHashed(h: number, natAddress: number, host: number, protocol: number, natPort: number): number {
    const { next, hashes } = this.index;
    for (let i = this.index.head(h); i >= 0; i = next[i]!) {
      if (hashes[i] === h && this.natPort[i] === natPort && this.host[i] === host && this.natAddress[i] === natAddress && this.protocol[i] === protocol)
        return i;
    }
    return -1;
  }

  /** Adds a record with one live session; the caller has checked there is none for this key. `h`: the key's hash(), if known. */
  add(
    natAddress: number,
    host: number,
    protocol: number,
    natPort: number,
    serverPort: number,
    time: number,
    flags: number,
    h = this.hash(natAddress, host, protocol, natPort),
  ): number {
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
    this.bib[slot] = -1;
    const peer = this.peerFor(natAddress | 0, host | 0);
    this.peerPrev[slot] = -1;
    this.peerNext[slot] = peer.head;
    if (peer.head >= 0) this.peerPrev[peer.head] = slot;
    peer.head = slot;
    peer.count++;
    this.count++;
    this.index.add(slot, h, this.count);
    return slot;
  }

  /** Removes a record if there is one; a peer left without records is forgotten. */
  remove(natAddress: number, host: number, protocol: number, natPort: number): void {
    const slot = this.find(natAddress, host, protocol, natPort);
    if (slot < 0) return;
    this.index.remove(slot);
    const byHost = this.peers.get(natAddress | 0)!;
    const peer = byHost.get(host | 0)!;
    const prev = this.peerPrev[slot]!;
    const next = this.peerNext[slot]!;
    if (prev >= 0) this.peerNext[prev] = next;
    else peer.head = next;
    if (next >= 0) this.peerPrev[next] = prev;
    if (--peer.count === 0) {
      byHost.delete(host | 0);
      if (byHost.size === 0) this.peers.delete(natAddress | 0);
      if (peer === this.lastPeer) this.lastPeer = null;
    }
    this.live[slot] = 0;
    this.flags[slot] = 0;
    this.peerNext[slot] = this.freeHead;
    this.freeHead = slot;
    this.count--;
  }

  /** The first record of a peer, or -1; nextOfPeer() gives the ones after it. Walk without removing records. */
  firstOfPeer(natAddress: number, host: number): number {
    return this.peers.get(natAddress | 0)?.get(host | 0)?.head ?? -1;
  }

  nextOfPeer(slot: number): number {
    return this.peerNext[slot]!;
  }

  /** Records of one peer. */
  peerCount(natAddress: number, host: number): number {
    return this.peers.get(natAddress | 0)?.get(host | 0)?.count ?? 0;
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
      this.bib.byteLength +
      this.peerNext.byteLength +
      this.peerPrev.byteLength +
      this.index.bytesAllocated()
    );
  }

  /** The keyed hash of a record's key. */
  hash(natAddress: number, host: number, protocol: number, natPort: number): number {
    return this.keyed.session4(protocol, natAddress, natPort, host, 0);
  }

  /** The records of peer (nat, host), both as int32, made if there are none. */
  private peerFor(nat: number, host: number): PeerRecords {
    const last = this.lastPeer;
    if (last !== null && this.lastNat === nat && this.lastHost === host) return last;
    let byHost = this.peers.get(nat);
    if (byHost === undefined) {
      byHost = new Map();
      this.peers.set(nat, byHost);
    }
    let peer = byHost.get(host);
    if (peer === undefined) {
      peer = { head: -1, count: 0 };
      byHost.set(host, peer);
    }
    this.lastPeer = peer;
    this.lastNat = nat;
    this.lastHost = host;
    return peer;
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
    this.bib = grown(this.bib, capacity, -1);
    this.peerNext = grown(this.peerNext, capacity, -1);
    this.peerPrev = grown(this.peerPrev, capacity, -1);
    this.index.grow(capacity);
  }
}
