// The NAT64 bypass transport (docs/protocol/nat64-bypass.md): every IPv4 host the gateway translates
// for is offered a tunnel (a Neighbor Solicitation for PREFIX::HOST with the bypass option, repeated
// like HELLO); a host that answers with a Neighbor Advertisement gets new flows untranslated through
// the tunnel (datapath.ts, the engine's bypass hook) while flows with a session stay translated; a
// host that stops answering neighbor unreachability probes falls back to translation, and offers go
// on. In mode auto it composes a fallback transport (Geneve mapping tunnels, then handoff messages)
// that gets the mapping events and the agent's datagrams, and the Geneve packets that are not bypass.

import {
  BYPASS_STATUS_NAMES,
  NEIGHBOR_FRAME_LENGTH,
  NdpStatus,
  NdpView,
  formatMac,
  inspectNeighborMessage,
  isBypassPacket,
  writeNeighborAdvertisement,
  writeNeighborSolicitation,
  Ndp,
} from '@nat64/geneve';
import type { HandoffEntry } from '@nat64/handoff-codec';
import { Counters, ExitCode, FatalError, statusCounters } from '@nat64/service';
import { bytesToIpv6Text, uint32ToIpv4Text } from '@nat64/wire';
import type { Ipv4View } from '@nat64/xlat';
import ipaddr from 'ipaddr.js';
import { PeerState } from '@nat64/handoff-agent';
import type { BypassRow, HostRow } from '../../hosts.js';
import { needsHousekeeping, type CounterLine, type HandoffTransport, type HostTransport, type TransportContext } from '../transport.js';
import type { BypassConfig } from './config.js';
import { BYPASS_COUNTERS, type BypassCounterName } from './counters.js';
import { IMPL, SPEC } from './constants.js';
import { BypassDatapath } from './datapath.js';
import { BypassHost, HOST_STATE_NAMES, HostState, type HostSettings } from './hosts.js';
import { loadPersistentSecret, TransientSecret } from './secrets.js';
import { TranslatedFlows } from './translated-flows.js';

export interface BypassOptions {
  readonly settings: BypassConfig;
  /** handoff.mtu, the path MTU toward the hosts: the tunnel MTU is at most this minus 54 (bypass §8). */
  readonly underlayMtu: number;
  /** Mode auto: the transport for everything that is not bypass. Null (mode bypass): plain translation. */
  readonly fallback: ((context: TransportContext) => HandoffTransport) | null;
}

/** Solicitations, advertisements and their outer headers are built here, outside the packet path. */
const HEADROOM = 104;

/** Bypass offers and tunnels on UDP 6081. Contract: transport.ts. */
export class BypassTransport implements HandoffTransport {
  readonly counters: Counters<BypassCounterName> = new Counters(BYPASS_COUNTERS);
  readonly datapath: BypassDatapath;
  readonly fallback: HandoffTransport | null;
  readonly settings: BypassConfig;
  /** Null when bypass is off: mode auto whose secret file could not be read or created (logged at start). */
  private readonly hostSettings: HostSettings | null;
  private readonly secretProblem: string | null;
  private readonly transient: TransientSecret;
  private readonly linkLocal: Uint8Array;
  private readonly control = new Uint8Array(HEADROOM + NEIGHBOR_FRAME_LENGTH);
  private readonly ndp = new NdpView();
  private detach: (() => void) | null = null;
  private lastScan = -Infinity;

