// One bypass tunnel: a gateway, its VNI, and the TAP device whose Ethernet frames are the
// tunnel link (bypass §9). Frames from the gateway wait where they were received until flush(),
// which writes them into the TAP with one call (one write each in the kernel); the kernel's IPv6
// stack answers, and the frames it sends come back in batches, are copied once into a
// preallocated send ring behind 8 bytes of headroom, framed with the VNI and no option (bypass
// §3.1) and sent to the gateway on UDP 6081 with one sendmmsg for the batch (one send each on the
// dgram fallback, which allocates its own request per send). Nothing is allocated per frame here.
//
// On a TAP device opened with a virtio-net header (offload), frames from the gateway are copied
// into a staging buffer instead, and consecutive TCP segments of one flow in it leave as one large
// segment with a partial checksum (receive coalescing, TxCoalescer with the Ethernet header): the
// kernel then runs its IPv6 and TCP receive once per train instead of once per frame.
import { BypassEncapsulator, Ethernet, Geneve } from '@nat64/geneve';
import type { Counters } from '@nat64/service';
import { TxCoalescer, type TunDevice, type TunError } from '@nat64/tun';
import type { BypassCounterName } from './counters.js';
import type { TunnelRoute } from './host-network.js';

/** Frames in flight in the send ring; a send queued by the kernel keeps its slot this long. */
const RING_SLOTS = 256;
const HEADROOM = Geneve.HEADER_LENGTH;
/** Frames staged for one coalesced write, and the room of each: the largest Ethernet frame a train may become. */
const STAGE_SLOTS = 64;
const STAGE_SLOT = 65_600;

export interface TunnelDeps {
  /** Sends a Geneve packet to the gateway (the receiver's UDP 6081 socket). */
  send(packet: Buffer, port: number, address: string): void;
  /** Sends queued in the socket, whose ring slots must not be reused yet. */
  sendQueueCount(): number;
  /** Sends a batch to the gateway with one call; absent: send() per packet. */
  sendBatch?(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, port: number, address: string): void;
  counters: Counters<BypassCounterName>;
  /** The TAP device stopped working (deleted from outside): the tunnel must go. */
  onDeviceError(tunnel: Tunnel, error: TunError): void;
}

export class Tunnel {
  /** The gateway's outer address, as the socket reports it. */
  readonly gateway: string;
  readonly vni: number;
  readonly index: number;
  readonly device: TunDevice;
  readonly route: TunnelRoute;
  /** The 16 bytes of PREFIX::OWN-IPV4, to recognise repeated offers. */
  readonly target: Uint8Array;
  /** The last offer's log message. */
  message: string;
  private readonly encapsulator: BypassEncapsulator;
  private readonly ring: Buffer;
  private readonly ringSlot: number;
  private nextSlot = 0;
  private readonly framesOut: number;
  private readonly notIpv6: number;
  private readonly queueFull: number;
  private readonly framesIn: number;
  private readonly framesInFailed: number;
  /** Frames of one receive buffer waiting for flush(). */
  private pendingBuffer: Uint8Array | null = null;
  private readonly pendingOffsets = new Uint32Array(RING_SLOTS);
  private readonly pendingLengths = new Uint32Array(RING_SLOTS);
  private pending = 0;
  /** With receive coalescing: the frames' copies, one STAGE_SLOT each. */
  private readonly coalescer: TxCoalescer | null;
  private readonly stage: Buffer | null;
  private readonly stageOffsets: Uint32Array | null;
  private readonly trainsIn: number;
  private readonly framesCoalesced: number;
  /** Where the ring slots of one TAP batch start and end, for sendBatch. */
  private readonly sendOffsets = new Uint32Array(RING_SLOTS);
  private readonly sendLengths = new Uint32Array(RING_SLOTS);

  constructor(
    init: { gateway: string; vni: number; index: number; device: TunDevice; route: TunnelRoute; target: Uint8Array; message: string },
    private readonly deps: TunnelDeps,
    private readonly port = Geneve.PORT,
  ) {
    this.gateway = init.gateway;
    this.vni = init.vni;
    this.index = init.index;
    this.device = init.device;
    this.route = init.route;
    this.target = init.target;
    this.message = init.message;
    this.encapsulator = new BypassEncapsulator({ vni: init.vni, message: null });
    this.ringSlot = HEADROOM + init.device.rx.slotSize;
    this.ring = Buffer.alloc(RING_SLOTS * this.ringSlot);
    this.framesOut = deps.counters.index.bypassFramesOut;
    this.notIpv6 = deps.counters.index.bypassNotIpv6Out;
    this.queueFull = deps.counters.index.bypassSendQueueFull;
    this.framesIn = deps.counters.index.bypassFramesIn;
    this.framesInFailed = deps.counters.index.bypassFramesInFailed;
    this.trainsIn = deps.counters.index.bypassTrainsIn;
    this.framesCoalesced = deps.counters.index.bypassFramesCoalesced;
    if (init.device.offload) {
      this.coalescer = new TxCoalescer(STAGE_SLOTS, { udp: false, linkHeader: Ethernet.HEADER_LENGTH });
      // Not zeroed: the pages of a slot's far end are touched only by long trains.
      this.stage = Buffer.allocUnsafeSlow(STAGE_SLOTS * STAGE_SLOT);
      this.stageOffsets = new Uint32Array(STAGE_SLOTS);
      for (let i = 0; i < STAGE_SLOTS; i++) this.stageOffsets[i] = i * STAGE_SLOT;
    } else {
      this.coalescer = null;
      this.stage = null;
      this.stageOffsets = null;
    }
  }

