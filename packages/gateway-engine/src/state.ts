// The mutable state of one datapath instance (one TUN queue): its dependencies, the reusable parsed
// views and mappings, the output batches, the counters and the hooks. The packet handlers in
// outbound.ts and inbound.ts are plain functions over it; Engine (engine.ts) is its public face.

import { VERDICT, type FragmentTracker, type Nat64Table } from '@nat64/nat64';
import { Ipv4View, Ipv6View, Mapping46, Mapping64, PacketBatch, ParseStatus, isNonGlobalIpv4, type Rfc6052Prefix, type Translator } from '@nat64/xlat';
import type { BatchClock } from './clock.js';
import { IMPL, SPEC } from './constants.js';
import { PoolSet } from './pool-set.js';
import { OutputCoalescer } from './coalesce.js';
import { Offload } from './offload.js';
import { GATEWAY_COUNTER_NAMES, GW } from './reasons.js';

/** Where finished output batches go: a TunDevice, or anything with its writeBatch. */
export interface PacketSink {
  writeBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, vnet?: Uint8Array): number;
}

/**
 * Called for an IPv4 UDP packet addressed to a pool4 address on a reserved port (handoff 62863, Geneve
 * 6081) instead of translating it. The view and its buffer are valid only during the call; copy what
 * must outlive it. It may send packets with Engine.injectIpv4.
 */
export type LocalHandler = (packet: Ipv4View) => void;

/**
 * Called for an ICMPv4 error addressed to a pool4 address whose quoted packet is a UDP datagram the
 * gateway itself sent from a reserved port (`packet.inner.srcPort`), instead of translating it. The
 * view is valid only during the call.
 */
export type LocalErrorHandler = (packet: Ipv4View) => void;

/**
 * Offered an inbound IPv4 packet for which the table has no session (its verdict: NO_BIB, FILTERED or
 * NO_SESSION) before the gateway drops or refuses it. Return true to take it: the gateway then does
 * nothing more with it, and the handler may copy it and hand it back later with Engine.reinjectIpv4
 * (a re-injected packet is not offered again). The view is valid only during the call, and so is
 * `vnet`: the packet's virtio-net header when it asks for offload (tun.offload), to be handed back
 * with it, else null.
 */
export type MissHandler = (packet: Ipv4View, verdict: number, vnet: Uint8Array | null) => boolean;

/**
 * Offered an outbound IPv6 packet (TCP, UDP or an ICMPv6 echo, unfragmented) that would start a new
 * mapping or that found no session, before the table creates one or drops it. `miss` gets UDP datagrams
 * and echoes whose client holds no mapping (no BIB entry), while `armed` says so (read per packet; the
 * table tells a new flow apart in the lookup it makes anyway, so established flows pay nothing; `noSession` false:
 * the handler must answer fast, from memory, whether the flow is one handed off earlier), and TCP
 * segments other than a SYN that found no session (`noSession` true: they would be dropped).
 * `clientPort` is the source port or echo identifier, `server` and `serverPort` the IPv4 destination (0
 * for echoes). Return true to take the packet: the gateway then does nothing more with it, and the
 * handler may copy it and hand it back later with Engine.reinjectIpv6 (a re-injected packet is not
 * offered again). View and `vnet` are valid only during the call.
 */
export interface ClientMissHandler {
  readonly armed: boolean;
  miss(packet: Ipv6View, protocol: number, clientPort: number, server: number, serverPort: number, noSession: boolean, vnet: Uint8Array | null): boolean;
}

/**
 * Wraps translated IPv6 -> IPv4 packets toward some hosts in a tunnel (Geneve) before they leave.
 * Called once per translated packet with the output slots it filled, out.offsets[from..out.count);
 * it may move each slot's offset back into the batch headroom and grow its length (writing outer
 * headers there), and must not throw or allocate. `protocol` (6, 17 or 1) and `natPort` name the
 * packet's mapping on the IPv4 side.
 */
export interface OutputEncapsulator {
  encapsulate(out: PacketBatch, from: number, natAddress: number, host: number, protocol: number, natPort: number): void;
}

/**
 * Offered an ICMPv4 error that quotes a UDP datagram from a pool4 address to port `port` of a host and
 * matches no session: one of the gateway's tunnel packets (Geneve data leaves from hashed source ports,
 * so only the destination port tells them apart). Valid only during the call.
 */
export type TunnelErrorHandler = (packet: Ipv4View) => void;

