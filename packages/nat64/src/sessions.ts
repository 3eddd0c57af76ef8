// The session tables (RFC 6146 3.2): one entry per flow, a BIB entry plus the server transport address, with
// the TCP state and the timer. Indexed twice in chained hash tables over typed arrays: outbound by (protocol,
// client address, client port, server address, server port) and inbound by (protocol, NAT address, NAT port,
// server address, server port). Neither key goes through the BIB index, so a later per-host mapping mode
// (one NAT port toward different servers for different clients) needs no new index. Each entry is also on
// its BIB entry's session list and on one timer list (timers.ts).

import { readU32 } from '@nat64/wire';
import type { BibTable } from './bib.js';
import type { ClientTable } from './clients.js';
import { ChainedIndex } from './chained-index.js';
import { grown } from './grow.js';
import type { KeyedHash } from './hash.js';
import { SlotTable } from './slot-table.js';

/** Session flag: handed off to its server's receiver; kept only as a cache. */
export const SESSION_HANDED_OFF = 1;
/** Session flag: TCP, entered TRANS through a RST (RFC 6146 3.5.2.2 ESTABLISHED), for the deletion reason. */
export const SESSION_RST = 2;

/** Timer lists: one per timer class, doubled for handed-off sessions so the LRU of those is a list head. */
export const TIMER_LIST_COUNT = 8;
export const HANDED_OFF_LIST_OFFSET = 4;

export class SessionTable extends SlotTable {
  /** IP protocol number; 0 marks a free slot. */
  protocol = new Uint8Array(0);
  /** TCP state (TCP_STATE); CLOSED for UDP and ICMP. */
  state = new Uint8Array(0);
  flags = new Uint8Array(0);
  /** The timer list this session is on. */
  list = new Uint8Array(0);
  /** Incremented when the slot is freed, so a token (handle + generation) can tell reuse apart. */
  generation = new Uint16Array(0);
  bib = new Int32Array(0);
  serverAddress = new Uint32Array(0);
  serverPort = new Uint16Array(0);
  /** Time of last use in milliseconds (the timer list is ordered by it). */
  lastUse = new Float64Array(0);
  timerNext = new Int32Array(0);
  timerPrev = new Int32Array(0);
  /** The outbound index (client and server transport addresses); its chain link is the free-list link of free slots. */
  readonly outIndex: ChainedIndex;
  /** The inbound index (NAT and server transport addresses). */
  readonly inIndex: ChainedIndex;
  /** Links of the BIB entry's session list. */
  bibNext = new Int32Array(0);
  bibPrev = new Int32Array(0);
  readonly listHead = new Int32Array(TIMER_LIST_COUNT).fill(-1);
  readonly listTail = new Int32Array(TIMER_LIST_COUNT).fill(-1);
  /** Sessions per protocol number (index 1, 6, 17 used). */
  readonly perProtocol = new Int32Array(18);
  handedOff = 0;

  /** Slots reserved for `bound` sessions (SlotTable.reserve); the indexes' buckets start at `initialCapacity`. */
  constructor(
    private readonly hash: KeyedHash,
    private readonly clients: ClientTable,
    private readonly bibs: BibTable,
    initialCapacity: number,
    bound = initialCapacity,
  ) {
    super();
    this.outIndex = new ChainedIndex(0, initialCapacity);
    this.inIndex = new ChainedIndex(0, initialCapacity);
    this.reserve(initialCapacity, bound);
  }

  /** The session with this outbound key, or -1; the client address is read from `clientAddress` at `offset`. */
  findOut(protocol: number, clientAddress: Uint8Array, offset: number, clientPort: number, serverAddress: number, serverPort: number): number {
    const a0 = readU32(clientAddress, offset);
    const a1 = readU32(clientAddress, offset + 4);
    const a2 = readU32(clientAddress, offset + 8);
    const a3 = readU32(clientAddress, offset + 12);
    const bibs = this.bibs;
    const address = this.clients.address;
    const h = this.hash.session6(protocol, a0 | 0, a1 | 0, a2 | 0, a3 | 0, clientPort, serverAddress | 0, serverPort);
    const index = this.outIndex;
    const next = index.next;
    const hashes = index.hashes;
    let i = index.head(h);
    while (i >= 0) {
      if (hashes[i] === h && this.serverPort[i] === serverPort && this.serverAddress[i] === serverAddress && this.protocol[i] === protocol) {
        const b = this.bib[i]!;
        if (bibs.clientPort[b] === clientPort) {
          const o = bibs.client[b]! * 4;
          if (address[o] === a0 && address[o + 1] === a1 && address[o + 2] === a2 && address[o + 3] === a3) return i;
        }
      }
      i = next[i]!;
    }
    return -1;
  }

