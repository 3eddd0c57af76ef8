// The server side of NAT64 bypass (docs/protocol/nat64-bypass.md): Geneve packets of bypass on
// UDP 6081, already filtered by --allow, are checked once by the decoder; an offer (a Neighbor
// Solicitation for PREFIX::OWN-IPV4 with the bypass option) brings up a tunnel for its gateway,
// and every accepted frame goes into that tunnel's TAP device, where the kernel's own IPv6 stack
// answers: the Neighbor Advertisement that accepts the offer, then the replies to clients.
// Tunnel events go to the connection log; the packet path counts, never throws, never logs
// above debug.
import { createHash } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';
import {
  BYPASS_STATUS_COUNT,
  BYPASS_STATUS_NAMES,
  BypassStatus,
  BypassView,
  Ndp,
  NdpStatus,
  formatMac,
  NdpView,
  decapsulateBypass,
  inspectNeighborMessage,
  isBypassDrop,
  type BypassPolicy,
} from '@nat64/geneve';
import { Counters, Resources, statusCounters, type CounterSnapshot, type Logger, type MicroClock } from '@nat64/service';
import { bytesToIpv6Text } from '@nat64/wire';
import type { TunDevice } from '@nat64/tun';
import { formatTimestamp, type TimeZoneMode } from '@nat64/handoff-receiver';
import { BYPASS_COUNTERS } from './counters.js';
import type { HostNetwork, TunnelRoute } from './host-network.js';
import type { BypassSettings } from './settings.js';
import { Tunnel } from './tunnel.js';

export interface BypassEndpointDeps {
  settings: BypassSettings;
  /** Sends a UDP payload from the receiver's Geneve socket. */
  send(packet: Buffer, port: number, address: string): void;
  /** Sends queued in that socket (Transport.sendQueueCount). */
  sendQueueCount(): number;
  /** Sends a batch of UDP payloads to one gateway with one call (the batched socket); absent: one send() each. */
  sendBatch?(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, port: number, address: string): void;
  /** Writes one connection log line now. */
  logLine(line: string): void;
  zone: TimeZoneMode;
  clock: MicroClock;
  logger: Logger;
  network: HostNetwork;
  /** Opens a TAP device (openTap, brought up, with the tunnel MTU). */
  openDevice(name: string, mtu: number): TunDevice;
  /** The IPv4 addresses of this host, as uint32; read when an offer names a new target. */
  localIpv4?: () => Set<number>;
}

/** Offers from a new gateway can carry any VNI; the tunnel then holds it to that one. */
const ANY_VNI: BypassPolicy = { vni: -1, direction: 'to-server' };
const IPV6_OFFSET = 14;
const ICMP_OFFSET = IPV6_OFFSET + 40;
const utf8 = new TextDecoder('utf-8', { fatal: false });

export class BypassEndpoint {
  readonly counters = new Counters(BYPASS_COUNTERS);
  /** Drops by decoder verdict, for stats (bypassDrop.<reason>). */
  readonly drops = new Float64Array(BYPASS_STATUS_COUNT);
  private readonly view = new BypassView();
  private readonly ndp = new NdpView();
  private readonly tunnels = new Map<string, Tunnel>();
  private readonly byIndex: (Tunnel | undefined)[] = [];
  private readonly prefixes: Uint8Array[];
  private readonly values: Float64Array;
  private readonly index;
  private closed = false;
  /** Inside a batch of datagrams (hold()): frames for the TAP devices wait for flush(). */
  private holding = false;

  constructor(private readonly deps: BypassEndpointDeps) {
    this.prefixes = deps.settings.prefixes.map((prefix) => Uint8Array.from(prefix.toByteArray().slice(0, 12)));
    this.values = this.counters.values;
    this.index = this.counters.index;
  }

