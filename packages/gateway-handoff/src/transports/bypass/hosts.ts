// The bypass transport's per-host state: one record per IPv4 host the gateway offered bypass to, with
// its identifiers (VNI, the gateway's MAC toward it, the server's MAC once it answered), its encapsulators,
// its neighbor unreachability state (bypass §6.3) and its counters. Pure state; no I/O.

import { BypassIpv4Encapsulator, deriveGatewayMac, deriveVni, type BypassPolicy } from '@nat64/geneve';
import type { ValueOf } from '@nat64/wire';

/** Where a host is in the offer / acceptance / liveness cycle. */
export const HostState = {
  /** Offers go out; flows are translated. */
  OFFERED: 0,
  /** It answered: new flows go through the tunnel. */
  ACCEPTED: 1,
  /** It stopped answering: flows are translated again, offers continue. */
  UNREACHABLE: 2,
} as const;
export type HostState = ValueOf<typeof HostState>;
export const HOST_STATE_NAMES = ['offered', 'bypass', 'unreachable'] as const;

export interface HostSettings {
  readonly persistentSecret: Uint8Array;
  readonly message: string;
  readonly flowHashSeed: number;
  /** The outer UDP checksum on data packets (solicitations and advertisements always carry one). */
  readonly udpChecksum: boolean;
}

export class BypassHost {
  state: HostState = HostState.OFFERED;
  readonly vni: number;
  /** How packets from the host are checked (bypass §7): its VNI, no option. */
  readonly policy: BypassPolicy;
  /** PREFIX::HOST, the target of the offers and the only source accepted from the tunnel. */
  readonly target = new Uint8Array(16);
  /** The gateway's MAC toward this host, and the previous one until `previousMacUntil`. */
  mac: Uint8Array;
  previousMac: Uint8Array | null = null;
  previousMacUntil = -Infinity;
  readonly serverMac = new Uint8Array(6);
  /** Data packets: an empty option. Solicitations: the log message (bypass §3.1). */
  readonly encap: BypassIpv4Encapsulator;
  readonly offerEncap: BypassIpv4Encapsulator;
  /** Advertisements: the empty option, always with a UDP checksum. */
  readonly controlEncap: BypassIpv4Encapsulator;
  /** Live mappings toward the host (translated flows), and when the last one was created. */
  mappings = 0;
  lastMappingAt: number;
  lastOfferAt = -Infinity;
  acceptedAt = -Infinity;
  /** The last valid frame from the host, and the last data frame sent to it (engine clock, ms). */
  lastHeardAt = -Infinity;
  lastSentAt = -Infinity;
  /** Neighbor unreachability: when the first probe is due (-1: not started) and how many went out. */
  probeAt = -1;
  probes = 0;
  packetsOut = 0;
  bytesOut = 0;
  packetsIn = 0;
  bytesIn = 0;
  dropsIn = 0;
  fallbacks = 0;

  constructor(
    /** The pool4 address the tunnel leaves from; it stays the same while the MAC changes (bypass §5.2). */
    readonly nat: number,
    readonly host: number,
    settings: HostSettings,
    transient: Uint8Array,
    now: number,
  ) {
    this.vni = deriveVni(settings.persistentSecret, host);
    this.policy = { vni: this.vni, direction: 'to-gateway' };
    this.mac = deriveGatewayMac(transient, host);
    this.lastMappingAt = now;
    const common = { source: nat, vni: this.vni, flowHashSeed: settings.flowHashSeed };
    this.encap = new BypassIpv4Encapsulator({ ...common, message: '', udpChecksum: settings.udpChecksum });
    this.controlEncap = new BypassIpv4Encapsulator({ ...common, message: '' });
    this.offerEncap = new BypassIpv4Encapsulator({ ...common, message: settings.message });
  }

  /** A new transient secret: the MAC changes, the old one is accepted for `graceMs`. */
  rotateMac(transient: Uint8Array, now: number, graceMs: number): void {
    this.previousMac = this.mac;
    this.previousMacUntil = now + graceMs;
    this.mac = deriveGatewayMac(transient, this.host);
  }
}
