// `nat64-gateway hosts`: the handoff peers (one per NAT address and IPv4 host) as the agent sees
// them, and the text rendering the command prints.

import type { PeerSummary } from '@nat64/handoff-agent';
import { Capability } from '@nat64/handoff-codec';
import { formatTable } from '@nat64/service';
import { uint32ToIpv4Text } from '@nat64/wire';
import type { HostTransport } from './transports/transport.js';

/** One peer as `hosts` shows it. */
export interface HostRow {
  nat: string;
  host: string;
  /** unknown, silent, port-closed, acknowledging or authoritative. */
  state: string;
  /** The epoch toward this host, 16 hex digits. */
  epoch: string;
  /** Reliable messages the receiver lets us have outstanding. */
  window: number;
  /** Reliable messages sent and not yet acknowledged. */
  inFlight: number;
  /** Entries waiting to be sent reliably. */
  queued: number;
  rtoMs: number;
  srttMs: number | null;
  /** Entries this host acknowledged as authoritative. */
  handedOff: number;
  /** Queries outstanding. */
  queries: number;
  /** Milliseconds since the host's receiver was last heard; null if never. */
  lastHeardMsAgo: number | null;
  /** How the gateway reaches the host (its transport's name): 'geneve' (a tunnel, or control packets) or 'handoff' messages. */
  transport: string;
  /** The tunnel's VNI (low 24 bits of the receiver's cookie), null without a tunnel. */
  vni: number | null;
  /** Transports the receiver announced in its last HELLO-ACK (handoff, geneve); empty before one. */
  announced: string[];
  /** A host offered NAT64 bypass: its tunnel. */
  bypass?: BypassRow;
}

/** The bypass columns of a host (docs/protocol/nat64-bypass.md). */
export interface BypassRow {
  /** offered, bypass (accepted) or unreachable (fell back to translation). */
  state: string;
  vni: number;
  /** The gateway's MAC toward the host, and the server's once it answered. */
  mac: string;
  serverMac: string | null;
  /** Milliseconds since the host accepted; null when not in bypass. */
  tunnelAgeMs: number | null;
  /** Live translated mappings toward it. */
  mappings: number;
  packetsOut: number;
  bytesOut: number;
  packetsIn: number;
  bytesIn: number;
  dropsIn: number;
  fallbacks: number;
}

/** What the control socket answers to `hosts`. */
export interface HostsAnswer {
  mode: 'off' | 'announce' | 'full';
  /** handoff.transport; absent from gateways before it existed. */
  transport?: 'handoff' | 'geneve' | 'auto' | 'bypass';
  hosts: HostRow[];
}

/** Rows from the agent's peer summaries; `now` is the agent's clock, `transportOf` the transport's view of each peer. */
export function hostRows(
  peers: readonly PeerSummary[],
  now: number,
  transportOf: (natAddress: number, host: number) => HostTransport = () => ({ transport: 'handoff', vni: null }),
): HostRow[] {
  return peers.map((p) => ({
    nat: uint32ToIpv4Text(p.natAddress),
    host: uint32ToIpv4Text(p.host),
    state: p.stateName,
    epoch: p.epoch.toString(16).padStart(16, '0'),
    window: p.window,
    inFlight: p.inFlight,
    queued: p.queued,
    rtoMs: Math.round(p.rtoMs),
    srttMs: p.srttMs === null ? null : Math.round(p.srttMs * 10) / 10,
    handedOff: p.handedOff,
    queries: p.queries,
    lastHeardMsAgo: p.lastHeardAt === null ? null : Math.max(0, Math.round(now - p.lastHeardAt)),
    ...transportOf(p.natAddress, p.host),
    announced:
      p.capabilities < 0
        ? []
        : [...((p.capabilities & Capability.HANDOFF_V1) !== 0 ? ['handoff'] : []), ...((p.capabilities & Capability.GENEVE) !== 0 ? ['geneve'] : [])],
  }));
}

/** "1.2s ago", "3m4s ago", "never". */
function ago(ms: number | null): string {
  if (ms === null) return 'never';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s ago`;
  const seconds = Math.floor(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return `${hours > 0 ? `${hours}h` : ''}${minutes}m${seconds % 60}s ago`;
}

/** The listing as an aligned table with a header, as the command prints it. */
export function formatHosts(answer: HostsAnswer): string {
  if (answer.mode === 'off') return 'handoff is off (mode "off"): no hosts';
  const header = ['NAT ADDRESS', 'HOST', 'STATE', 'TRANSPORT', 'WINDOW', 'IN FLIGHT', 'QUEUED', 'RTO', 'HANDED OFF', 'LAST HEARD'];
  const lines = answer.hosts.map((row) => [
    row.nat,
    row.host,
    row.state,
    row.vni === null ? row.transport : `${row.transport} vni ${row.vni}`,
    String(row.window),
    String(row.inFlight),
    String(row.queued),
    `${row.rtoMs}ms`,
    String(row.handedOff),
    ago(row.lastHeardMsAgo),
  ]);
  const count = answer.hosts.length;
  const tunnels = answer.hosts.flatMap((row) => (row.bypass === undefined ? [] : [bypassLine(row, row.bypass)]));
  return [
    ...formatTable(header, lines),
    `(${count} host${count === 1 ? '' : 's'}, mode ${answer.mode}${answer.transport === undefined ? '' : `, transport ${answer.transport}`})`,
    ...(tunnels.length === 0 ? [] : ['bypass tunnels:', ...tunnels]),
  ].join('\n');
}

/** "  203.0.113.5 bypass vni 0x48b25c mac b2:55:.. server 02:00:.. age 12.0s out 10 pkts/1.2 kB in 8 pkts/900 B drops 0 fallbacks 0". */
function bypassLine(row: HostRow, b: BypassRow): string {
  const age = b.tunnelAgeMs === null ? '' : ` age ${(b.tunnelAgeMs / 1000).toFixed(1)}s`;
  return `  ${row.host} ${b.state} vni 0x${b.vni.toString(16).padStart(6, '0')} mac ${b.mac} server ${b.serverMac ?? '-'}${age} out ${b.packetsOut} pkts/${b.bytesOut} B in ${b.packetsIn} pkts/${b.bytesIn} B drops ${b.dropsIn} fallbacks ${b.fallbacks} mappings ${b.mappings}`;
}
