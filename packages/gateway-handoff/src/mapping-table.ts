// The mappings the gateway has reported to each host (handoff v1 section 5.3: one entry per BIB
// entry and host, however many sessions): records in typed arrays with a free list, found from the
// NAT64 table's BIB entry they were made on (a list of records per BIB slot, one record per host, so
// a new session, a deletion and an ACK find their record without hashing), and kept on one list per
// peer (NAT address, host) so a peer's records can be walked when it comes up or goes down. A record
// lives no longer than its BIB entry: a mapping ends with its last session, and a BIB entry with its
// last session; removeBib() drops what a BIB entry leaves behind all the same, so a reused BIB slot
// never finds an older entry's records. Nothing is allocated per record: a million records are a few
// typed arrays, not a million map entries for the garbage collector to trace on every major collection.

import { PREPARE_SLOTS, SlotTable, grown, grownIfAllowed } from '@nat64/nat64';

/** Record flag: an authoritative receiver acknowledged it; its sessions are a cache. */
export const RECORD_HANDED_OFF = 1;

/** Tokens are generation * 2^32 + slot; generations wrap below 2^21, so tokens stay safe integers. */
const TOKEN_SPLIT = 2 ** 32;
const GENERATIONS = 2 ** 21;

/** The list of one peer's records. */
interface PeerRecords {
  head: number;
  count: number;
}

/**
 * Records of (BIB entry, host) with the entry's protocol, NAT address and NAT port: live sessions,
 * flags, the first session's server port and the creation time reported (µs). A slot index is valid
 * until the record is removed.
 */
export class MappingTable extends SlotTable {
  /** Live sessions of the mapping toward its host. */
  live = new Uint32Array(0);
  flags = new Uint8Array(0);
  serverPort = new Uint16Array(0);
  /** Creation time as reported in CREATED, in µs since 1970 (handoff v1 section 5.3). */
  time = new Float64Array(0);
  natAddress = new Uint32Array(0);
  host = new Uint32Array(0);
  protocol = new Uint8Array(0);
  natPort = new Uint16Array(0);
  /** The table's BIB entry the record belongs to. */
  bib = new Int32Array(0);
  /** Bumped each time a slot's record is removed: a token names one record, not whatever holds its slot later. */
  private generation = new Uint32Array(0);
  /** Links of the peer lists; the next link is the free-list link of free slots. */
  private peerNext = new Int32Array(0);
  private peerPrev = new Int32Array(0);
  /** Links of the lists per BIB entry. */
  private bibNext = new Int32Array(0);
  /**
   * The first record of each BIB slot, or -1 below `bibsPrepared`: reserved like the records, prepared a
   * chunk at a time as higher BIB slots come, doubled past its reservation.
   */
  private bibHead: Int32Array;
  private bibsPrepared = 0;
  /**
   * Peers by NAT address, then host: there are few of them, so maps are fine here. Keys as int32
   * (`| 0`), which V8 keeps unboxed; an address above 2^31 would otherwise be a heap number per lookup.
   */
  private readonly peers = new Map<number, Map<number, PeerRecords>>();
  /** The peer of the last add(): records of a batch mostly go to the same one. */
  private lastPeer: PeerRecords | null = null;
  private lastNat = 0;
  private lastHost = 0;

  /**
   * Slots reserved for `bound` records and BIB slots (SlotTable.reserve), or where that is refused,
   * `initialCapacity` that double. A record has a live session, so the table's session maximum bounds
   * both (static BIB entries past it double the BIB heads).
   */
  constructor(bound = 1024, initialCapacity = Math.min(bound, 1024)) {
    super();
    this.reserve(initialCapacity, bound);
    // As many as the records got: the bound, or the initial capacity where the bound was refused.
    this.bibHead = new Int32Array(this.capacity);
  }

  /** The slot of the record of BIB entry `b` toward `host`, or -1. */
  find(b: number, host: number): number {
    if (b < 0 || b >= this.bibsPrepared) return -1;
    const hosts = this.host;
    const next = this.bibNext;
    for (let slot = this.bibHead[b]!; slot >= 0; slot = next[slot]!) if (hosts[slot] === host) return slot;
    return -1;
  }

  /** A number naming the record in `slot` until it is removed (the agent's `ref` for its entry). */
  token(slot: number): number {
    return this.generation[slot]! * TOKEN_SPLIT + slot;
  }

  /** The slot of the record a token names, or -1 if that record has been removed since. */
  slotOf(token: number): number {
    const slot = token % TOKEN_SPLIT;
    if (!(slot >= 0 && slot < this.highWater) || this.bib[slot]! < 0) return -1;
    return this.generation[slot] === Math.floor(token / TOKEN_SPLIT) ? slot : -1;
  }

  /** The first record of BIB entry `b`, or -1; nextOfBib() gives the ones after it. */
  firstOfBib(b: number): number {
    return b >= 0 && b < this.bibsPrepared ? this.bibHead[b]! : -1;
  }

  nextOfBib(slot: number): number {
    return this.bibNext[slot]!;
  }

