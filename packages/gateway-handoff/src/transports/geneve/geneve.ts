// The Geneve transport of handoff (docs/protocol/geneve-options.md), composed: which hosts get a
// tunnel (their receiver announced Geneve), the agent's datagrams as control packets (control.ts),
// mapping events as options on data packets or Deleted control packets instead of CREATED/DELETED
// datagrams, the tunnels of the output path (tunnels.ts), periodic Refresh and hand-off of mappings
// whose Created rode on their packets. In mode auto it composes a fallback transport (handoff
// messages) for hosts without a tunnel. Nothing here runs per packet except TunnelTable.encapsulate.

import { Capability, HANDOFF_PORT, MessageType, createEntry, type HandoffEntry } from '@nat64/handoff-codec';
import { DECAP_STATUS_NAMES, MappingEvent, type MappingOption } from '@nat64/geneve';
import { PeerState } from '@nat64/handoff-agent';
import { Counters, statusCounters } from '@nat64/service';
import { uint32ToIpv4Text } from '@nat64/wire';
import { needsHousekeeping, type CounterLine, type HandoffTransport, type HostTransport, type MappingReporter, type TransportContext } from '../transport.js';
import type { GeneveConfig } from './config.js';
import { GENEVE_COUNTERS, type GeneveCounterName } from './counters.js';
import { GeneveControl } from './control.js';
import { TunnelTable } from './tunnels.js';

/** The handoff v1 header's Type octet (handoff v1 section 5.1). */
const TYPE_OFFSET = 1;

export interface GeneveOptions {
  readonly settings: GeneveConfig;
  /**
   * Mode auto: the transport toward hosts without a tunnel (handoff messages), built on a context whose
   * inbound passes through this one. Null (mode geneve): such hosts get control packets too.
   */
  readonly fallback: ((context: TransportContext) => HandoffTransport) | null;
  /** Options due per tunnel at most (default IMPL.MAX_DUE_PER_TUNNEL; tests lower it). */
  readonly maxDuePerTunnel?: number;
}

/** Handoff over Geneve tunnels and control packets on UDP 6081. Contract: transport.ts. */
export class GeneveTransport implements HandoffTransport {
  /** The capabilities the gateway announces in HELLO (handoff v1 section 5.4): with a fallback, both. */
  static capabilities(fallback: boolean): number {
    return fallback ? Capability.HANDOFF_V1 | Capability.GENEVE : Capability.GENEVE;
  }

  readonly counters: Counters<GeneveCounterName> = new Counters(GENEVE_COUNTERS);
  readonly tunnels: TunnelTable;
  readonly control: GeneveControl;
  readonly fallback: HandoffTransport | null;
  private readonly settings: GeneveConfig;
  /** Peers ("nat/host") whose port 6081 answered ICMP port unreachable: no tunnel until they speak Geneve again. */
  private readonly refused = new Set<string>();
  /** Live mappings re-announced by the timer ride as Refresh options. */
  private readonly refresher: MappingReporter = {
    mappingCreated: (natAddress, host, entry, ref) => this.carry(natAddress, host, entry, MappingEvent.REFRESH, 1, ref),
    mappingDeleted: (natAddress, host, entry, reason) => this.mappingDeleted(natAddress, host, entry, reason),
  };
  private detach: (() => void) | null = null;
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

  constructor(
    private readonly context: TransportContext,
    options: GeneveOptions,
  ) {
    const { settings } = options;
    const key = context.key;
    this.settings = settings;
    const tunnelSettings = {
      optionClass: settings.optionClass,
      flowHashSeed: settings.flowHashSeed,
      auth: key === undefined ? undefined : { keyId: settings.keyId, secret: key },
      ...(options.maxDuePerTunnel === undefined ? {} : { maxDue: options.maxDuePerTunnel }),
    };
    this.tunnels = new TunnelTable(tunnelSettings, this.counters);
    this.control = new GeneveControl(context.engine, tunnelSettings, this.counters, context.maxDatagram);
    this.fallback =
      options.fallback === null
        ? null
        : options.fallback({
            ...context,
            inbound: {
              // A datagram from UDP 62863 reached the agent: its HELLO-ACK may have changed the receiver's transports.
              receive: (natAddress, host, hostPort, payload, authenticated) => {
                context.inbound.receive(natAddress, host, hostPort, payload, authenticated);
                try {
                  this.reconsider(natAddress, host, true);
                } catch (error) {
                  context.failed(error);
                }
              },
              // ICMP port unreachable about a datagram to 62863: the agent's business, unless the host is reached over Geneve.
              portUnreachable: (natAddress, host) => {
                if (this.tunnels.get(natAddress, host) === undefined) context.inbound.portUnreachable(natAddress, host);
              },
            },
          });
  }

