// The mappings the gateway has reported to each host (handoff v1 section 5.3: one entry per BIB
// entry and host, however many sessions): records in typed arrays with a free list, found through
// one small map per peer (NAT address, host) keyed by protocol and NAT port, so a peer's records can
// be walked when it comes up or goes down. Nothing is allocated per record but its map slot.

/** Record flag: an authoritative receiver acknowledged it; its sessions are a cache. */
export const RECORD_HANDED_OFF = 1;

/** The records of one peer, by mappingKey(protocol, natPort). */
export class PeerMappings {
  readonly records = new Map<number, number>();
  constructor(
    readonly natAddress: number,
    readonly host: number,
  ) {}
}

/** The key of a record within its peer. */
export function mappingKey(protocol: number, natPort: number): number {
  return protocol * 0x1_0000 + natPort;
}

export function keyProtocol(key: number): number {
  return Math.floor(key / 0x1_0000);
}

export function keyPort(key: number): number {
  return key & 0xffff;
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
  private nextFree: Int32Array;
  private freeHead = -1;
  private highWater = 0;
  count = 0;
  private readonly peers = new Map<number, Map<number, PeerMappings>>();

  constructor(initialCapacity = 1024) {
    this.live = new Uint32Array(initialCapacity);
    this.flags = new Uint8Array(initialCapacity);
    this.serverPort = new Uint16Array(initialCapacity);
    this.time = new Float64Array(initialCapacity);
    this.nextFree = new Int32Array(initialCapacity);
  }

  peer(natAddress: number, host: number): PeerMappings | undefined {
    return this.peers.get(natAddress)?.get(host);
  }

  /** The records of a peer, made empty if there are none (they are forgotten again when the last record goes). */
  peerOrNew(natAddress: number, host: number): PeerMappings {
    let byHost = this.peers.get(natAddress);
    if (byHost === undefined) this.peers.set(natAddress, (byHost = new Map()));
    let peer = byHost.get(host);
    if (peer === undefined) byHost.set(host, (peer = new PeerMappings(natAddress, host)));
    return peer;
  }

  /** The slot of a record, or -1. */
  find(natAddress: number, host: number, protocol: number, natPort: number): number {
    return this.peers.get(natAddress)?.get(host)?.records.get(mappingKey(protocol, natPort)) ?? -1;
  }

  /** Adds a record with one live session; the caller has checked there is none for this key. */
  add(natAddress: number, host: number, protocol: number, natPort: number, serverPort: number, time: number, flags: number): number {
    return this.addTo(this.peerOrNew(natAddress, host), mappingKey(protocol, natPort), serverPort, time, flags);
  }

  /** add() for a peer and key the caller already holds. */
  addTo(peer: PeerMappings, key: number, serverPort: number, time: number, flags: number): number {
    let slot = this.freeHead;
    if (slot >= 0) {
      this.freeHead = this.nextFree[slot]!;
    } else {
      if (this.highWater === this.live.length) this.grow();
      slot = this.highWater++;
    }
    this.live[slot] = 1;
    this.flags[slot] = flags;
    this.serverPort[slot] = serverPort;
    this.time[slot] = time;
    peer.records.set(key, slot);
    this.count++;
    return slot;
  }

  /** Removes a record; a peer left without records is forgotten. */
  remove(natAddress: number, host: number, protocol: number, natPort: number): void {
    const byHost = this.peers.get(natAddress);
    const peer = byHost?.get(host);
    const key = mappingKey(protocol, natPort);
    const slot = peer?.records.get(key);
    if (slot === undefined) return;
    peer!.records.delete(key);
    if (peer!.records.size === 0) {
      byHost!.delete(host);
      if (byHost!.size === 0) this.peers.delete(natAddress);
    }
    this.live[slot] = 0;
    this.flags[slot] = 0;
    this.nextFree[slot] = this.freeHead;
    this.freeHead = slot;
    this.count--;
  }

  /** Bytes of the typed arrays (the maps come on top: some tens of bytes per record). */
  bytesAllocated(): number {
    return this.live.byteLength + this.flags.byteLength + this.serverPort.byteLength + this.time.byteLength + this.nextFree.byteLength;
  }

  private grow(): void {
    const capacity = this.live.length * 2;
    this.live = grown(this.live, capacity);
    this.flags = grown(this.flags, capacity);
    this.serverPort = grown(this.serverPort, capacity);
    this.time = grown(this.time, capacity);
    this.nextFree = grown(this.nextFree, capacity);
  }
}