/** What a BypassHook decided about one packet. */
export const BYPASS_VERDICT = {
  /** Not for a tunnel (unknown host, or a flow with a session): the NAT64 translates it as usual. */
  PASS: 0,
  /** Written into the output batch (encapsulated). */
  TAKEN: 1,
  /** Hop Limit 1 or 0: the engine answers ICMPv6 Time Exceeded (RFC 4443 3.3). */
  HOP_LIMIT: 2,
  /** Larger than the tunnel: the engine answers ICMPv6 Packet Too Big with `hook.mtu` (RFC 4443 3.2). */
  TOO_BIG: 3,
  /** Dropped; the hook counted why. */
  DROPPED: 4,
} as const;

/**
 * Offered every IPv6 packet from a client to PREFIX::`host` that passed the engine's address checks,
 * ahead of the NAT64 table (NAT64 bypass, docs/protocol/nat64-bypass.md). It returns a BYPASS_VERDICT:
 * PASS leaves the packet to the NAT64; TAKEN means it wrote the packet (untranslated, encapsulated)
 * into `out` itself; HOP_LIMIT and TOO_BIG ask the engine for the ICMPv6 error (rate-limited like the
 * translator's). The view is valid only during the call; it must not throw or allocate.
 */
export interface BypassHook {
  outbound(v: Ipv6View, host: number, out: PacketBatch): number;
  /** The tunnel MTU that a TOO_BIG verdict reports. */
  readonly mtu: number;
}

export interface DatapathOptions {
  readonly table: Nat64Table;
  readonly translator: Translator;
  readonly fragments: FragmentTracker;
  /** The RFC 6052 prefix (pool6). */
  readonly prefix: Rfc6052Prefix;
  readonly clock: BatchClock;
  /** The pool4 addresses, as given to the table. */
  readonly pool4: readonly number[];
  /** RFC 6052 3.1: refuse non-global IPv4 addresses. The gateway sets it only for the Well-Known Prefix. */
  readonly refuseNonGlobal: boolean;
  /**
   * Source of a translated ICMPv4 error: the IPv4-embedded address of the router that reported it (true,
   * the default, Jool's source-icmpv6-errors-better) or of the destination of the packet it quotes.
   */
  readonly icmpErrorsFromReporter?: boolean;
  /** UDP ports kept for local handlers on every pool4 address. Default IMPL.RESERVED_UDP_PORTS. */
  readonly reservedUdpPorts?: readonly number[];
  /** Largest packet the device hands over (its slot size): sizes the output slots. */
  readonly maxInputSize: number;
  /** Packets per input batch at most: sizes the output batch. */
  readonly inputBatchSize: number;
  /** The device was opened with offload (virtio-net headers): see offload.ts. Default false. */
  readonly offload?: boolean;
  /** With offload: coalesce each output batch into USO and TSO trains (coalesce.ts). Default false. */
  readonly coalesce?: boolean;
}

export class DatapathState {
  readonly table: Nat64Table;
  readonly translator: Translator;
  readonly fragments: FragmentTracker;
  readonly prefix: Rfc6052Prefix;
  readonly clock: BatchClock;
  readonly pool: PoolSet;
  readonly refuseNonGlobal: boolean;
  readonly icmpErrorsFromReporter: boolean;
  /** 1 at reserved UDP ports. */
  readonly reserved = new Uint8Array(65536);
  readonly localHandlers = new Map<number, LocalHandler>();
  readonly localErrorHandlers = new Map<number, LocalErrorHandler>();
  /** Run when a batch ends, before its output is written (copied on change: a hook may remove itself). */
  batchEndHooks: readonly ((drained: boolean) => void)[] = [];
  missHandler: MissHandler | null = null;
  clientMissHandler: ClientMissHandler | null = null;
  /** The hook ahead of the NAT64 table for IPv6 packets carried untranslated, or null (no cost then). */
  bypass: BypassHook | null = null;
  /** The tunnel toward some hosts (Geneve), or null: then translated packets leave as they are. */
  encap: OutputEncapsulator | null = null;
  /** ICMP errors about tunnel packets, by the quoted destination port. */
  readonly tunnelErrorHandlers = new Map<number, TunnelErrorHandler>();
  sink: PacketSink | null = null;

  readonly counters = new Float64Array(GATEWAY_COUNTER_NAMES.length);
  /** The translator's live drop counters; parse failures are counted there under the parser's reason. */
  readonly xlatDrops: Float64Array;