  /** Removes what a crashed run left behind; call once before the socket opens. */
  start(): void {
    const { tap, table, maxTunnels } = this.deps.settings;
    const removed = this.deps.network.removeStale(tap, table, maxTunnels);
    if (removed.length > 0) this.deps.logger.warn({ removed }, 'removed bypass tunnels a previous run left behind');
  }

  get tunnelCount(): number {
    return this.tunnels.size;
  }

  /**
   * One Geneve packet of bypass (isBypassPacket), `buf[offset, offset + length)`, from an allowed gateway
   * address. Its frame is written into the tunnel's TAP device at once, or, after hold(), at flush():
   * the buffer must then stay as it is until flush() (the batched socket's receive buffer during its batch).
   */
  handleDatagram(buf: Buffer, address: string, offset = 0, length = buf.length - offset): void {
    const values = this.values;
    values[this.index.bypassReceived]!++;
    const view = this.view;
    const status = decapsulateBypass(buf, offset, length, view, ANY_VNI);
    if (status === BypassStatus.AUDIT_MIRROR) {
      values[this.index.bypassAuditMirror]!++;
      if (this.deps.logger.isLevelEnabled('debug')) {
        const explanation = utf8.decode(buf.subarray(view.auditMessageOffset, view.auditMessageOffset + view.auditMessageLength));
        this.deps.logger.debug({ gateway: address, explanation }, 'audit mirror packet (not forwarded)');
      }
      return;
    }
    if (isBypassDrop(status)) {
      this.drops[status]!++;
      return;
    }
    let tunnel = this.tunnels.get(address);
    if (view.hasBypassOption && this.isSolicitation(buf)) {
      this.flush();
      values[this.index.bypassOffers]!++;
      tunnel = this.accept(address, buf, tunnel);
      if (tunnel === undefined) return;
    } else if (tunnel === undefined) {
      values[this.index.bypassNoTunnel]!++;
      return;
    } else if (view.vni !== tunnel.vni) {
      values[this.index.bypassVniMismatch]!++;
      return;
    }
    tunnel.deliver(buf, view.frameOffset, view.frameLength);
    if (!this.holding) tunnel.flush();
  }

  /** Frames of the datagrams that follow wait for flush(), to be written to each TAP device in one call. */
  hold(): void {
    this.holding = true;
  }

  /** Writes the frames waiting for each tunnel's TAP device, and ends hold(). */
  flush(): void {
    this.holding = false;
    for (const tunnel of this.tunnels.values()) tunnel.flush();
  }

  /** Drops by reason, as counters named bypassDrop.<reason> (all with `all`, else the nonzero). */
  dropCounters(all: boolean): CounterSnapshot[] {
    const counted = (status: number): boolean => isBypassDrop(status as BypassStatus);
    return statusCounters(this.drops, BYPASS_STATUS_NAMES, 'bypassDrop', (name) => `bypass packets dropped: ${name}`, { all, counted });
  }

  /** The tunnels, for stats. */
  describeTunnels(): { gateway: string; vni: number; device: string; address: string; nextHop: string }[] {
    return [...this.tunnels.values()].map((tunnel) => ({
      gateway: tunnel.gateway,
      vni: tunnel.vni,
      device: tunnel.device.name,
      address: tunnel.route.address,
      nextHop: tunnel.route.nextHop,
    }));
  }

  /** Takes every tunnel down and removes what it set up. */
  close(): void {
    this.closed = true;
    for (const tunnel of [...this.tunnels.values()]) this.takeDown(tunnel, 'receiver stopped');
  }

  private isSolicitation(buf: Buffer): boolean {
    const frame = this.view.frameOffset;
    const length = this.view.frameLength;
    // A cheap look first: only what looks like an NS pays for the full check and its checksum.
    if (
      length < ICMP_OFFSET + Ndp.MESSAGE_LENGTH ||
      buf[frame + IPV6_OFFSET + 6] !== Ndp.NEXT_HEADER_ICMPV6 ||
      buf[frame + ICMP_OFFSET] !== Ndp.NEIGHBOR_SOLICITATION
    )
      return false;
    return inspectNeighborMessage(buf, frame, length, this.ndp) === NdpStatus.SOLICITATION;
  }

