// What the miss queues (misses.ts, client-misses.ts) hold while a QUERY or CLIENT-QUERY is out: a
// copy of each packet with its virtio-net header and the server port its session is restored for,
// bounded per key, in number and in bytes.

export interface MissLimits {
  /** Packets held per key. */
  readonly packetsPerKey: number;
  /** Packets held in all. */
  readonly packets: number;
  /** Bytes held in all. */
  readonly bytes: number;
}

/** The packets held for one key. */
export interface HeldPackets {
  readonly packets: Uint8Array[];
  /** The virtio-net header of each held packet that came with one (tun.offload), else null. */
  readonly headers: (Uint8Array | null)[];
  /** The server port of each held packet (0 for ICMP): the session restored for it. */
  readonly serverPorts: number[];
}

/** The held packets of every key of one queue, against its limits. */
export class PacketHold {
  private heldPackets = 0;
  private heldBytes = 0;

  constructor(private readonly limits: MissLimits) {}

  /** Packets held now. */
  get packets(): number {
    return this.heldPackets;
  }

  /** Whether a packet of `length` bytes for a key holding `held` (undefined: a new key) is over a bound. */
  full(held: HeldPackets | undefined, length: number): boolean {
    const limits = this.limits;
    return this.heldPackets >= limits.packets || this.heldBytes + length > limits.bytes || (held !== undefined && held.packets.length >= limits.packetsPerKey);
  }

  /** Holds a copy of buf[start, end). */
  hold(held: HeldPackets, buf: Uint8Array, start: number, end: number, serverPort: number, vnet: Uint8Array | null): void {
    // A real copy: the receive buffer is a Buffer, whose slice() would only be a view into it.
    const copy = new Uint8Array(end - start);
    copy.set(buf.subarray(start, end));
    held.packets.push(copy);
    held.headers.push(vnet === null ? null : Uint8Array.from(vnet));
    held.serverPorts.push(serverPort);
    this.heldPackets++;
    this.heldBytes += copy.length;
  }

  /** Stops counting a key's packets against the limits (they go back to the engine, or are dropped). */
  release(held: HeldPackets): void {
    this.heldPackets -= held.packets.length;
    for (const packet of held.packets) this.heldBytes -= packet.length;
  }

  /** Forgets every held packet (shutdown). */
  clear(): void {
    this.heldPackets = 0;
    this.heldBytes = 0;
  }
}
