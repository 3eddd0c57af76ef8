// The Geneve transport of handoff (docs/protocol/geneve-options.md), composed: which transport each
// receiver gets (transport choice), the agent's datagrams as control packets (control.ts), mapping
// events as options on data packets or Deleted control packets instead of CREATED/DELETED datagrams
// (the MappingReporter the tracker calls), the tunnels of the output path (tunnels.ts), periodic
// Refresh and hand-off of mappings whose Created rode on their packets. Nothing here runs per packet
// except TunnelTable.encapsulate.

import { Capability, HANDOFF_PORT, MessageType, createEntry, type HandoffEntry } from '@nat64/handoff-codec';
import { DECAP_STATUS_NAMES, MappingEvent, type MappingOption } from '@nat64/geneve';
import { PeerState, type HandoffAgent } from '@nat64/handoff-agent';
import { formatIpv4, type Counters, type Logger } from '@nat64/service';
import type { GeneveConfig } from '../../../config.js';
import type { Engine } from '../../../engine/engine.js';
import type { MappingReporter, MappingTracker } from '../../tracker.js';
import { createGeneveCounters, GENEVE_COUNTERS, type GeneveCounterName } from './counters.js';
import { GeneveControl } from './control.js';
import { TunnelTable } from './tunnels.js';

/** The handoff v1 header's Type octet (handoff v1 section 5.1). */
const TYPE_OFFSET = 1;

export interface GeneveTransportOptions {
  readonly mode: 'geneve' | 'auto';
  readonly settings: GeneveConfig;
  /** handoff.key, used with settings.keyId for the authentication option. */
  readonly key: Uint8Array | undefined;
  /** The largest handoff datagram the agent sends. */
  readonly maxDatagram: number;
  readonly engine: Engine;
  readonly clock: () => number;
  readonly logger: Logger;
  /** Sends a handoff datagram on UDP 62863 (mode auto, toward hosts without a tunnel). */
  readonly sendHandoff: (natAddress: number, host: number, payload: Uint8Array) => void;
  /** Options due per tunnel at most (default IMPL.MAX_DUE_PER_TUNNEL; tests lower it). */
  readonly maxDuePerTunnel?: number;
}

/** A counter line of `stats` (group geneve). */
export interface GeneveCounterLine {
  group: 'geneve';
  name: string;
  value: number;
  explanation: string;
}

/**
 * Contract: bind(agent, tracker) once, then start(); `send` is the agent's send, the object itself the
 * tracker's MappingReporter. Every method runs on the gateway's event loop; none throws for anything a
 * packet says.
 */
export class GeneveTransport implements MappingReporter {
  readonly counters: Counters<GeneveCounterName> = createGeneveCounters();
  readonly tunnels: TunnelTable;
  readonly control: GeneveControl;
  private agent!: HandoffAgent;
  private tracker!: MappingTracker;
  /** Peers ("nat/host") whose port 6081 answered ICMP port unreachable: no tunnel until they speak Geneve again. */
  private readonly refused = new Set<string>();
  /** Re-announcing live mappings as Refresh options (tick). */
  private refreshing = false;
  /** Re-announcing live mappings through the agent's reliable stream (a host came up or changed transport). */
  private reliably = false;
  private readonly option: MappingOption = {
    protocol: 0,
    event: MappingEvent.CREATED,
    natAddress: 0,
    natPort: 0,
    clientAddress: new Uint8Array(16),
    clientPort: 0,
    creationTimeUs: 0,
  };
  private readonly entry: HandoffEntry = createEntry();

  constructor(private readonly options: GeneveTransportOptions) {
    const { settings, key } = options;
    const tunnelSettings = {
      optionClass: settings.optionClass,
      flowHashSeed: settings.flowHashSeed,
      auth: key === undefined ? undefined : { keyId: settings.keyId, secret: key },
      ...(options.maxDuePerTunnel === undefined ? {} : { maxDue: options.maxDuePerTunnel }),
    };
    this.tunnels = new TunnelTable(tunnelSettings, this.counters);
    this.control = new GeneveControl(options.engine, tunnelSettings, this.counters, options.maxDatagram);
  }

  /** The capabilities the gateway announces in HELLO (handoff v1 section 5.4). */
  static capabilities(mode: 'handoff' | 'geneve' | 'auto'): number {
    if (mode === 'handoff') return Capability.HANDOFF_V1;
    return mode === 'geneve' ? Capability.GENEVE : Capability.HANDOFF_V1 | Capability.GENEVE;
  }

  bind(agent: HandoffAgent, tracker: MappingTracker): void {
    this.agent = agent;
    this.tracker = tracker;
  }