  /** Wires control packets, ICMP errors and the output encapsulator into the engine (and starts the fallback). */
  start(): void {
    if (this.detach !== null) return;
    const engine = this.context.engine;
    const offControl = this.control.attach({
      receive: (natAddress, host, payload, authenticated) => {
        this.refused.delete(`${natAddress}/${host}`);
        this.context.inbound.receive(natAddress, host, HANDOFF_PORT, payload, authenticated);
        try {
          this.reconsider(natAddress, host, true);
        } catch (error) {
          this.context.failed(error);
        }
      },
      portUnreachable: (natAddress, host) => {
        try {
          this.genevePortUnreachable(natAddress, host);
        } catch (error) {
          this.context.failed(error);
        }
      },
    });
    engine.onOutput(this.tunnels);
    this.fallback?.start();
    this.detach = () => {
      engine.onOutput(null);
      offControl();
    };
  }

  stop(): void {
    this.fallback?.stop();
    this.detach?.();
    this.detach = null;
  }

  /** The agent's send: a control packet toward tunnel hosts (and everyone in mode geneve), else UDP 62863; HELLOs both ways in mode auto. */
  send(natAddress: number, host: number, payload: Uint8Array): void {
    const tunnel = this.tunnels.get(natAddress, host);
    if (tunnel !== undefined) return this.control.send(natAddress, host, tunnel.vni, payload);
    const vni = Math.max(0, this.context.agent.peerCookieLow24(natAddress, host));
    if (this.fallback === null) return this.control.send(natAddress, host, vni, payload);
    this.fallback.send(natAddress, host, payload);
    // Discovery (mode auto): a Geneve-only receiver answers a HELLO only on 6081.
    if (payload.length > TYPE_OFFSET && payload[TYPE_OFFSET] === MessageType.HELLO) this.control.send(natAddress, host, vni, payload);
  }

  /** A receiver came up: the transport its HELLO-ACK asks for first, then its live mappings, reliably. */
  peerUp(natAddress: number, host: number): void {
    this.reconsider(natAddress, host, false);
    this.announce(natAddress, host);
  }

  /**
   * Nothing listens on the host's 6081: a tunnel host goes back to plain IPv4 and handoff messages (and
   * the agent probes it); in mode auto a host without a tunnel only answered a discovery HELLO: counted.
   */
  private genevePortUnreachable(natAddress: number, host: number): void {
    const hadTunnel = this.tunnels.get(natAddress, host) !== undefined;
    if (!hadTunnel && this.fallback !== null) return;
    this.refused.add(`${natAddress}/${host}`);
    if (hadTunnel) this.switchToHandoff(natAddress, host, 'port 6081 unreachable');
    this.context.inbound.portUnreachable(natAddress, host);
  }