  readonly out: PacketBatch;
  /** Checksum and segmentation offload through the device, or null without it. */
  readonly offload: Offload | null;
  /** Coalescing of the output batch (with offload and options.coalesce), or null; UDP trains once the sink takes USO. */
  coalescer: OutputCoalescer | null;
  /** The IPv4 form of a hairpinned packet, before it goes through the inbound path. */
  readonly hairpin: PacketBatch;
  readonly v6 = new Ipv6View();
  readonly v4 = new Ipv4View();
  readonly m64 = new Mapping64();
  readonly m46 = new Mapping46();
  /** True while a batch (or a timer slice, or an injection) is being handled; output is written at its end. */
  inBatch = false;

  constructor(options: DatapathOptions) {
    this.table = options.table;
    this.translator = options.translator;
    this.fragments = options.fragments;
    this.prefix = options.prefix;
    this.clock = options.clock;
    this.pool = new PoolSet(options.pool4);
    this.refuseNonGlobal = options.refuseNonGlobal;
    this.icmpErrorsFromReporter = options.icmpErrorsFromReporter ?? true;
    for (const port of options.reservedUdpPorts ?? IMPL.RESERVED_UDP_PORTS) this.reserved[port] = 1;
    this.xlatDrops = this.translator.drops;
    const maxPacketSize = Math.max(SPEC.IPV6_MIN_MTU, options.maxInputSize + IMPL.OUTPUT_GROWTH);
    this.out = new PacketBatch({
      capacity: options.inputBatchSize * IMPL.OUTPUT_SLOTS_PER_INPUT + IMPL.OUTPUT_RESERVE,
      maxPacketSize,
      headroom: IMPL.OUTPUT_HEADROOM,
    });
    this.hairpin = new PacketBatch({ capacity: IMPL.OUTPUT_RESERVE, maxPacketSize });
    this.offload = options.offload === true ? new Offload(this.out.capacity, this.translator.config) : null;
    this.coalescer = this.offload !== null && options.coalesce === true ? new OutputCoalescer(this.out, this.counters, false) : null;
  }

  count(index: number): void {
    this.counters[index]!++;
  }

  /** Whether the parser accepted the packet; a failure is counted under the parser's reason. */
  parsed(status: number): boolean {
    if (status === ParseStatus.ok) return true;
    this.xlatDrops[status]!++;
    return false;
  }

  /** Counts a table verdict that only drops: a held SYN, a limit, or no session (what the other verdicts come to). */
  countDropVerdict(verdict: number): void {
    switch (verdict) {
      case VERDICT.HELD_SYN:
        return this.count(GW.heldSyns);
      case VERDICT.HELD_SYN_LIMIT:
        return this.count(GW.heldSynLimit);
      case VERDICT.CLIENT_LIMIT:
        return this.count(GW.clientLimit);
      case VERDICT.TABLE_FULL:
        return this.count(GW.tableFull);
      default:
        return this.count(GW.noSession);
    }
  }

  /** Runs the batch-end hooks; what they send joins the batch's output. See Engine.onBatchEnd for `drained`. */
  batchEnd(drained: boolean): void {
    const hooks = this.batchEndHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i]!(drained);
  }

  /** Writes the output batch out and empties it. */
  flush(): void {
    const out = this.out;
    if (out.count === 0) return;
    const offload = this.offload;
    if (this.sink !== null) {
      if (offload === null) this.sink.writeBatch(out.buffer, out.offsets, out.lengths, out.count);
      else if (this.coalescer !== null) this.coalescer.write(this.sink, offload.out);
      else this.sink.writeBatch(out.buffer, out.offsets, out.lengths, out.count, offload.out);
    }
    offload?.written(out.count);
    out.reset();
  }

  /** Keeps room for the worst case one packet can produce; writes early when the batch is nearly full. */
  ensureRoom(): void {
    if (this.out.free < IMPL.OUTPUT_RESERVE) {
      this.counters[GW.outputFlushes]!++;
      this.flush();
    }
  }

  /** RFC 6052 3.1 under the Well-Known Prefix. */
  isRefusedAddress(address: number): boolean {
    return this.refuseNonGlobal && isNonGlobalIpv4(address);
  }

  /** Appends a packet already in wire form (an ICMP error the translator put elsewhere) to the output. */
  appendCopy(buffer: Uint8Array, offset: number, length: number): void {
    const out = this.out;
    if (length > out.maxPacketSize) return;
    let at = out.reserve();
    if (at < 0) {
      this.flush();
      at = out.reserve();
    }
    out.buffer.set(buffer.subarray(offset, offset + length), at);
    out.commit(length);
  }
}