  /** Handles an offer: the tunnel that carries it from now on, or undefined when refused. */
  private accept(gateway: string, buf: Buffer, existing: Tunnel | undefined): Tunnel | undefined {
    const view = this.view;
    const ndp = this.ndp;
    const target = buf.subarray(ndp.targetOffset, ndp.targetOffset + 16);
    const message = utf8.decode(buf.subarray(view.messageOffset, view.messageOffset + view.messageLength));
    const nextHop = bytesToIpv6Text(buf, ndp.sourceOffset);
    if (existing !== undefined && existing.vni === view.vni && existing.target.every((byte, i) => byte === target[i])) {
      // Solicitations for unreachability detection may carry an empty option: not a new message.
      if (message !== '' && existing.message !== message) {
        existing.message = message;
        this.logOffer(gateway, message);
      }
      if (existing.route.nextHop !== nextHop && !isUnspecified(buf, ndp.sourceOffset)) this.moveNextHop(existing, nextHop);
      return existing;
    }
    const refusal = this.refusal(buf, ndp.targetOffset, ndp.sourceOffset, existing);
    if (refusal !== undefined) {
      this.values[this.index.bypassOffersRefused]!++;
      this.deps.logger.debug({ gateway, target: bytesToIpv6Text(target), reason: refusal }, 'bypass offer refused');
      return undefined;
    }
    if (existing !== undefined) this.takeDown(existing, 'replaced by an offer with another VNI or address');
    this.logOffer(gateway, message);
    return this.bringUp(gateway, view.vni, Uint8Array.from(target), message, nextHop);
  }

  private refusal(buf: Buffer, targetOffset: number, sourceOffset: number, existing: Tunnel | undefined): string | undefined {
    if (this.closed) return 'stopping';
    if (isUnspecified(buf, sourceOffset)) return 'the solicitation comes from :: (duplicate address detection), not from a gateway address';
    if (!this.prefixes.some((prefix) => prefix.every((byte, i) => buf[targetOffset + i] === byte))) return 'the target is not under a --bypass-prefix';
    const ipv4 = buf.readUInt32BE(targetOffset + 12);
    if (!(this.deps.localIpv4 ?? localIpv4)().has(ipv4)) return 'the target does not embed an IPv4 address of this host';
    if (existing === undefined && this.tunnels.size >= this.deps.settings.maxTunnels) return 'no tunnel left (--bypass-max-tunnels)';
    return undefined;
  }

  private bringUp(gateway: string, vni: number, target: Uint8Array, message: string, nextHop: string): Tunnel | undefined {
    const { settings, logger } = this.deps;
    let index = 0;
    while (this.byIndex[index] !== undefined) index++;
    const name = `${settings.tap}${index}`;
    const route: TunnelRoute = { device: name, mac: tunnelMac(gateway, vni, target), address: bytesToIpv6Text(target), nextHop, table: settings.table + index };
    // Held until the tunnel owns them; released in reverse if a step fails.
    const opened = new Resources(logger);
    let doing = `open the bypass TAP device ${name}`;
    let device: TunDevice;
    try {
      device = opened.hold('TAP device', this.deps.openDevice(name, settings.mtu), (open) => open.close());
      doing = `set up the bypass tunnel on ${name}`;
      opened.add('tunnel routing', () => this.deps.network.tearDown(route));
      this.deps.network.setUp(route);
    } catch (error) {
      opened.stopSync();
      this.values[this.index.bypassOffersRefused]!++;
      logger.error({ err: error, gateway }, `cannot ${doing}`);
      return undefined;
    }
    const tunnel = new Tunnel(
      { gateway, vni, index, device, route, target, message },
      {
        send: this.deps.send,
        sendQueueCount: this.deps.sendQueueCount,
        ...(this.deps.sendBatch === undefined ? {} : { sendBatch: this.deps.sendBatch }),
        counters: this.counters,
        onDeviceError: (failed, error) => {
          logger.error({ err: error, gateway: failed.gateway }, `bypass TAP device ${failed.device.name} failed`);
          this.takeDown(failed, 'device failed');
        },
      },
    );
    const sharing = [...this.tunnels.values()].find((other) => other.route.address === route.address);
    if (sharing) {
      logger.warn(
        { gateway, other: sharing.gateway, address: route.address },
        `gateways ${sharing.gateway} and ${gateway} both offer ${route.address}: replies go through the tunnel of ${sharing.gateway}, the older rule; give each gateway its own prefix`,
      );
    }
    this.tunnels.set(gateway, tunnel);
    this.byIndex[index] = tunnel;
    tunnel.start();
    this.counters.add('bypassTunnelsUp');
    this.deps.logLine(`${this.timestamp()} Tunnel up ${gateway} vni ${formatVni(vni)} ${route.address} dev ${name}`);
    logger.info({ gateway, vni, device: name, address: route.address, nextHop }, 'bypass tunnel up');
    return tunnel;
  }