  /** Wires control packets, ICMP errors and the output encapsulator into the engine; returns the undo function. */
  start(): () => void {
    const engine = this.options.engine;
    const offControl = this.control.attach({
      receive: (natAddress, host, payload, authenticated) => {
        this.refused.delete(`${natAddress}/${host}`);
        this.agent.receive(natAddress, host, HANDOFF_PORT, payload, authenticated);
        this.reconsider(natAddress, host, true);
      },
      portUnreachable: (natAddress, host) => this.genevePortUnreachable(natAddress, host),
    });
    engine.onOutput(this.tunnels);
    return () => {
      engine.onOutput(null);
      offControl();
    };
  }

  /** The agent's send: a control packet toward tunnel hosts (and everyone in mode geneve), else UDP 62863; HELLOs both ways in mode auto. */
  send(natAddress: number, host: number, payload: Uint8Array): void {
    const tunnel = this.tunnels.get(natAddress, host);
    if (tunnel !== undefined) return this.control.send(natAddress, host, tunnel.vni, payload);
    const vni = Math.max(0, this.agent.peerCookieLow24(natAddress, host));
    if (this.options.mode === 'geneve') return this.control.send(natAddress, host, vni, payload);
    this.options.sendHandoff(natAddress, host, payload);
    // Discovery (mode auto): a Geneve-only receiver answers a HELLO only on 6081.
    if (payload.length > TYPE_OFFSET && payload[TYPE_OFFSET] === MessageType.HELLO) this.control.send(natAddress, host, vni, payload);
  }

  /** A datagram from UDP 62863 reached the agent: its HELLO-ACK may have changed the receiver's transports. */
  handoffReceived(natAddress: number, host: number): void {
    this.reconsider(natAddress, host, true);
  }

  /** ICMP port unreachable about a datagram to 62863: the agent's business, unless the host is reached over Geneve. */
  handoffPortUnreachable(natAddress: number, host: number): void {
    if (this.tunnels.get(natAddress, host) === undefined) this.agent.portUnreachable(natAddress, host);
  }

  /**
   * Nothing listens on the host's 6081: a tunnel host goes back to plain IPv4 and handoff messages (and
   * the agent probes it); in mode auto a host without a tunnel only answered a discovery HELLO: counted.
   */
  private genevePortUnreachable(natAddress: number, host: number): void {
    const hadTunnel = this.tunnels.get(natAddress, host) !== undefined;
    if (!hadTunnel && this.options.mode === 'auto') return;
    this.refused.add(`${natAddress}/${host}`);
    if (hadTunnel) this.switchToHandoff(natAddress, host, 'port 6081 unreachable');
    this.agent.portUnreachable(natAddress, host);
  }

  /**
   * Puts the peer on the transport its receiver's last HELLO-ACK asks for: a tunnel (with the VNI of its
   * cookie) when it announced Geneve, none otherwise. `announce`: re-announce its live mappings on the
   * new transport (not when the agent's onPeerUp is about to).
   */
  reconsider(natAddress: number, host: number, announce: boolean): void {
    const agent = this.agent;
    const capabilities = agent.peerCapabilities(natAddress, host);
    const vni = agent.peerCookieLow24(natAddress, host);
    const up = agent.peerState(natAddress, host) >= PeerState.ACKNOWLEDGING;
    const refused = this.refused.has(`${natAddress}/${host}`);
    const tunnel = this.tunnels.get(natAddress, host);
    if (up && capabilities >= 0 && (capabilities & Capability.GENEVE) !== 0 && vni >= 0 && !refused) {
      if (tunnel !== undefined && tunnel.vni === vni) return;
      if (this.tunnels.open(natAddress, host, vni, this.options.clock()) === undefined) return;
      if (tunnel === undefined) {
        this.counters.add('switchedToGeneve');
        this.options.logger.info({ nat: formatIpv4(natAddress), host: formatIpv4(host), vni }, 'geneve: host reached through a tunnel (its receiver announced Geneve)');
      }
      if (announce) this.announce(natAddress, host);
    } else if (tunnel !== undefined && capabilities >= 0 && (capabilities & Capability.GENEVE) === 0) {
      this.switchToHandoff(natAddress, host, 'its receiver no longer announces Geneve');
      if (announce) this.announce(natAddress, host);
    }
  }

  /**
   * Announces every live mapping toward `host` once more, reliably: as CREATED entries of the agent's
   * stream (inside control packets toward a tunnel host), acknowledged after the receiver committed
   * them. Options would need data packets, and an idle mapping may send none.
   */
  announce(natAddress: number, host: number): void {
    this.reliably = true;
    try {
      this.tracker.announce(natAddress, host);
    } finally {
      this.reliably = false;
    }
  }

  private switchToHandoff(natAddress: number, host: number, why: string): void {
    if (!this.tunnels.close(natAddress, host)) return;
    this.counters.add('switchedToHandoff');
    const to = this.options.mode === 'auto' ? 'handoff messages' : 'plain IPv4';
    this.options.logger.info({ nat: formatIpv4(natAddress), host: formatIpv4(host), why }, `geneve: tunnel closed, host reached with ${to}`);
  }

