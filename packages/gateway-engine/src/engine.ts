// The datapath of one TUN queue: receives batches from the device, handles every packet (outbound.ts,
// inbound.ts) into one output batch and writes it back with one call. Everything it needs is passed
// in (table, translator, fragment tracker, clock), so one instance per queue could run in its own
// worker thread. It is also where the next phase plugs in: session events, local delivery on reserved
// ports, injection of locally generated IPv4 packets, and a cache-miss hook.

import type { Nat64Table } from '@nat64/nat64';
import type { RxBatch, TunDevice } from '@nat64/tun';
import { Ipv4View, Ipv6View, ParseStatus, parseIpv4, parseIpv6, type Rfc6052Prefix } from '@nat64/xlat';
import { SPEC } from './constants.js';
import { SessionEvents } from './events.js';
import { handle4 } from './inbound.js';
import { handle6 } from './outbound.js';
import { TCP_RESET_LENGTH, writeTcpReset } from './tcp-reset.js';
import { GATEWAY_COUNTERS, GATEWAY_COUNTER_NAMES, GW } from './reasons.js';
import {
  DatapathState,
  type BypassHook,
  type DatapathOptions,
  type LocalErrorHandler,
  type LocalHandler,
  type ClientMissHandler,
  type MissHandler,
  type OutputEncapsulator,
  type PacketSink,
  type TunnelErrorHandler,
} from './state.js';

export { BYPASS_VERDICT } from './state.js';
export type {
  BypassHook,
  ClientMissHandler,
  DatapathOptions,
  LocalErrorHandler,
  LocalHandler,
  MissHandler,
  OutputEncapsulator,
  PacketSink,
  TunnelErrorHandler,
} from './state.js';

const IP_VERSION_4 = SPEC.IP_VERSION_4;
const IP_VERSION_6 = SPEC.IP_VERSION_6;

/**
 * One datapath instance. Contract: `handleBatch` (or the device callback installed by `attach`) takes
 * every packet of a batch, never throws for a packet (each outcome is a counted verdict), allocates
 * nothing on the forward path, reads the clock once, and writes the output with one writeBatch (more
 * only when one batch produces more packets than the output batch holds). Not thread-safe: use one per
 * queue.
 */
export class Engine {
  /** Session events (created, deleted with reason, BIB changes) built on the table's listener. */
  readonly events: SessionEvents;
  private readonly s: DatapathState;
  /** Checks injected packets; not nested, since an injected packet's ICMP quote is not looked at. */
  private readonly scratch4 = new Ipv4View(false);
  private readonly scratch6 = new Ipv6View(false);
  private readonly resetScratch = new Uint8Array(TCP_RESET_LENGTH);

  constructor(options: DatapathOptions) {
    this.s = new DatapathState(options);
    this.events = new SessionEvents(options.table);
    options.table.setListener(this.events);
  }

  get table(): Nat64Table {
    return this.s.table;
  }

  /** Whether a batch is under way (handleBatch or run): its end runs the batch-end hooks. */
  get inBatch(): boolean {
    return this.s.inBatch;
  }

  /** The RFC 6052 prefix (pool6) the engine translates under. */
  get prefix(): Rfc6052Prefix {
    return this.s.prefix;
  }

  /** Starts handling the device's batches and writing the results back to it. */
  attach(device: TunDevice, onError?: (error: Error) => void): void {
    this.s.sink = device;
    this.s.coalescer?.takeUdp(device.udpSegmentation === true);
    const rx = device.rx;
    device.start((count) => this.handleBatch(rx, count), onError);
  }

  /** Where output goes when not attached to a device (tests, benchmarks). */
  setSink(sink: PacketSink): void {
    this.s.sink = sink;
  }