  constructor(
    private readonly context: TransportContext,
    options: BypassOptions,
  ) {
    const settings = options.settings;
    this.settings = settings;
    let persistentSecret: Uint8Array | null = null;
    let problem: string | null = null;
    try {
      persistentSecret = loadPersistentSecret(settings.secretFile);
    } catch (error) {
      // Mode bypass cannot run without it; mode auto goes on with its other transports.
      if (options.fallback === null)
        throw new FatalError(`${(error as Error).message} (handoff.bypass.secretFile, --bypass-secret-file)`, ExitCode.cantCreate, { cause: error });
      problem = (error as Error).message;
    }
    this.secretProblem = problem;
    this.hostSettings =
      persistentSecret === null
        ? null
        : { persistentSecret, message: settings.message, flowHashSeed: settings.flowHashSeed, udpChecksum: settings.udpChecksum };
    this.transient = new TransientSecret(context.clock());
    this.linkLocal = Uint8Array.from(ipaddr.IPv6.parse(settings.linkLocal).toByteArray());
    const mtu = Math.max(SPEC.IPV6_MIN_MTU, Math.min(settings.mtu, options.underlayMtu - SPEC.TUNNEL_OVERHEAD));
    this.datapath = new BypassDatapath(context.engine, this.counters, context.clock, mtu, (t, buf, frame, length) => this.neighborFrame(t, buf, frame, length));
    if (settings.translatedFlows > 0) {
      this.datapath.translated = new TranslatedFlows(
        settings.translatedFlows,
        context.engine.table,
        this.counters,
        (host) => this.datapath.hosts.get(host)?.state === HostState.ACCEPTED,
      );
    }
    this.fallback = options.fallback === null ? null : options.fallback(context);
  }

  get mtu(): number {
    return this.datapath.mtu;
  }

  /** Wires the bypass hook and pool4:6081 (in front of the fallback's handler there, if any). */
  start(): void {
    if (this.detach !== null) return;
    const engine = this.context.engine;
    this.fallback?.start();
    if (this.hostSettings === null) {
      this.detach = () => {};
      this.context.logger.warn(
        { secretFile: this.settings.secretFile, problem: this.secretProblem },
        'bypass: off, no persistent secret (the other transports of mode auto go on)',
      );
      return;
    }
    const offLocal = engine.interceptLocal(SPEC.GENEVE_PORT, (previous) => (v) => this.local(v, previous));
    const undo = [offLocal];
    if (this.fallback === null) {
      undo.push(engine.onTunnelError(SPEC.GENEVE_PORT, (v) => this.tunnelError(v)));
    }
    engine.onBypass(this.datapath);
    const translated = this.datapath.translated;
    if (translated !== null) {
      const failed = this.context.failed;
      undo.push(
        engine.events.subscribe({
          sessionDeleted: (table, h, reason) => {
            try {
              translated.sessionDeleted(table, h, reason);
            } catch (error) {
              failed(error);
            }
          },
        }),
      );
    }
    this.detach = () => {
      engine.onBypass(null);
      for (const off of undo.reverse()) off();
    };
    this.context.logger.info(
      { mtu: this.datapath.mtu, secretFile: this.settings.secretFile, linkLocal: this.settings.linkLocal },
      'bypass: offering NAT64 bypass to every IPv4 host',
    );
  }

  stop(): void {
    this.detach?.();
    this.detach = null;
    this.fallback?.stop();
  }

  private local(v: Ipv4View, previous: ((v: Ipv4View) => void) | null): void {
    const payload = BypassDatapath.udpPayload(v);
    if (payload >= 0 && isBypassPacket(v.buf, payload, v.end - payload)) {
      try {
        this.datapath.inbound(v.dst, v.src, v.buf, payload, v.end - payload);
      } catch (error) {
        this.context.failed(error);
      }
      return;
    }
    if (previous !== null) return previous(v);
    this.counters.add(payload < 0 ? 'malformed' : 'notBypass');
  }

  /** An ICMP error about a tunnel packet: port unreachable means nothing listens there any more. */
  private tunnelError(v: Ipv4View): void {
    const inner = v.inner!;
    if (v.icmpType === SPEC.ICMP4_UNREACH && v.icmpCode === SPEC.ICMP4_PORT_UNREACH) {
      this.counters.add('portUnreachable');
      const t = this.datapath.hosts.get(inner.dst);
      if (t !== undefined && t.state === HostState.ACCEPTED) this.fallBack(t, 'port 6081 unreachable');
      return;
    }
    this.counters.add('otherErrors');
  }