  mappingCreated(natAddress: number, host: number, entry: HandoffEntry): void {
    const tunnel = this.tunnels.get(natAddress, host);
    if (tunnel === undefined || this.reliably) return this.agent.mappingCreated(natAddress, host, entry);
    const refresh = this.refreshing;
    const event = refresh ? MappingEvent.REFRESH : MappingEvent.CREATED;
    if (this.tunnels.schedule(tunnel, this.toOption(entry, event), refresh ? 1 : this.options.settings.createdPackets)) return;
    // Too many options waiting for packets on this tunnel (single-packet flows pile up): the mapping
    // goes as a CREATED of the agent's reliable stream, inside a control packet, so it is still logged.
    this.agent.mappingCreated(natAddress, host, entry);
  }

  mappingDeleted(natAddress: number, host: number, entry: HandoffEntry, reason: number): void {
    const tunnel = this.tunnels.get(natAddress, host);
    if (tunnel === undefined) return this.agent.mappingDeleted(natAddress, host, entry, reason);
    this.tunnels.cancel(tunnel, entry.protocol, entry.natPort);
    this.control.sendDeleted(natAddress, host, tunnel.vni, this.toOption(entry, MappingEvent.DELETED));
  }

  isAuthoritative(natAddress: number, host: number): boolean {
    return this.agent.isAuthoritative(natAddress, host);
  }

  /**
   * End of a batch: mappings whose Created rode on all its packets are handed off to an authoritative
   * receiver (it applies the option before it delivers the packet; the periodic Refresh repairs a loss).
   */
  batchEnd(): void {
    const settled = this.tunnels.settled;
    if (settled.length === 0) return;
    const e = this.entry;
    const one = [e];
    for (const d of settled) {
      const { natAddress, host } = d.tunnel;
      if (this.tunnels.get(natAddress, host) !== d.tunnel || !this.agent.isAuthoritative(natAddress, host)) continue;
      const o = d.option;
      e.protocol = o.protocol;
      e.natAddress = natAddress;
      e.natPort = o.natPort;
      e.clientAddress.set(o.clientAddress);
      e.clientPort = o.clientPort;
      e.time = o.creationTimeUs;
      const before = this.tracker.handedOffCount;
      this.tracker.handedOff(natAddress, host, one);
      if (this.tracker.handedOffCount !== before) this.counters.add('handedOffByGeneve');
    }
    settled.length = 0;
  }

  /** The timer: every tunnel's live mappings get a Refresh on their next packet once per refresh interval. */
  tick(): void {
    if (this.tunnels.size === 0) return;
    const now = this.options.clock();
    const interval = this.options.settings.refreshMs;
    for (const tunnel of this.tunnels.all()) {
      if (now - tunnel.refreshedAt < interval) continue;
      tunnel.refreshedAt = now;
      this.refreshing = true;
      try {
        this.tracker.announce(tunnel.natAddress, tunnel.host);
      } finally {
        this.refreshing = false;
      }
    }
  }

  /** 'geneve' with its VNI, or 'handoff', for `hosts`. */
  transportOf(natAddress: number, host: number): { transport: 'geneve' | 'handoff'; vni: number | null } {
    const tunnel = this.tunnels.get(natAddress, host);
    if (tunnel !== undefined) return { transport: 'geneve', vni: tunnel.vni };
    return { transport: this.options.mode === 'geneve' ? 'geneve' : 'handoff', vni: null };
  }

  counterLines(): GeneveCounterLine[] {
    const lines: GeneveCounterLine[] = [];
    for (const name of Object.keys(GENEVE_COUNTERS) as GeneveCounterName[]) {
      lines.push({ group: 'geneve', name, value: this.counters.get(name), explanation: GENEVE_COUNTERS[name] });
    }
    lines.push({ group: 'geneve', name: 'tunnels', value: this.tunnels.size, explanation: 'gauge: hosts reached through a Geneve tunnel' });
    DECAP_STATUS_NAMES.forEach((name, status) => {
      const value = this.control.drops[status]!;
      if (value > 0) lines.push({ group: 'geneve', name: `drop.${name}`, value, explanation: `packets to pool4:6081 dropped: ${name}` });
    });
    return lines;
  }

  private toOption(entry: HandoffEntry, event: MappingEvent): MappingOption {
    const o = this.option;
    o.protocol = entry.protocol;
    o.event = event;
    o.natAddress = entry.natAddress;
    o.natPort = entry.natPort;
    o.clientAddress.set(entry.clientAddress);
    o.clientPort = entry.clientPort;
    o.creationTimeUs = entry.time;
    return o;
  }
}
