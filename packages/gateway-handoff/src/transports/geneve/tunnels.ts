// The gateway's Geneve tunnels, one per (NAT address, host) whose receiver takes Geneve, and the
// per-packet step of the output path: a translated IPv4 packet toward such a host gets its outer
// IPv4/UDP/Geneve headers written in front of it, in the output batch's headroom (no copy), with a
// mapping option when one is due for its mapping (options §3.2). One Map lookup per packet (the host),
// a second only while some option of that tunnel is waiting; nothing is allocated per packet.

import { Ipv4Encapsulator, MappingEvent, type MappingOption } from '@nat64/geneve';
import type { Counters } from '@nat64/service';
import type { PacketBatch } from '@nat64/xlat';
import type { OutputEncapsulator } from '@nat64/gateway-engine';
import type { GeneveCounterName } from './counters.js';
import { IMPL } from './constants.js';

/** A mapping option waiting for the next data packets of its mapping. */
export interface DueOption {
  readonly tunnel: Tunnel;
  /** Owned by this record (one allocation per mapping event, never per packet). */
  readonly option: MappingOption;
  /** Packets still to carry it. */
  remaining: number;
}

/** The key of a mapping within its tunnel: protocol and NAT port, as a small number. */
export function dueKey(protocol: number, natPort: number): number {
  return protocol * 0x1_0000 + natPort;
}

/** One tunnel: its VNI is the low 24 bits of the receiver's cookie (options §5), fixed for its life. */
export class Tunnel {
  /** Another tunnel toward the same host, from another NAT address. */
  next: Tunnel | undefined = undefined;
  readonly due = new Map<number, DueOption>();
  /** When the live mappings' Refresh was last scheduled (engine clock, ms). */
  refreshedAt: number;

  constructor(
    readonly natAddress: number,
    readonly host: number,
    readonly vni: number,
    readonly encap: Ipv4Encapsulator,
    now: number,
  ) {
    this.refreshedAt = now;
  }
}

/** What every tunnel shares. */
export interface TunnelSettings {
  readonly optionClass: number;
  readonly flowHashSeed: number;
  /** The authentication option's key (options §4); absent: no authentication option. */
  readonly auth: { keyId: number; secret: Uint8Array } | undefined;
  /** Mappings with an option due per tunnel at most; default IMPL.MAX_DUE_PER_TUNNEL (tests lower it). */
  readonly maxDue?: number;
}

/**
 * The tunnels and their waiting options. Contract: encapsulate() is the engine's OutputEncapsulator
 * (never throws: a packet that cannot be encapsulated is dropped and counted); open/close/schedule run
 * on the gateway's event loop, outside the packet path. Created options that have ridden on all their
 * packets are collected in `settled` until the owner takes them at the end of the batch.
 */
export class TunnelTable implements OutputEncapsulator {
  private readonly byHost = new Map<number, Tunnel>();
  private tunnelCount = 0;
  readonly settled: DueOption[] = [];
  private readonly values: Float64Array;
  private readonly index: Readonly<Record<GeneveCounterName, number>>;

  constructor(
    private readonly settings: TunnelSettings,
    private readonly counters: Counters<GeneveCounterName>,
  ) {
    this.values = counters.values;
    this.index = counters.index;
  }

  get size(): number {
    return this.tunnelCount;
  }

  get(natAddress: number, host: number): Tunnel | undefined {
    let t = this.byHost.get(host);
    while (t !== undefined && t.natAddress !== natAddress) t = t.next;
    return t;
  }

  /** Every tunnel (allocates; for timers and displays). */
  all(): Tunnel[] {
    const list: Tunnel[] = [];
    for (const head of this.byHost.values()) for (let t: Tunnel | undefined = head; t !== undefined; t = t.next) list.push(t);
    return list;
  }

