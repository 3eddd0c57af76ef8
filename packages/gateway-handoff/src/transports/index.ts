// The transports handoff can reach the hosts with, by the value of `handoff.transport`: one is chosen
// once, when handoff is built (handoff.ts), and nothing else knows which. A new transport is a folder
// beside messages/ and geneve/ implementing transport.ts, and one entry here (and its settings, if
// any, read in ../config.ts).

import { Capability } from '@nat64/handoff-codec';
import type { HandoffConfig } from '../config.js';
import { BypassTransport } from './bypass/bypass.js';
import { GENEVE_OVERHEAD } from './geneve/config.js';
import { GeneveTransport } from './geneve/geneve.js';
import { MessagesTransport } from './messages/messages.js';
import type { HandoffTransport, TransportContext } from './transport.js';

export interface TransportKind {
  /** The capabilities the gateway announces in its HELLOs (handoff v1 section 5.4). */
  readonly capabilities: number;
  /** Bytes it may write in front of a translated IPv4 packet: translation.ipv4NextHopMtu defaults to the TUN MTU minus these. */
  readonly overhead: number;
  /** Why it cannot take TUN offload (virtio-net headers), or null when it can. */
  readonly refusesOffload: string | null;
  /**
   * With offload, whether the device may hand over TCP segments of up to 64 KiB (TSO on reads): false
   * for a transport that must fit every packet it takes into a tunnel of its MTU, so the kernel splits them first.
   */
  readonly receivesSegments: boolean;
  /**
   * Whether mapping events ride on the mapping's own data packets (Geneve options, whose Created goes on
   * the first packet): then the tracker reports a new mapping at once, before that packet is
   * encapsulated, instead of at the end of its batch.
   */
  readonly mappingsRideOnPackets: boolean;
  create(context: TransportContext, config: HandoffConfig): HandoffTransport;
}

const GENEVE_REFUSES_OFFLOAD = 'Geneve packets cannot carry unsplit TCP segments';

export const TRANSPORTS = {
  /** Handoff messages on UDP 62863. */
  handoff: {
    capabilities: Capability.HANDOFF_V1,
    overhead: 0,
    refusesOffload: null,
    receivesSegments: true,
    mappingsRideOnPackets: false,
    create: (context) => new MessagesTransport(context),
  },
  /** Geneve tunnels and control packets on UDP 6081 only. */
  geneve: {
    capabilities: GeneveTransport.capabilities(false),
    overhead: GENEVE_OVERHEAD,
    refusesOffload: GENEVE_REFUSES_OFFLOAD,
    receivesSegments: false,
    mappingsRideOnPackets: true,
    create: (context, config) => new GeneveTransport(context, { settings: config.geneve, fallback: null }),
  },
  /**
   * Every way, in order: NAT64 bypass toward hosts that accept it, then Geneve toward hosts whose
   * receiver announces it, handoff messages toward the others, plain translation without a receiver.
   */
  auto: {
    capabilities: GeneveTransport.capabilities(true),
    overhead: GENEVE_OVERHEAD,
    refusesOffload: GENEVE_REFUSES_OFFLOAD,
    receivesSegments: false,
    mappingsRideOnPackets: true,
    create: (context, config) =>
      new BypassTransport(context, {
        settings: config.bypass,
        underlayMtu: config.mtu,
        fallback: (c) => new GeneveTransport(c, { settings: config.geneve, fallback: (m) => new MessagesTransport(m) }),
      }),
  },
  /** NAT64 bypass (docs/protocol/nat64-bypass.md) offered to every host; plain translation toward hosts that do not accept. No handoff messages. */
  bypass: {
    capabilities: Capability.HANDOFF_V1,
    overhead: 0,
    // Tunnelled packets fit the tunnel MTU, so TCP arrives split; translated flows' segments are coalesced again (tun.coalesce).
    refusesOffload: null,
    receivesSegments: false,
    mappingsRideOnPackets: false,
    create: (context, config) => new BypassTransport(context, { settings: config.bypass, underlayMtu: config.mtu, fallback: null }),
  },
} as const satisfies Record<string, TransportKind>;

/** The values of handoff.transport. */
export type TransportName = keyof typeof TRANSPORTS;
export const TRANSPORT_NAMES = Object.keys(TRANSPORTS) as TransportName[];

export { needsHousekeeping } from './transport.js';
export type { CounterLine, HandoffTransport, TransportContext } from './transport.js';