  private moveNextHop(tunnel: Tunnel, nextHop: string): void {
    const route = { ...tunnel.route, nextHop };
    try {
      this.deps.network.moveNextHop(route);
      tunnel.route.nextHop = nextHop;
      this.deps.logger.info({ gateway: tunnel.gateway, nextHop }, 'bypass gateway moved to another address on the tunnel link');
    } catch (error) {
      this.deps.logger.error({ err: error, gateway: tunnel.gateway }, 'cannot move the bypass route to the new gateway address');
    }
  }

  private takeDown(tunnel: Tunnel, reason: string): void {
    if (this.tunnels.get(tunnel.gateway) !== tunnel) return;
    this.tunnels.delete(tunnel.gateway);
    this.byIndex[tunnel.index] = undefined;
    tunnel.flush();
    tunnel.close();
    this.deps.network.tearDown(tunnel.route);
    this.counters.add('bypassTunnelsDown');
    this.deps.logLine(`${this.timestamp()} Tunnel down ${tunnel.gateway} vni ${formatVni(tunnel.vni)} (${reason})`);
    this.deps.logger.info({ gateway: tunnel.gateway, vni: tunnel.vni, reason }, 'bypass tunnel down');
  }

  private logOffer(gateway: string, message: string): void {
    this.deps.logLine(`${this.timestamp()} Bypass offered by ${gateway} ${JSON.stringify(message)}`);
  }

  private timestamp(): string {
    return formatTimestamp(this.deps.clock(), this.deps.zone);
  }
}

export function formatVni(vni: number): string {
  return `0x${vni.toString(16).padStart(6, '0')}`;
}

/**
 * The server's MAC on a tunnel: locally administered unicast, from a hash of what identifies the
 * tunnel, so it is the same after a restart and the gateway's cached neighbor entry still reaches
 * it (its unreachability probes are unicast to that MAC; bypass §6.3).
 */
export function tunnelMac(gateway: string, vni: number, target: Uint8Array): string {
  const mac = createHash('sha256').update(`nat64 bypass server ${gateway} ${vni}`).update(target).digest().subarray(0, 6);
  mac[0] = (mac[0]! & 0xfc) | 0x02;
  return formatMac(mac);
}

function isUnspecified(buf: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 16; i++) if (buf[offset + i] !== 0) return false;
  return true;
}

function localIpv4(): Set<number> {
  const addresses = new Set<number>();
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) {
      if (entry.family === 'IPv4')
        addresses.add(
          ipaddr.IPv4.parse(entry.address)
            .toByteArray()
            .reduce((value, byte) => value * 256 + byte, 0),
        );
    }
  }
  return addresses;
}
