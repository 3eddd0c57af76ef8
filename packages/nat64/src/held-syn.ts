// Held SYNs (RFC 6146 3.5.2.2, CLOSED state): an unsolicited IPv4 SYN that finds no BIB entry, or that
// address-dependent filtering refuses, is stored for TCP_INCOMING_SYN. An IPv6 SYN of the same connection in
// that time (simultaneous open, hole punching) discards it; otherwise it is handed back so the caller can
// send ICMP port unreachable for it. The RFC's V4 INIT session "with the IPv6 side left unspecified" is this
// record: it lets no other segment through, which is the conservative reading. Bounded in count, allocated
// up front; copies the packet (a rare path).

import { PROTOCOL, SPEC } from './constants.js';
import { powerOfTwoAtLeast } from './grow.js';
import { SlotFifo, unchain } from './slot-fifo.js';
import type { KeyedHash } from './hash.js';

export class HeldSyns {
  count = 0;
  readonly natAddress: Uint32Array;
  readonly natPort: Uint16Array;
  private readonly serverAddress: Uint32Array;
  private readonly serverPort: Uint16Array;
  private readonly heldAt: Float64Array;
  private readonly next: Int32Array;
  private readonly fifo: SlotFifo;
  private readonly buckets: Int32Array;
  private readonly packets: (Uint8Array | undefined)[];
  private freeHead: number;

  constructor(
    private readonly hash: KeyedHash,
    readonly capacity: number,
  ) {
    this.natAddress = new Uint32Array(capacity);
    this.natPort = new Uint16Array(capacity);
    this.serverAddress = new Uint32Array(capacity);
    this.serverPort = new Uint16Array(capacity);
    this.heldAt = new Float64Array(capacity);
    this.next = new Int32Array(capacity);
    this.fifo = new SlotFifo(capacity);
    this.buckets = new Int32Array(powerOfTwoAtLeast(capacity)).fill(-1);
    this.packets = new Array<Uint8Array | undefined>(capacity).fill(undefined);
    for (let i = 0; i < capacity; i++) this.next[i] = i + 1 < capacity ? i + 1 : -1;
    this.freeHead = capacity > 0 ? 0 : -1;
  }

  /** The record for this IPv4 connection (NAT side, server side), or -1. */
  find(natAddress: number, natPort: number, serverAddress: number, serverPort: number): number {
    if (this.count === 0) return -1;
    let i = this.buckets[this.bucket(natAddress, natPort, serverAddress, serverPort)]!;
    while (i >= 0) {
      if (this.natPort[i] === natPort && this.serverPort[i] === serverPort && this.natAddress[i] === natAddress && this.serverAddress[i] === serverAddress) {
        return i;
      }
      i = this.next[i]!;
    }
    return -1;
  }

  /**
   * The next record after `after` (-1: from the oldest) held for a SYN from this server transport address,
   * or -1. A scan of the store, bounded by its capacity; only opening a TCP mapping calls it.
   */
  nextFromServer(after: number, serverAddress: number, serverPort: number): number {
    const fifo = this.fifo;
    for (let i = after < 0 ? fifo.head : fifo.next[after]!; i >= 0; i = fifo.next[i]!) {
      if (this.serverAddress[i] === serverAddress && this.serverPort[i] === serverPort) return i;
    }
    return -1;
  }

  /**
   * Stores a copy of packet[start, end) (at most an ICMP error's worth) and returns its record, or -1 when
   * full. A retransmitted SYN finds its first copy held and keeps it, with its deadline.
   */
  hold(
    natAddress: number,
    natPort: number,
    serverAddress: number,
    serverPort: number,
    packet: Uint8Array | undefined,
    start: number,
    end: number,
    now: number,
  ): number {
    const held = this.find(natAddress, natPort, serverAddress, serverPort);
    if (held >= 0) return held;
    const i = this.freeHead;
    if (i < 0) return -1;
    this.freeHead = this.next[i]!;
    this.natAddress[i] = natAddress;
    this.natPort[i] = natPort;
    this.serverAddress[i] = serverAddress;
    this.serverPort[i] = serverPort;
    this.heldAt[i] = now;
    // A plain copy: a Node Buffer (a TUN receive buffer) would slice into a view.
    this.packets[i] = packet ? new Uint8Array(packet.subarray(start, Math.min(end, start + SPEC.ICMP_ERROR_MAX_BYTES))) : new Uint8Array(0);
    const b = this.bucket(natAddress, natPort, serverAddress, serverPort);
    this.next[i] = this.buckets[b]!;
    this.buckets[b] = i;
    this.fifo.push(i);
    this.count++;
    return i;
  }

  /** Removes a record and returns its packet copy. */
  take(i: number): Uint8Array {
    const b = this.bucket(this.natAddress[i]!, this.natPort[i]!, this.serverAddress[i]!, this.serverPort[i]!);
    unchain(this.buckets, this.next, b, i);
    this.fifo.unlink(i);
    const packet = this.packets[i]!;
    this.packets[i] = undefined;
    this.next[i] = this.freeHead;
    this.freeHead = i;
    this.count--;
    return packet;
  }

  /** Hands back (appends to `out`) the packets held for `timeoutMs` or longer at `now`. */
  expire(now: number, timeoutMs: number, out: Uint8Array[]): void {
    const fifo = this.fifo;
    while (fifo.head >= 0 && this.heldAt[fifo.head]! + timeoutMs <= now) out.push(this.take(fifo.head));
  }

  /** Memory held, copies included. */
  bytesAllocated(): number {
    let copies = 0;
    for (const packet of this.packets) copies += packet?.byteLength ?? 0;
    return (
      copies +
      this.natAddress.byteLength +
      this.natPort.byteLength +
      this.serverAddress.byteLength +
      this.serverPort.byteLength +
      this.heldAt.byteLength +
      this.next.byteLength +
      this.fifo.byteLength +
      this.buckets.byteLength
    );
  }

  private bucket(natAddress: number, natPort: number, serverAddress: number, serverPort: number): number {
    return this.hash.session4(PROTOCOL.TCP, natAddress | 0, natPort, serverAddress | 0, serverPort) & (this.buckets.length - 1);
  }
}