  /** Handles packets 0..count-1 of `rx` and writes the output. */
  handleBatch(rx: RxBatch, count: number): void {
    const s = this.s;
    s.clock.tick();
    s.inBatch = true;
    const { buffer, slotSize, lengths, vnet } = rx;
    const offload = s.offload;
    for (let i = 0; i < count; i++) {
      const offset = i * slotSize;
      const length = lengths[i]!;
      if (offload !== null && vnet !== null && !offload.received(vnet, i, buffer, offset, length)) {
        s.count(GW.offloadRefused);
        continue;
      }
      const version = buffer[offset]! >>> 4;
      if (version === IP_VERSION_6) handle6(s, buffer, offset, length);
      else if (version === IP_VERSION_4) handle4(s, buffer, offset, length, null, false);
      else s.xlatDrops[ParseStatus.badVersion]!++;
      offload?.done();
    }
    // A batch short of the device's batch size read its queue empty: the datapath goes idle next.
    s.batchEnd(count < rx.batchSize);
    s.flush();
    s.inBatch = false;
  }

  /**
   * Runs `task` as a batch of its own (one clock reading, output written at the end) unless a batch is
   * under way, in which case its output joins that batch. Timers and hooks called from outside the
   * device callback go through here.
   */
  run<T>(task: () => T): T {
    const s = this.s;
    if (s.inBatch) return task();
    s.clock.tick();
    s.inBatch = true;
    try {
      return task();
    } finally {
      try {
        s.batchEnd(true);
      } finally {
        s.flush();
        s.inBatch = false;
      }
    }
  }

  /**
   * Registers the handler for IPv4 UDP packets to a reserved port (SPEC.HANDOFF_PORT, SPEC.GENEVE_PORT)
   * on any pool4 address. Dynamic allocation never hands those ports out. Returns the unregister function.
   */
  onLocal(port: number, handler: LocalHandler): () => void {
    const s = this.s;
    if (s.reserved[port] !== 1) throw new RangeError(`UDP port ${port} is not reserved for local delivery`);
    if (s.localHandlers.has(port)) throw new Error(`UDP port ${port} already has a local handler`);
    s.localHandlers.set(port, handler);
    return () => {
      if (s.localHandlers.get(port) === handler) s.localHandlers.delete(port);
    };
  }

  /**
   * Puts a handler in front of the one on reserved port `port` (if any): `make` is given the handler it
   * displaces (or null) and returns the new one, which passes on what is not its own. Two transports
   * then share a port (bypass and the Geneve mapping transport on 6081, told apart per packet). Returns
   * the undo, which puts the displaced handler back.
   */
  interceptLocal(port: number, make: (previous: LocalHandler | null) => LocalHandler): () => void {
    const s = this.s;
    if (s.reserved[port] !== 1) throw new RangeError(`UDP port ${port} is not reserved for local delivery`);
    const previous = s.localHandlers.get(port) ?? null;
    const handler = make(previous);
    s.localHandlers.set(port, handler);
    return () => {
      if (s.localHandlers.get(port) !== handler) return;
      if (previous === null) s.localHandlers.delete(port);
      else s.localHandlers.set(port, previous);
    };
  }

  /**
   * Registers the handler for ICMPv4 errors quoting a UDP datagram the gateway sent from reserved port
   * `port` of a pool4 address (see LocalErrorHandler). Without one they are counted as matching no
   * session. Returns the unregister function.
   */
  onLocalError(port: number, handler: LocalErrorHandler): () => void {
    const s = this.s;
    if (s.reserved[port] !== 1) throw new RangeError(`UDP port ${port} is not reserved for local delivery`);
    if (s.localErrorHandlers.has(port)) throw new Error(`UDP port ${port} already has a local error handler`);
    s.localErrorHandlers.set(port, handler);
    return () => {
      if (s.localErrorHandlers.get(port) === handler) s.localErrorHandlers.delete(port);
    };
  }

  /**
   * Registers `hook` to run at the end of every batch (a device batch or a run() task), after its last
   * packet and before its output is written, so that what the hook sends (flushed handoff datagrams,
   * re-injected packets) leaves with that batch. It may call injectIpv4, reinjectIpv4 and run().
   * `drained`: no further batch is known to follow at once (the device's queue was read empty, or the
   * batch is a run() task), so what waits for a later batch should leave with this one. Returns the
   * unregister function.
   */
  onBatchEnd(hook: (drained: boolean) => void): () => void {
    const s = this.s;
    s.batchEndHooks = [...s.batchEndHooks, hook];
    return () => {
      s.batchEndHooks = s.batchEndHooks.filter((h) => h !== hook);
    };
  }