  // (a) Mapping events: every host with a translated flow gets offers; the fallback carries them on.
  mappingCreated(natAddress: number, host: number, entry: HandoffEntry, ref?: number): void {
    this.fallback?.mappingCreated(natAddress, host, entry, ref);
    if (this.hostSettings === null) return;
    let t = this.datapath.hosts.get(host);
    const now = this.context.clock();
    if (t === undefined) {
      if (this.datapath.hosts.size >= IMPL.MAX_HOSTS) return this.counters.add('hostsFull');
      t = new BypassHost(natAddress, host, this.hostSettings, this.transient.current, now);
      this.datapath.hosts.set(host, t);
      this.context.engine.prefix.embed(host, t.target, 0);
    }
    t.mappings++;
    t.lastMappingAt = now;
    if (t.state !== HostState.ACCEPTED && now - t.lastOfferAt >= this.settings.offerIntervalMs) this.offer(t, now);
  }

  mappingDeleted(natAddress: number, host: number, entry: HandoffEntry, reason: number): void {
    this.fallback?.mappingDeleted(natAddress, host, entry, reason);
    const t = this.datapath.hosts.get(host);
    if (t !== undefined && t.mappings > 0) t.mappings--;
  }

  send(natAddress: number, host: number, payload: Uint8Array): void {
    this.fallback?.send(natAddress, host, payload);
  }

  peerUp(natAddress: number, host: number): void {
    this.fallback?.peerUp(natAddress, host);
  }

  batchEnd(): void {
    this.fallback?.batchEnd();
  }

  /**
   * Scans only while hosts are offered bypass (or the fallback has work). Without hosts, a MAC rotation
   * that fell due waits for the first scan after one arrives: no host is offered the old MAC meanwhile.
   */
  hasHousework(): boolean {
    return this.datapath.hosts.size > 0 || needsHousekeeping(this.fallback);
  }

  /** Offers, unreachability probes, MAC rotation and forgetting, at most every SCAN_MS. */
  tick(): void {
    this.fallback?.tick?.();
    const now = this.context.clock();
    if (now - this.lastScan < IMPL.SCAN_MS) return;
    this.lastScan = now;
    const s = this.settings;
    const rotate = now - this.transient.rotatedAt >= s.macRotationMs;
    if (rotate) {
      this.transient.rotate(now);
      this.counters.add('macRotations');
      this.context.logger.info({ hosts: this.datapath.hosts.size }, 'bypass: gateway MACs rotated (the old ones are accepted for the grace period)');
    }
    for (const t of this.datapath.hosts.values()) {
      if (rotate) {
        t.rotateMac(this.transient.current, now, s.macGraceMs);
        // The next solicitation carries the new MAC, which updates the server's neighbor cache (bypass §5.2).
        if (t.state === HostState.ACCEPTED) this.solicit(t, true);
      }
      if (t.state === HostState.ACCEPTED) this.liveness(t, now);
      else if (now - t.lastOfferAt >= s.offerIntervalMs) {
        if (t.mappings === 0 && now - t.lastMappingAt >= IMPL.FORGET_MS) this.datapath.hosts.delete(t.host);
        else this.offer(t, now);
      }
    }
  }

  /**
   * Neighbor unreachability on the tunnel link (RFC 4861 §7.3, bypass §6.3): once nothing came back for
   * REACHABLE_TIME while packets went out, wait DELAY_FIRST_PROBE_TIME, then send MAX_UNICAST_SOLICIT
   * unicast solicitations RETRANS_TIMER apart; a host that answers none falls back.
   */
  private liveness(t: BypassHost, now: number): void {
    if (now - t.lastHeardAt < this.settings.reachableMs || t.lastSentAt <= t.lastHeardAt) {
      t.probeAt = -1;
      t.probes = 0;
      return;
    }
    if (t.probeAt < 0) {
      t.probeAt = now + SPEC.DELAY_FIRST_PROBE_MS;
      return;
    }
    if (now < t.probeAt) return;
    if (t.probes >= SPEC.MAX_UNICAST_SOLICIT) return this.fallBack(t, `no answer to ${SPEC.MAX_UNICAST_SOLICIT} unicast solicitations`);
    this.solicit(t, true);
    t.probes++;
    t.probeAt = now + SPEC.RETRANS_TIMER_MS;
  }

  private fallBack(t: BypassHost, why: string): void {
    t.state = HostState.UNREACHABLE;
    t.fallbacks++;
    t.probeAt = -1;
    t.probes = 0;
    t.lastOfferAt = this.context.clock();
    this.counters.add('fallbacks');
    this.context.logger.warn(
      { nat: uint32ToIpv4Text(t.nat), host: uint32ToIpv4Text(t.host), vni: t.vni, why },
      'bypass: tunnel stopped answering, new flows are translated again (offers go on)',
    );
  }

