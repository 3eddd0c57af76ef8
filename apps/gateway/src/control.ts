// The methods the running gateway answers on its control socket (JSON lines, @nat64/service):
// `sessions` streams the session table, `stats` returns every counter, `hosts` the handoff peers,
// `status` a short summary, `reload` reloads the configuration (reload.ts) and says what it did.

import type { ControlHandler } from '@nat64/service';
import { readInterfaceStatistics, type TunDevice } from '@nat64/tun';
import type { GatewayConfig } from './config.js';
import type { EngineParts } from '@nat64/gateway-engine';
import type { Handoff } from '@nat64/gateway-handoff';
import type { ReloadOutcome } from './reload.js';
import { listSessions, parseSessionFilter } from './sessions.js';
import { collectStats } from './stats.js';

export function controlHandlers(
  config: GatewayConfig,
  parts: EngineParts,
  device: TunDevice,
  handoff: Handoff | null,
  reload: () => ReloadOutcome,
): Record<string, ControlHandler> {
  return {
    reload: () => reload(),
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
