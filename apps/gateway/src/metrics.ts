// The gateway's Prometheus page (`--metrics`): every line `stats` shows, as
// `nat64_gateway_<group>_<name>_total` counters (gauges where the value can go down) with the
// `--explain` text as HELP, and gauges with labels for dashboards: sessions per protocol, pool4
// ports in use per address and protocol, handoff hosts per state.
import { counterFamilies, formatMetrics, type CounterLine, type MetricFamily } from '@nat64/service';
import { PEER_STATE_NAMES } from '@nat64/handoff-agent';
import { readInterfaceStatistics, type TunDevice } from '@nat64/tun';
import { uint32ToIpv4Text } from '@nat64/wire';
import type { EngineParts } from '@nat64/gateway-engine';
import type { Handoff } from '@nat64/gateway-handoff';
import { collectStats } from './stats.js';

const PREFIX = 'nat64_gateway';

/** The table's lines that are levels, not event counts (packages/nat64 counters.ts GAUGE_HELP). */
const TABLE_GAUGES: ReadonlySet<string> = new Set([
  'sessionsTcp',
  'sessionsUdp',
  'sessionsIcmp',
  'sessionsHandedOff',
  'bibEntries',
  'bibStatic',
  'clients',
  'heldSynsNow',
  'bytesAllocated',
]);

export function isGaugeLine(line: CounterLine): boolean {
  return (line.group === 'table' && TABLE_GAUGES.has(line.name)) || line.explanation.startsWith('gauge:');
}

/** The whole page, rendered at each scrape. */
export function renderGatewayMetrics(parts: EngineParts, device: TunDevice, handoff: Handoff | null): string {
  return formatMetrics(gatewayMetricFamilies(parts, device, handoff));
}

export function gatewayMetricFamilies(parts: EngineParts, device: TunDevice | undefined, handoff: Handoff | null): MetricFamily[] {
  const kernel = device === undefined ? undefined : readInterfaceStatistics(device.name);
  const stats = collectStats(parts, device?.counters, handoff, kernel);
  const gauges = parts.table.counters();
  const gauge = (name: string) => gauges.find((line) => line.name === name)?.value ?? 0;
  const families: MetricFamily[] = [
    ...counterFamilies(PREFIX, stats, isGaugeLine),
    {
      name: `${PREFIX}_sessions`,
      help: 'sessions in the table, per protocol',
      type: 'gauge',
      samples: [
        { labels: { protocol: 'tcp' }, value: gauge('sessionsTcp') },
        { labels: { protocol: 'udp' }, value: gauge('sessionsUdp') },
        { labels: { protocol: 'icmp' }, value: gauge('sessionsIcmp') },
      ],
    },
    {
      name: `${PREFIX}_pool4_ports_in_use`,
      help: 'ports (ICMP: identifiers) of a pool4 address held by BIB entries, per protocol',
      type: 'gauge',
      samples: parts.table
        .portsInUse()
        .map((usage) => ({ labels: { address: uint32ToIpv4Text(usage.address), protocol: usage.protocol }, value: usage.ports })),
    },
  ];
  if (handoff !== null) {
    const perState = new Map(Object.values(PEER_STATE_NAMES).map((state) => [state, 0]));
    for (const host of handoff.hosts()) perState.set(host.state, (perState.get(host.state) ?? 0) + 1);
    families.push({
      name: `${PREFIX}_handoff_hosts`,
      help: 'handoff peers (NAT address and IPv4 host), per state as `hosts` shows them',
      type: 'gauge',
      samples: [...perState].map(([state, count]) => ({ labels: { state }, value: count })),
    });
  }
  return families;
}