  /** Opens the tunnel toward `host` with `vni`, replacing one with another VNI; undefined when the table is full. */
  open(natAddress: number, host: number, vni: number, now: number): Tunnel | undefined {
    const existing = this.get(natAddress, host);
    if (existing !== undefined && existing.vni === vni) return existing;
    if (existing !== undefined) this.close(natAddress, host);
    if (this.tunnelCount >= IMPL.MAX_TUNNELS) {
      this.counters.add('tunnelsFull');
      return undefined;
    }
    const { optionClass, flowHashSeed, auth } = this.settings;
    const encap = new Ipv4Encapsulator({ source: natAddress, vni, optionClass, flowHashSeed, ...(auth === undefined ? {} : { auth }) });
    const tunnel = new Tunnel(natAddress, host, vni, encap, now);
    tunnel.next = this.byHost.get(host);
    this.byHost.set(host, tunnel);
    this.tunnelCount++;
    return tunnel;
  }

  /** Closes the tunnel toward `host`: its packets leave as plain IPv4 again. Returns whether there was one. */
  close(natAddress: number, host: number): boolean {
    let t = this.byHost.get(host);
    let previous: Tunnel | undefined;
    while (t !== undefined && t.natAddress !== natAddress) {
      previous = t;
      t = t.next;
    }
    if (t === undefined) return false;
    if (previous !== undefined) previous.next = t.next;
    else if (t.next !== undefined) this.byHost.set(host, t.next);
    else this.byHost.delete(host);
    t.due.clear();
    this.tunnelCount--;
    return true;
  }

  /**
   * Puts `option` (copied) on the next `packets` data packets of its mapping, replacing what was due
   * for it. Returns false when the tunnel already holds MAX_DUE_PER_TUNNEL options.
   */
  schedule(tunnel: Tunnel, option: MappingOption, packets: number): boolean {
    const key = dueKey(option.protocol, option.natPort);
    const due = tunnel.due;
    if (due.size >= (this.settings.maxDue ?? IMPL.MAX_DUE_PER_TUNNEL) && !due.has(key)) {
      this.counters.add('dueFull');
      return false;
    }
    due.set(key, { tunnel, option: { ...option, clientAddress: option.clientAddress.slice() }, remaining: packets });
    return true;
  }

  /** Forgets what was due for a mapping (it ended). */
  cancel(tunnel: Tunnel, protocol: number, natPort: number): void {
    tunnel.due.delete(dueKey(protocol, natPort));
  }

  encapsulate(out: PacketBatch, from: number, natAddress: number, host: number, protocol: number, natPort: number): void {
    let t = this.byHost.get(host);
    while (t !== undefined && t.natAddress !== natAddress) t = t.next;
    if (t === undefined) return;
    const values = this.values;
    const index = this.index;
    let mapping: MappingOption | null = null;
    const due = t.due;
    if (due.size !== 0) {
      const key = protocol * 0x1_0000 + natPort;
      const d = due.get(key);
      if (d !== undefined) {
        mapping = d.option;
        if (mapping.event === MappingEvent.CREATED) values[index.createdOptions]!++;
        else values[index.refreshOptions]!++;
        if (--d.remaining <= 0) {
          due.delete(key);
          if (mapping.event === MappingEvent.CREATED) this.settled.push(d);
        }
      }
    }
    const encap = t.encap;
    const offsets = out.offsets;
    const lengths = out.lengths;
    const buffer = out.buffer;
    const end = out.count;
    try {
      // A translation that fragmented fills several slots: the option rides on the first only.
      for (let i = from; i < end; i++) {
        const offset = offsets[i]!;
        const length = lengths[i]!;
        const start = encap.encapsulate(buffer, offset, length, host, i === from ? mapping : null);
        offsets[i] = start;
        lengths[i] = length + offset - start;
      }
      values[index.packetsEncapsulated]! += end - from;
    } catch {
      // Only a caller bug gets here (headroom too small, an outer packet above 65535 bytes).
      out.truncate(from);
      values[index.encapsulationFailed]!++;
    }
  }
}