  private offer(t: BypassHost, now: number): void {
    t.lastOfferAt = now;
    this.solicit(t, false);
  }

  /** A solicitation for PREFIX::HOST with the log message: multicast (an offer) or unicast to the server's MAC (a probe). */
  private solicit(t: BypassHost, unicast: boolean): void {
    const frame = HEADROOM;
    const end = writeNeighborSolicitation(this.control, frame, {
      sourceMac: t.mac,
      source: this.linkLocal,
      target: t.target,
      ...(unicast ? { destinationMac: t.serverMac } : {}),
    });
    this.counters.add(unicast ? 'probesSent' : 'offersSent');
    this.sendFrame(t, t.offerEncap, frame, end - frame);
  }

  private sendFrame(t: BypassHost, encap: BypassHost['encap'], frame: number, length: number): void {
    const start = encap.encapsulate(this.control, frame, length, t.host);
    this.context.engine.injectIpv4(this.control, start, frame + length - start);
  }

  /** A neighbor discovery frame from a host: its acceptance (NA for PREFIX::HOST) or a solicitation for our address. */
  private neighborFrame(t: BypassHost, buf: Uint8Array, frame: number, length: number): void {
    const ndp = this.ndp;
    const status = inspectNeighborMessage(buf, frame, length, ndp);
    if (status === NdpStatus.ADVERTISEMENT && sameBytes(buf, ndp.targetOffset, t.target, 16)) {
      t.serverMac.set(
        buf.subarray(
          ndp.linkLayerOffset >= 0 ? ndp.linkLayerOffset : ndp.sourceMacOffset,
          (ndp.linkLayerOffset >= 0 ? ndp.linkLayerOffset : ndp.sourceMacOffset) + 6,
        ),
      );
      const now = this.context.clock();
      t.lastHeardAt = now;
      t.probeAt = -1;
      t.probes = 0;
      if (t.state !== HostState.ACCEPTED) {
        t.state = HostState.ACCEPTED;
        t.acceptedAt = now;
        this.counters.add('accepted');
        this.context.logger.info(
          {
            nat: uint32ToIpv4Text(t.nat),
            host: uint32ToIpv4Text(t.host),
            vni: t.vni,
            mac: formatMac(t.mac),
            serverMac: formatMac(t.serverMac),
            target: bytesToIpv6Text(t.target),
          },
          'bypass: host accepted, new flows go through the tunnel untranslated',
        );
      }
      return;
    }
    if (status === NdpStatus.SOLICITATION && sameBytes(buf, ndp.targetOffset, this.linkLocal, 16) && !isUnspecified(buf, ndp.sourceOffset)) {
      const mac = ndp.linkLayerOffset >= 0 ? ndp.linkLayerOffset : ndp.sourceMacOffset;
      const frameAt = HEADROOM;
      const end = writeNeighborAdvertisement(this.control, frameAt, {
        sourceMac: t.mac,
        destinationMac: buf.slice(mac, mac + 6),
        source: this.linkLocal,
        destination: buf.slice(ndp.sourceOffset, ndp.sourceOffset + 16),
        target: this.linkLocal,
        flags: Ndp.FLAG_ROUTER | Ndp.FLAG_SOLICITED | Ndp.FLAG_OVERRIDE,
      });
      this.counters.add('advertisementsSent');
      this.sendFrame(t, t.controlEncap, frameAt, end - frameAt);
      return;
    }
    this.counters.add(status === NdpStatus.SOLICITATION || status === NdpStatus.ADVERTISEMENT ? 'linkTraffic' : 'badNeighbor');
  }

  /** 'bypass' with its VNI for an accepted host (and the tunnel's details for any offered host); otherwise the fallback's view. */
  hostTransport(natAddress: number, host: number): HostTransport {
    const t = this.datapath.hosts.get(host);
    const view =
      t !== undefined && t.state === HostState.ACCEPTED
        ? { transport: 'bypass', vni: t.vni }
        : (this.fallback?.hostTransport(natAddress, host) ?? { transport: 'nat64', vni: null });
    return t === undefined ? view : { ...view, bypass: this.details(t, this.context.clock()) };
  }