  /**
   * Adds a record with one live session on BIB entry `b` (whose key is protocol, NAT address and NAT
   * port); the caller has checked there is none toward this host.
   */
  add(b: number, natAddress: number, host: number, protocol: number, natPort: number, serverPort: number, time: number, flags: number): number {
    const slot = this.takeSlot(this.peerNext);
    this.live[slot] = 1;
    this.flags[slot] = flags;
    this.serverPort[slot] = serverPort;
    this.time[slot] = time;
    this.natAddress[slot] = natAddress;
    this.host[slot] = host;
    this.protocol[slot] = protocol;
    this.natPort[slot] = natPort;
    this.bib[slot] = b;
    if (b >= this.bibsPrepared) this.prepareBibs(b);
    this.bibNext[slot] = this.bibHead[b]!;
    this.bibHead[b] = slot;
    const peer = this.peerFor(natAddress | 0, host | 0);
    this.peerPrev[slot] = -1;
    this.peerNext[slot] = peer.head;
    if (peer.head >= 0) this.peerPrev[peer.head] = slot;
    peer.head = slot;
    peer.count++;
    return slot;
  }

  /** Removes the record in `slot`; a peer left without records is forgotten. */
  remove(slot: number): void {
    const b = this.bib[slot]!;
    const bibNext = this.bibNext;
    if (this.bibHead[b] === slot) {
      this.bibHead[b] = bibNext[slot]!;
    } else {
      let before = this.bibHead[b]!;
      while (bibNext[before] !== slot) before = bibNext[before]!;
      bibNext[before] = bibNext[slot]!;
    }
    const natAddress = this.natAddress[slot]! | 0;
    const host = this.host[slot]! | 0;
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
      if (peer === this.lastPeer) this.lastPeer = null;
    }
    this.live[slot] = 0;
    this.flags[slot] = 0;
    this.bib[slot] = -1;
    bibNext[slot] = -1;
    this.generation[slot] = (this.generation[slot]! + 1) % GENERATIONS;
    this.freeSlot(slot, this.peerNext);
  }

  /** Removes every record of BIB entry `b` (its slot is about to be freed); returns how many there were. */
  removeBib(b: number): number {
    let removed = 0;
    for (let slot = this.firstOfBib(b); slot >= 0; slot = this.firstOfBib(b)) {
      this.remove(slot);
      removed++;
    }
    return removed;
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

  /** Bytes of the arrays in use (SlotTable.inUse; the BIB heads prepared so far). */
  bytesAllocated(): number {
    return (
      this.bibsPrepared * Int32Array.BYTES_PER_ELEMENT +
      this.inUse(
        this.live.byteLength +
          this.flags.byteLength +
          this.serverPort.byteLength +
          this.time.byteLength +
          this.natAddress.byteLength +
          this.host.byteLength +
          this.protocol.byteLength +
          this.natPort.byteLength +
          this.bib.byteLength +
          this.generation.byteLength +
          this.peerNext.byteLength +
          this.peerPrev.byteLength +
          this.bibNext.byteLength,
      )
    );
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

  /** Records and BIB heads for a session maximum raised at runtime, now (SlotTable.reserveUpTo). */
  override reserveUpTo(bound: number): void {
    super.reserveUpTo(bound);
    // Refused: the heads double when a BIB slot past them comes, as before.
    if (this.capacity >= bound && this.bibHead.length < bound) this.bibHead = grownIfAllowed(this.bibHead, bound);
  }

  /** BIB heads up to `b` at least, a chunk ahead, set to -1; doubled first if `b` is past them. */
  private prepareBibs(b: number): void {
    if (b >= this.bibHead.length) {
      let capacity = Math.max(16, this.bibHead.length * 2);
      while (capacity <= b) capacity *= 2;
      this.bibHead = grown(this.bibHead, capacity);
    }
    const end = Math.min(this.bibHead.length, Math.max(b + 1, this.bibsPrepared + PREPARE_SLOTS));
    this.bibHead.fill(-1, this.bibsPrepared, end);
    this.bibsPrepared = end;
  }

  protected grow(capacity: number): void {
    this.live = grown(this.live, capacity);
    this.flags = grown(this.flags, capacity);
    this.serverPort = grown(this.serverPort, capacity);
    this.time = grown(this.time, capacity);
    this.natAddress = grown(this.natAddress, capacity);
    this.host = grown(this.host, capacity);
    this.protocol = grown(this.protocol, capacity);
    this.natPort = grown(this.natPort, capacity);
    this.bib = grown(this.bib, capacity);
    this.generation = grown(this.generation, capacity);
    this.peerNext = grown(this.peerNext, capacity);
    this.peerPrev = grown(this.peerPrev, capacity);
    this.bibNext = grown(this.bibNext, capacity);
  }

  protected prepare(start: number, end: number): void {
    this.bib.fill(-1, start, end);
    this.peerNext.fill(-1, start, end);
    this.peerPrev.fill(-1, start, end);
    this.bibNext.fill(-1, start, end);
  }
}
