// NAT64 bypass as the daemon sees it: built from the config, fed the bypass packets of the shared
// UDP 6081 socket, asked for counters and warnings by `stats`, closed on exit. The one place that
// picks the real TAP devices and host network; tests pass their own through BypassEnvironment.
import type { CounterSnapshot, Logger, MicroClock } from '@nat64/service';
import { openTap, type TunDevice } from '@nat64/tun';
import type { ConnectionLog } from '@nat64/handoff-receiver';
import type { ReceiverConfig } from '../config.js';
import { BypassEndpoint } from './endpoint.js';
import { linuxHostNetwork, type HostNetwork } from './host-network.js';
import { describeIpv4OnlyServices, findIpv4OnlyServices, type Ipv4OnlyService } from './listeners.js';

export interface BypassEnvironment {
  openDevice?: (name: string, mtu: number) => TunDevice;
  network?: HostNetwork;
  localIpv4?: () => Set<number>;
  /** Where /proc/net is, for the IPv4-only listener check. */
  procNet?: string;
}

export interface BypassService {
  readonly endpoint: BypassEndpoint;
  /** One bypass datagram, `bytes[offset, offset + length)`; see BypassEndpoint.handleDatagram, hold and flush. */
  handleDatagram(bytes: Buffer, address: string, offset?: number, length?: number): void;
  hold(): void;
  flush(): void;
  /** A Geneve packet that is not bypass while the geneve transport is off. */
  refuseOther(): void;
  counters(all: boolean): CounterSnapshot[];
  stats(): { bypassTunnels: ReturnType<BypassEndpoint['describeTunnels']>; ipv4OnlyServices: Ipv4OnlyService[] };
  statsText(): string;
  close(): void;
}

export function startBypass(
  config: ReceiverConfig,
  logger: Logger,
  log: ConnectionLog,
  clock: MicroClock,
  send: (packet: Buffer, port: number, address: string) => void,
  sendQueueCount: () => number,
  environment: BypassEnvironment = {},
  sendBatch?: (buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, port: number, address: string) => void,
): BypassService {
  const openDevice = environment.openDevice ?? ((name: string, mtu: number) => openBypassTap(name, mtu, config.bypass.coalesce, logger));
  const endpoint = new BypassEndpoint({
    settings: config.bypass,
    send,
    sendQueueCount,
    ...(sendBatch === undefined ? {} : { sendBatch }),
    logLine: (line) => {
      log.append(line);
      log.flush();
    },
    zone: config.timeZone,
    clock,
    logger: logger.child({ component: 'bypass' }),
    network: environment.network ?? linuxHostNetwork,
    openDevice,
    ...(environment.localIpv4 ? { localIpv4: environment.localIpv4 } : {}),
  });
  endpoint.start();
  const ownPorts = [config.port, config.genevePort];
  const ipv4Only = () => findIpv4OnlyServices(ownPorts, environment.procNet);
  const atStart = ipv4Only();
  if (atStart.length > 0) {
    logger.warn(
      { services: atStart },
      `these services listen on IPv4 only, so bypassed (IPv6) clients cannot reach them; listen on :: too: ${describeIpv4OnlyServices(atStart)}`,
    );
  }
  let otherGeneve = 0;
  return {
    endpoint,
    handleDatagram: (bytes, address, offset, length) => endpoint.handleDatagram(bytes, address, offset, length),
    hold: () => endpoint.hold(),
    flush: () => endpoint.flush(),
    refuseOther: () => {
      otherGeneve++;
    },
    counters: (all) => [
      ...endpoint.counters.snapshot({ all }),
      ...(all || otherGeneve > 0
        ? [{ name: 'bypassOtherGeneve', value: otherGeneve, explanation: 'dropped: Geneve packets that are not bypass, with the geneve transport off' }]
        : []),
      ...endpoint.dropCounters(all),
    ],
    stats: () => ({ bypassTunnels: endpoint.describeTunnels(), ipv4OnlyServices: ipv4Only() }),
    statsText: () => {
      const services = ipv4Only();
      const tunnels = endpoint
        .describeTunnels()
        .map(
          (tunnel) =>
            `\ntunnel ${tunnel.gateway} vni 0x${tunnel.vni.toString(16).padStart(6, '0')} ${tunnel.address} dev ${tunnel.device} via ${tunnel.nextHop}`,
        );
      const warning = services.length > 0 ? `\nwarning: IPv4-only services, unreachable for bypassed clients: ${describeIpv4OnlyServices(services)}` : '';
      return tunnels.join('') + warning;
    },
    close: () => endpoint.close(),
  };
}

/**
 * A bypass TAP device; with coalescing, opened with a virtio-net header that takes large TCP segments
 * on writes and no read offload (what the kernel reads out stays frames of the MTU), or plain where the
 * kernel refuses that.
 */
function openBypassTap(name: string, mtu: number, coalesce: boolean, logger: Logger): TunDevice {
  if (coalesce) {
    try {
      return openTap({ name, mtu, up: true, offload: true, receiveChecksums: false });
    } catch (error) {
      logger.warn({ err: error, device: name }, 'the TAP device takes no virtio-net header: frames from the gateway are written one by one');
    }
  }
  return openTap({ name, mtu, up: true });
}