  start(): void {
    this.device.start(
      (count) => this.sendBatch(count),
      (error) => this.deps.onDeviceError(this, error),
    );
  }

  /** A frame from the gateway for the TAP device: written at flush(); `buf` must stay as it is until then. */
  deliver(buf: Uint8Array, offset: number, length: number): void {
    if (this.stage !== null) {
      if (length > STAGE_SLOT) {
        this.deps.counters.values[this.framesInFailed]!++;
        return;
      }
      this.stage.set(buf.subarray(offset, offset + length), this.pending * STAGE_SLOT);
      this.pendingLengths[this.pending] = length;
      this.pending++;
      if (this.pending === STAGE_SLOTS) this.flush();
      return;
    }
    if ((this.pendingBuffer !== buf && this.pending > 0) || this.pending === RING_SLOTS) this.flush();
    this.pendingBuffer = buf;
    this.pendingOffsets[this.pending] = offset;
    this.pendingLengths[this.pending] = length;
    this.pending++;
  }

  /** Writes the frames waiting since the last flush with one call; counts what the device took and refused. */
  flush(): void {
    const count = this.pending;
    if (count === 0) return;
    if (this.coalescer !== null) {
      this.flushCoalesced(count);
      return;
    }
    const written = this.device.writeBatch(this.pendingBuffer!, this.pendingOffsets, this.pendingLengths, count);
    this.pending = 0;
    this.pendingBuffer = null;
    const values = this.deps.counters.values;
    values[this.framesIn]! += written;
    values[this.framesInFailed]! += count - written;
  }

  /** Writes the staged frames, TCP trains as one frame each; a refused train counts as one frame refused. */
  private flushCoalesced(count: number): void {
    const coalescer = this.coalescer!;
    const packets = coalescer.coalesce(this.stage!, this.stageOffsets!, this.pendingLengths, count, null, STAGE_SLOT);
    const written = this.device.writeBatch(this.stage!, coalescer.offsets, coalescer.lengths, packets, coalescer.vnet);
    this.pending = 0;
    const values = this.deps.counters.values;
    const { counters } = coalescer;
    values[this.framesIn]! += count - (packets - written);
    values[this.framesInFailed]! += packets - written;
    values[this.trainsIn]! += counters.trains;
    values[this.framesCoalesced]! += counters.joined;
    counters.trains = 0;
    counters.joined = 0;
  }

  close(): void {
    this.pending = 0;
    this.pendingBuffer = null;
    this.device.close();
  }

  private sendBatch(count: number): void {
    const { buffer, slotSize, lengths } = this.device.rx;
    const values = this.deps.counters.values;
    // A send the kernel could not take at once stays queued in the socket and reads its ring slot
    // later; past RING_SLOTS - count queued sends, this batch could overwrite one, so it is dropped
    // (TCP retransmits) rather than sent corrupted.
    if (this.deps.sendQueueCount() > RING_SLOTS - count) {
      values[this.queueFull]! += count;
      return;
    }
    const batched = this.deps.sendBatch;
    let framed = 0;
    for (let i = 0; i < count; i++) {
      const offset = i * slotSize;
      const length = lengths[i]!;
      // Only IPv6 travels through bypass (bypass §4); the kernel sends nothing else here, but a
      // TAP carries what anyone writes to it.
      if (length < Ethernet.HEADER_LENGTH || buffer[offset + 12] !== 0x86 || buffer[offset + 13] !== 0xdd) {
        values[this.notIpv6]!++;
        continue;
      }
      const slot = this.nextSlot * this.ringSlot;
      this.nextSlot = this.nextSlot + 1 === RING_SLOTS ? 0 : this.nextSlot + 1;
      buffer.copy(this.ring, slot + HEADROOM, offset, offset + length);
      const start = this.encapsulator.encapsulate(this.ring, slot + HEADROOM, length);
      if (batched === undefined) this.deps.send(this.ring.subarray(start, slot + HEADROOM + length), this.port, this.gateway);
      else {
        this.sendOffsets[framed] = start;
        this.sendLengths[framed] = slot + HEADROOM + length - start;
        framed++;
      }
      values[this.framesOut]!++;
    }
    if (framed > 0) batched!(this.ring, this.sendOffsets, this.sendLengths, framed, this.port, this.gateway);
  }
}