  /**
   * Puts the peer on the transport its receiver's last HELLO-ACK asks for: a tunnel (with the VNI of its
   * cookie) when it announced Geneve, none otherwise. `announce`: re-announce its live mappings on the
   * new transport (not when the agent's onPeerUp is about to).
   */
  reconsider(natAddress: number, host: number, announce: boolean): void {
    const agent = this.context.agent;
    const capabilities = agent.peerCapabilities(natAddress, host);
    const vni = agent.peerCookieLow24(natAddress, host);
    const up = agent.peerState(natAddress, host) >= PeerState.ACKNOWLEDGING;
    const refused = this.refused.has(`${natAddress}/${host}`);
    const tunnel = this.tunnels.get(natAddress, host);
    if (up && capabilities >= 0 && (capabilities & Capability.GENEVE) !== 0 && vni >= 0 && !refused) {
      if (tunnel !== undefined && tunnel.vni === vni) return;
      if (this.tunnels.open(natAddress, host, vni, this.context.clock()) === undefined) return;
      if (tunnel === undefined) {
        this.counters.add('switchedToGeneve');
        this.context.logger.info(
          { nat: uint32ToIpv4Text(natAddress), host: uint32ToIpv4Text(host), vni },
          'geneve: host reached through a tunnel (its receiver announced Geneve)',
        );
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
    this.context.mappings.announce(natAddress, host, this.context.agent);
  }

  private switchToHandoff(natAddress: number, host: number, why: string): void {
    if (!this.tunnels.close(natAddress, host)) return;
    this.counters.add('switchedToHandoff');
    const to = this.fallback !== null ? 'handoff messages' : 'plain IPv4';
    this.context.logger.info({ nat: uint32ToIpv4Text(natAddress), host: uint32ToIpv4Text(host), why }, `geneve: tunnel closed, host reached with ${to}`);
  }

  mappingCreated(natAddress: number, host: number, entry: HandoffEntry, ref?: number): void {
    this.carry(natAddress, host, entry, MappingEvent.CREATED, this.settings.createdPackets, ref);
  }

  /** A mapping toward a tunnel host rides as an option on its next `packets` data packets; toward others, as a CREATED. */
  private carry(natAddress: number, host: number, entry: HandoffEntry, event: MappingEvent, packets: number, ref?: number): void {
    const tunnel = this.tunnels.get(natAddress, host);
    if (tunnel === undefined) return this.context.agent.mappingCreated(natAddress, host, entry, ref);
    if (this.tunnels.schedule(tunnel, this.toOption(entry, event), packets)) return;
    // Too many options waiting for packets on this tunnel (single-packet flows pile up): the mapping
    // goes as a CREATED of the agent's reliable stream, inside a control packet, so it is still logged.
    this.context.agent.mappingCreated(natAddress, host, entry, ref);
  }

  mappingDeleted(natAddress: number, host: number, entry: HandoffEntry, reason: number): void {
    const tunnel = this.tunnels.get(natAddress, host);
    if (tunnel === undefined) return this.context.agent.mappingDeleted(natAddress, host, entry, reason);
    this.tunnels.cancel(tunnel, entry.protocol, entry.natPort);
    this.control.sendDeleted(natAddress, host, tunnel.vni, this.toOption(entry, MappingEvent.DELETED));
  }

  /**
   * End of a batch: mappings whose Created rode on all its packets are handed off to an authoritative
   * receiver (it applies the option before it delivers the packet; the periodic Refresh repairs a loss).
   */
  batchEnd(): void {
    this.fallback?.batchEnd();
    const settled = this.tunnels.settled;
    if (settled.length === 0) return;
    const e = this.entry;
    const one = [e];
    for (const d of settled) {
      const { natAddress, host } = d.tunnel;
      if (this.tunnels.get(natAddress, host) !== d.tunnel || !this.context.agent.isAuthoritative(natAddress, host)) continue;
      const o = d.option;
      e.protocol = o.protocol;
      e.natAddress = natAddress;
      e.natPort = o.natPort;
      e.clientAddress.set(o.clientAddress);
      e.clientPort = o.clientPort;
      e.time = o.creationTimeUs;
      if (this.context.mappings.handedOff(natAddress, host, one) > 0) this.counters.add('handedOffByGeneve');
    }
    settled.length = 0;
  }

  /** Refreshes are due only with tunnels (or whatever the fallback keeps). */
  hasHousework(): boolean {
    return this.tunnels.size > 0 || needsHousekeeping(this.fallback);
  }

  /** The timer: every tunnel's live mappings get a Refresh on their next packet once per refresh interval. */
  tick(): void {
    this.fallback?.tick?.();
    if (this.tunnels.size === 0) return;
    const now = this.context.clock();
    const interval = this.settings.refreshMs;
    for (const tunnel of this.tunnels.all()) {
      if (now - tunnel.refreshedAt < interval) continue;
      tunnel.refreshedAt = now;
      this.context.mappings.announce(tunnel.natAddress, tunnel.host, this.refresher);
    }
  }

  /** 'geneve' with its VNI for a tunnel host; otherwise the fallback's view, or 'geneve' (control packets) without one. */
  hostTransport(natAddress: number, host: number): HostTransport {
    const tunnel = this.tunnels.get(natAddress, host);
    if (tunnel !== undefined) return { transport: 'geneve', vni: tunnel.vni };
    return this.fallback?.hostTransport(natAddress, host) ?? { transport: 'geneve', vni: null };
  }

  /** The fallback's counters, then the group geneve. */
  counterLines(): CounterLine[] {
    const lines: CounterLine[] = this.fallback?.counterLines() ?? [];
    for (const name of Object.keys(GENEVE_COUNTERS) as GeneveCounterName[]) {
      lines.push({ group: 'geneve', name, value: this.counters.get(name), explanation: GENEVE_COUNTERS[name] });
    }
    lines.push({ group: 'geneve', name: 'tunnels', value: this.tunnels.size, explanation: 'gauge: hosts reached through a Geneve tunnel' });
    for (const counter of statusCounters(this.control.drops, DECAP_STATUS_NAMES, 'drop', (name) => `packets to pool4:6081 dropped: ${name}`)) {
      lines.push({ group: 'geneve', ...counter });
    }
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
