// The methods the running gateway answers on its control socket (JSON lines, @nat64/service):
// `sessions` streams the session table, `stats` returns every counter, `hosts` the handoff peers,
// `status` a short summary.

import type { ControlHandler } from '@nat64/service';
import { readInterfaceStatistics, type TunDevice } from '@nat64/tun';
import type { GatewayConfig } from './config.js';
import type { GatewayParts } from './gateway.js';
import type { Handoff } from './handoff/handoff.js';
import { listSessions, parseSessionFilter } from './sessions.js';
import { collectStats } from './stats.js';

export function controlHandlers(config: GatewayConfig, parts: GatewayParts, device: TunDevice, handoff: Handoff | null): Record<string, ControlHandler> {
  return {
    sessions: (params) => listSessions(parts.table, parts.clock, parts.prefix, parseSessionFilter(params)),
    stats: () => collectStats(parts, device.counters, handoff, readInterfaceStatistics(device.name)),
    hosts: () => ({ mode: config.handoff.mode, transport: config.handoff.transport, hosts: handoff?.hosts() ?? [] }),
    status: () => ({
      tun: device.name,
      mtu: device.mtu,
      prefix: config.prefix.text,
      sessions: parts.table.sessionCount,
      bibEntries: parts.table.bibCount,
      bytesAllocated: parts.table.bytesAllocated(),
      handoff: config.handoff.mode,
      transport: config.handoff.transport,
    }),
  };
}