  /**
   * Installs the tunnel encapsulator (one at most; null removes it): every translated IPv6 -> IPv4
   * packet is offered to it. See OutputEncapsulator.
   */
  onOutput(encap: OutputEncapsulator | null): void {
    this.s.encap = encap;
  }

  /** Bytes of headroom in front of every output packet: the most an OutputEncapsulator may write there. */
  get outputHeadroom(): number {
    return this.s.out.headroom;
  }

  /**
   * Registers the handler for ICMPv4 errors that quote a UDP datagram from a pool4 address to `port`
   * on a host and match no session (tunnel packets; see TunnelErrorHandler). Returns the unregister function.
   */
  onTunnelError(port: number, handler: TunnelErrorHandler): () => void {
    const s = this.s;
    if (s.tunnelErrorHandlers.has(port)) throw new Error(`UDP port ${port} already has a tunnel error handler`);
    s.tunnelErrorHandlers.set(port, handler);
    return () => {
      if (s.tunnelErrorHandlers.get(port) === handler) s.tunnelErrorHandlers.delete(port);
    };
  }

  /** Installs the client-miss handler (one at most; null removes it). See ClientMissHandler. */
  onClientMiss(handler: ClientMissHandler | null): void {
    this.s.clientMissHandler = handler;
  }

  /**
   * Hands an IPv6 packet taken by the client-miss handler back to the outbound path, as reinjectIpv4
   * does for the inbound one: translated with the session it now finds (restored, or created as for
   * any new flow), never offered to the handler again.
   */
  reinjectIpv6(buffer: Uint8Array, offset: number, length: number, vnet: Uint8Array | null = null): void {
    this.reinject(6, buffer, offset, length, vnet);
  }

  /**
   * Answers a TCP segment taken by the client-miss handler with a RST to its IPv6 sender (its connection
   * cannot come back). Returns false, sending nothing, for a segment that gets none (a RST, or not TCP).
   */
  resetTcp(buffer: Uint8Array, offset: number, length: number): boolean {
    const s = this.s;
    const v = this.scratch6;
    if (parseIpv6(buffer, offset, length, v) !== ParseStatus.ok) return false;
    const written = writeTcpReset(v, this.resetScratch, 0);
    if (written === 0) return false;
    this.run(() => {
      s.count(GW.tcpResetsSent);
      s.appendCopy(this.resetScratch, 0, written);
    });
    return true;
  }

  /** Installs the cache-miss handler (one at most; null removes it). See MissHandler. */
  onMiss(handler: MissHandler | null): void {
    this.s.missHandler = handler;
  }

  /**
   * Installs the hook ahead of the NAT64 table for IPv6 packets carried untranslated (one at most; null
   * removes it). Without one, the packet path pays a single null check. See BypassHook.
   */
  onBypass(hook: BypassHook | null): void {
    this.s.bypass = hook;
  }

  /**
   * Sends an IPv6 packet toward a client through the device (one a hook took out of a tunnel): copied
   * into the output batch under way, or written at once. Returns false (and counts) when it is not
   * IPv6 or does not fit an output slot. The caller checked its addresses.
   */
  injectIpv6(buffer: Uint8Array, offset: number, length: number): boolean {
    const s = this.s;
    if (length < 40 || length > s.out.maxPacketSize || buffer[offset]! >>> 4 !== IP_VERSION_6) {
      s.count(GW.injectRefused);
      return false;
    }
    // A hook calls it from inside a batch, per packet: no closure then.
    if (s.inBatch) {
      s.count(GW.injected6);
      s.ensureRoom();
      s.appendCopy(buffer, offset, length);
      return true;
    }
    this.run(() => {
      s.count(GW.injected6);
      s.appendCopy(buffer, offset, length);
    });
    return true;
  }