  /** Hosts offered bypass that the agent has no peer for (all of them in mode bypass, which sends no HELLO). */
  hostsWithoutPeer(): HostRow[] {
    const now = this.context.clock();
    const agent = this.context.agent;
    const rows = this.fallback?.hostsWithoutPeer?.() ?? [];
    for (const t of this.datapath.hosts.values()) {
      if (this.fallback !== null && (agent.peerState(t.nat, t.host) !== PeerState.UNKNOWN || agent.peerCapabilities(t.nat, t.host) >= 0)) continue;
      rows.push(this.row(t, now));
    }
    return rows;
  }

  private row(t: BypassHost, now: number): HostRow {
    const accepted = t.state === HostState.ACCEPTED;
    return {
      nat: uint32ToIpv4Text(t.nat),
      host: uint32ToIpv4Text(t.host),
      state: HOST_STATE_NAMES[t.state],
      epoch: '',
      window: 0,
      inFlight: 0,
      queued: 0,
      rtoMs: 0,
      srttMs: null,
      handedOff: 0,
      queries: 0,
      lastHeardMsAgo: t.lastHeardAt === -Infinity ? null : Math.max(0, Math.round(now - t.lastHeardAt)),
      transport: accepted ? 'bypass' : 'nat64',
      vni: accepted ? t.vni : null,
      announced: [],
      bypass: this.details(t, now),
    };
  }

  private details(t: BypassHost, now: number): BypassRow {
    const accepted = t.state === HostState.ACCEPTED;
    return {
      state: HOST_STATE_NAMES[t.state],
      vni: t.vni,
      mac: formatMac(t.mac),
      serverMac: t.acceptedAt > -Infinity ? formatMac(t.serverMac) : null,
      tunnelAgeMs: accepted ? Math.max(0, Math.round(now - t.acceptedAt)) : null,
      mappings: t.mappings,
      packetsOut: t.packetsOut,
      bytesOut: t.bytesOut,
      packetsIn: t.packetsIn,
      bytesIn: t.bytesIn,
      dropsIn: t.dropsIn,
      fallbacks: t.fallbacks,
    };
  }

  /** The fallback's counters, then the group bypass. */
  counterLines(): CounterLine[] {
    const lines: CounterLine[] = this.fallback?.counterLines() ?? [];
    for (const name of Object.keys(BYPASS_COUNTERS) as BypassCounterName[]) {
      lines.push({ group: 'bypass', name, value: this.counters.get(name), explanation: BYPASS_COUNTERS[name] });
    }
    let accepted = 0;
    for (const t of this.datapath.hosts.values()) if (t.state === HostState.ACCEPTED) accepted++;
    lines.push({ group: 'bypass', name: 'hosts', value: this.datapath.hosts.size, explanation: 'gauge: hosts offered bypass' });
    lines.push({ group: 'bypass', name: 'tunnels', value: accepted, explanation: 'gauge: hosts reached through a bypass tunnel' });
    const translated = this.datapath.translated;
    lines.push({
      group: 'bypass',
      name: 'translatedFlows',
      value: translated?.size ?? 0,
      explanation: 'gauge: translated flows toward accepted hosts remembered after their session ended',
    });
    lines.push({
      group: 'bypass',
      name: 'translatedFlowsBytes',
      value: translated?.memory.byteLength ?? 0,
      explanation: 'gauge: bytes of that memory (16 per flow of handoff.bypass.translatedFlows)',
    });
    for (const counter of statusCounters(this.datapath.drops, BYPASS_STATUS_NAMES, 'drop', (name) => `bypass packets to pool4:6081 dropped: ${name}`)) {
      lines.push({ group: 'bypass', ...counter });
    }
    return lines;
  }
}

function sameBytes(buf: Uint8Array, offset: number, bytes: Uint8Array, length: number): boolean {
  for (let i = 0; i < length; i++) if (buf[offset + i] !== bytes[i]) return false;
  return true;
}

function isUnspecified(buf: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 16; i++) if (buf[offset + i] !== 0) return false;
  return true;
}