  /** The session with this inbound key, or -1. */
  findIn(protocol: number, natAddress: number, natPort: number, serverAddress: number, serverPort: number): number {
    const bibs = this.bibs;
    const index = this.inIndex;
    const next = index.next;
    const hashes = index.hashes;
    const h = this.hash.session4(protocol, natAddress | 0, natPort, serverAddress | 0, serverPort);
    let i = index.head(h);
    while (i >= 0) {
      if (hashes[i] === h && this.serverPort[i] === serverPort && this.serverAddress[i] === serverAddress && this.protocol[i] === protocol) {
        const b = this.bib[i]!;
        if (bibs.natPort[b] === natPort && bibs.natAddress[b] === natAddress) return i;
      }
      i = next[i]!;
    }
    return -1;
  }

  /**
   * Adds a session of BIB entry `bib` toward the server; the caller has checked that neither key is in use.
   * It is on no timer list yet.
   */
  insert(protocol: number, bib: number, serverAddress: number, serverPort: number, state: number, flags: number): number {
    const i = this.takeSlot(this.outIndex.next);
    this.protocol[i] = protocol;
    this.state[i] = state;
    this.flags[i] = flags;
    this.bib[i] = bib;
    this.serverAddress[i] = serverAddress;
    this.serverPort[i] = serverPort;
    this.timerNext[i] = -1;
    this.timerPrev[i] = -1;
    const head = this.bibs.sessionHead[bib]!;
    this.bibPrev[i] = -1;
    this.bibNext[i] = head;
    if (head >= 0) this.bibPrev[head] = i;
    this.bibs.sessionHead[bib] = i;
    this.perProtocol[protocol]!++;
    this.outIndex.add(i, this.outHash(i), this.count);
    this.inIndex.add(i, this.inHash(i), this.count);
    return i;
  }

  /** Unlinks the session from both indexes and its BIB entry's list; the caller has taken it off its timer list. */
  remove(i: number): void {
    this.outIndex.remove(i);
    this.inIndex.remove(i);
    const prev = this.bibPrev[i]!;
    const next = this.bibNext[i]!;
    if (prev >= 0) this.bibNext[prev] = next;
    else this.bibs.sessionHead[this.bib[i]!] = next;
    if (next >= 0) this.bibPrev[next] = prev;
    this.perProtocol[this.protocol[i]!]!--;
    if ((this.flags[i]! & SESSION_HANDED_OFF) !== 0) this.handedOff--;
    this.protocol[i] = 0;
    this.flags[i] = 0;
    this.generation[i] = (this.generation[i]! + 1) & 0xffff;
    this.freeSlot(i, this.outIndex.next);
  }

  /** Bytes of the arrays in use (SlotTable.inUse). */
  bytesAllocated(): number {
    const slots = this.inUse(
      this.protocol.byteLength +
        this.state.byteLength +
        this.flags.byteLength +
        this.list.byteLength +
        this.generation.byteLength +
        this.bib.byteLength +
        this.serverAddress.byteLength +
        this.serverPort.byteLength +
        this.lastUse.byteLength +
        this.timerNext.byteLength +
        this.timerPrev.byteLength +
        this.bibNext.byteLength +
        this.bibPrev.byteLength +
        this.outIndex.slotBytes() +
        this.inIndex.slotBytes(),
    );
    return slots + this.outIndex.bucketBytes() + this.inIndex.bucketBytes();
  }

  private outHash(i: number): number {
    const bibs = this.bibs;
    const address = this.clients.address;
    const b = this.bib[i]!;
    const o = bibs.client[b]! * 4;
    return this.hash.session6(
      this.protocol[i]!,
      address[o]! | 0,
      address[o + 1]! | 0,
      address[o + 2]! | 0,
      address[o + 3]! | 0,
      bibs.clientPort[b]!,
      this.serverAddress[i]! | 0,
      this.serverPort[i]!,
    );
  }

  private inHash(i: number): number {
    const b = this.bib[i]!;
    return this.hash.session4(this.protocol[i]!, this.bibs.natAddress[b]! | 0, this.bibs.natPort[b]!, this.serverAddress[i]! | 0, this.serverPort[i]!);
  }

  protected grow(n: number): void {
    this.protocol = grown(this.protocol, n);
    this.state = grown(this.state, n);
    this.flags = grown(this.flags, n);
    this.list = grown(this.list, n);
    this.generation = grown(this.generation, n);
    this.bib = grown(this.bib, n);
    this.serverAddress = grown(this.serverAddress, n);
    this.serverPort = grown(this.serverPort, n);
    this.lastUse = grown(this.lastUse, n);
    this.timerNext = grown(this.timerNext, n);
    this.timerPrev = grown(this.timerPrev, n);
    this.outIndex.grow(n);
    this.inIndex.grow(n);
    this.bibNext = grown(this.bibNext, n);
    this.bibPrev = grown(this.bibPrev, n);
  }

  protected prepare(start: number, end: number): void {
    this.timerNext.fill(-1, start, end);
    this.timerPrev.fill(-1, start, end);
    this.bibNext.fill(-1, start, end);
    this.bibPrev.fill(-1, start, end);
    this.outIndex.prepare(start, end);
    this.inIndex.prepare(start, end);
    // Read (tokens, removal) before the slot's first removal writes it.
    this.generation.fill(0, start, end);
  }
}