  /**
   * Sends a locally generated IPv4 packet (source: a pool4 address) through the device: appended to the
   * output batch under way, or written at once. Returns false (and counts) when it is not such a packet.
   */
  injectIpv4(buffer: Uint8Array, offset: number, length: number): boolean {
    const s = this.s;
    const v = this.scratch4;
    if (length > s.out.maxPacketSize || parseIpv4(buffer, offset, length, v) !== ParseStatus.ok || !s.pool.has(v.src)) {
      s.count(GW.injectRefused);
      return false;
    }
    this.run(() => {
      s.count(GW.injected);
      s.appendCopy(buffer, offset, length);
    });
    return true;
  }

  /**
   * Hands an IPv4 packet taken by the miss handler back to the inbound path (for instance once its
   * session has been restored). It is translated if it now finds a session, otherwise refused or dropped
   * as usual, without being offered to the handler again. `vnet`: the header the miss handler was
   * given with it, so that a TCP segment of up to 64 KiB or a partial checksum goes on as it came.
   */
  reinjectIpv4(buffer: Uint8Array, offset: number, length: number, vnet: Uint8Array | null = null): void {
    this.reinject(4, buffer, offset, length, vnet);
  }

  private reinject(family: 4 | 6, buffer: Uint8Array, offset: number, length: number, vnet: Uint8Array | null): void {
    const s = this.s;
    const offload = s.offload;
    // It may come while another received packet is being handled (an ANSWER restores its key): that
    // packet's offload state is set aside meanwhile, and put back afterwards.
    const interrupted = offload?.save();
    this.run(() => {
      try {
        if (offload !== null) {
          offload.done();
          if (vnet !== null && !offload.received(vnet, 0, buffer, offset, length)) return s.count(GW.offloadRefused);
        }
        s.count(GW.reinjected);
        if (family === 4) handle4(s, buffer, offset, length, null, true);
        else handle6(s, buffer, offset, length, false, true);
      } finally {
        if (interrupted !== undefined) offload!.restore(interrupted);
      }
    });
  }

  /**
   * Expires what is due (at most `budget` sessions) and answers held SYNs that ran out with ICMP port
   * unreachable (RFC 6146 3.5.2.2): ICMPv4 3/3 to the IPv4 sender, or ICMPv6 1/4 to the IPv6 sender of a
   * hairpinned SYN. Returns how many sessions the table dropped.
   */
  expire(budget: number): number {
    const s = this.s;
    return this.run(() => {
      const before = s.table.sessionCount;
      const syns = s.table.expire(s.clock.now, budget);
      for (const syn of syns) this.answerHeldSyn(syn);
      s.fragments.expire(s.clock.now);
      return before - s.table.sessionCount;
    });
  }

  private answerHeldSyn(copy: Uint8Array): void {
    const s = this.s;
    const version = copy.length > 0 ? copy[0]! >>> 4 : 0;
    s.ensureRoom();
    // The ICMP rate limit may still suppress the error (counted by the translator).
    if (version === IP_VERSION_4 && parseIpv4(copy, 0, copy.length, s.v4) === ParseStatus.ok) {
      s.translator.icmp4Error(s.v4, SPEC.ICMP4_UNREACH, SPEC.ICMP4_PORT_UNREACH, 0, s.out);
      s.count(GW.heldSynsAnswered);
    } else if (version === IP_VERSION_6 && parseIpv6(copy, 0, copy.length, s.v6) === ParseStatus.ok) {
      s.translator.icmp6Error(s.v6, SPEC.ICMP6_UNREACH, SPEC.ICMP6_PORT_UNREACH, 0, s.out);
      s.count(GW.heldSynsAnswered);
    } else {
      s.count(GW.heldSynsUnanswerable);
    }
  }

  /** The gateway's own counters with their explanations. */
  counters(): { name: string; value: number; explanation: string }[] {
    return GATEWAY_COUNTER_NAMES.map((name) => ({ name, value: this.s.counters[GW[name]]!, explanation: GATEWAY_COUNTERS[name] }));
  }

  /** The live counter values, by GW index (for tests and summaries). */
  get counterValues(): Float64Array {
    return this.s.counters;
  }
}
