// `nat64-gateway stats`: every counter the gateway keeps, by group, with a one-line explanation
// each (like `jool stats display --explain`): the TUN device (as the gateway and as the kernel
// count it), the gateway's own decisions, the
// translator's drop reasons, the NAT64 tables, the fragment tracker and, unless handoff is off, the
// handoff glue and the handoff agent.

import type { InterfaceStatistics, TunCounters } from '@nat64/tun';
import { DROP_REASONS } from '@nat64/xlat';
import type { EngineParts } from '@nat64/gateway-engine';
import type { Handoff } from '@nat64/gateway-handoff';

export interface StatLine {
  /** tun, device, gateway, xlat, table, fragments, then handoff, agent and the groups of handoff's transport (geneve, ...). */
  group: string;
  name: string;
  value: number;
  explanation: string;
}

const TUN_HELP: Record<string, string> = {
  rxPackets: 'packets read from the TUN device',
  rxBytes: 'bytes read from the TUN device',
  rxBatches: 'batches read (one callback each)',
  rxWakeups: 'times the device woke the gateway up',
  rxTruncated: 'packets larger than a receive slot, skipped',
  rxErrors: 'read errors',
  txPackets: 'packets written to the TUN device',
  txBytes: 'bytes written to the TUN device',
  txDropped: 'packets the kernel had no room for (EAGAIN, ENOBUFS, ENOMEM)',
  txRejected: 'packets the kernel refused (EINVAL, EMSGSIZE)',
  txErrors: 'other write errors',
};

/** What the kernel counts for the device (/sys/class/net/DEV/statistics), as `ip -s link` shows it. */
const DEVICE_HELP = {
  txDropped: 'packets routed into the TUN device that the kernel dropped because its queue (tun.txQueueLength) was full',
  rxDropped: 'packets the gateway wrote that the kernel dropped',
} as const;

/**
 * Every counter now; `device` is absent in tests without a device, `handoff` in mode off, `kernel`
 * when the device's statistics cannot be read.
 */
export function collectStats(parts: EngineParts, device?: TunCounters, handoff?: Handoff | null, kernel?: InterfaceStatistics): StatLine[] {
  const lines: StatLine[] = [];
  if (device !== undefined) {
    for (const [name, value] of Object.entries(device.snapshot())) {
      lines.push({ group: 'tun', name, value, explanation: TUN_HELP[name] ?? '' });
    }
  }
  if (kernel !== undefined) {
    lines.push({ group: 'device', name: 'txDropped', value: kernel.txDropped, explanation: DEVICE_HELP.txDropped });
    lines.push({ group: 'device', name: 'rxDropped', value: kernel.rxDropped, explanation: DEVICE_HELP.rxDropped });
  }
  for (const counter of parts.engine.counters()) lines.push({ group: 'gateway', ...counter });
  const drops = parts.translator.drops;
  DROP_REASONS.forEach(([name, explanation], code) => {
    if (code !== 0) lines.push({ group: 'xlat', name, value: drops[code]!, explanation });
  });
  lines.push({ group: 'xlat', name: 'icmpErrorsSent', value: parts.translator.icmpErrorsSent, explanation: 'ICMP errors the gateway generated itself' });
  lines.push({
    group: 'xlat',
    name: 'icmpErrorsSuppressed',
    value: parts.translator.icmpErrorsSuppressed,
    explanation: 'ICMP errors not generated because of the rate limit',
  });
  for (const counter of parts.table.counters()) lines.push({ group: 'table', ...counter });
  lines.push({
    group: 'table',
    name: 'sessionEventErrors',
    value: parts.engine.events.errors,
    explanation: 'session events a follower of the table (the handoff, the session log) failed to take; the others and the packet went on',
  });
  for (const counter of parts.fragments.counterSnapshot()) lines.push({ group: 'fragments', ...counter });
  if (handoff) lines.push(...handoff.counterLines());
  return lines;
}
