// Coalescing of the output batch (tun.coalesce, with tun.offload): before the batch is written,
// consecutive translated UDP datagrams of one flow become one UDP GSO packet (USO) and consecutive TCP
// segments of one connection one TSO packet, which the kernel routes once and splits late (see
// TxCoalescer in @nat64/tun). UDP trains only where the device takes USO (Linux 6.2+).

import { TxCoalescer, type TunDevice } from '@nat64/tun';
import type { PacketBatch } from '@nat64/xlat';
import { GW } from './reasons.js';

type Sink = Pick<TunDevice, 'writeBatch'>;

export class OutputCoalescer {
  #coalescer: TxCoalescer;

  constructor(
    private readonly out: PacketBatch,
    private readonly counters: Float64Array,
    udp: boolean,
  ) {
    this.#coalescer = new TxCoalescer(out.capacity, { udp });
  }

  /** UDP trains on or off, as the device attached takes USO or not (TunDevice.udpSegmentation). */
  takeUdp(udp: boolean): void {
    this.#coalescer = new TxCoalescer(this.out.capacity, { udp });
  }

  /** Writes the output batch, with its virtio-net headers `vnet`, as trains. */
  write(sink: Sink, vnet: Uint8Array): void {
    const out = this.out;
    const c = this.#coalescer;
    const before = c.counters;
    const trains = before.trains;
    const joined = before.joined;
    const bad = before.badChecksum;
    // Each packet may grow to the most an output slot holds: offload sizes them for 64 KiB.
    const count = c.coalesce(out.buffer, out.offsets, out.lengths, out.count, vnet, out.maxPacketSize);
    sink.writeBatch(out.buffer, c.offsets, c.lengths, count, c.vnet);
    const counters = this.counters;
    counters[GW.coalescedTrains]! += c.counters.trains - trains;
    counters[GW.coalescedPackets]! += c.counters.joined - joined;
    counters[GW.coalesceBadChecksum]! += c.counters.badChecksum - bad;
  }
}
