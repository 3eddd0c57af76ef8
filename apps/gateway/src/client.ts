// The `sessions`, `stats`, `hosts` and `reload` commands: clients of the running gateway's control socket that
// print what it answers, as text for people or JSON for scripts.

import { callControl, ExitCode, formatCounters, streamControl } from '@nat64/service';
import type { ReloadOutcome } from './reload.js';
import { formatSessions, type SessionRow } from './sessions.js';
import type { StatLine } from './stats.js';
import { formatHosts, type HostsAnswer } from '@nat64/gateway-handoff';

export interface SessionsOptions {
  control: string;
  protocol?: string;
  client?: string;
  server?: string;
  nat?: string;
  json?: boolean;
}

export async function showSessions(options: SessionsOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const params = { protocol: options.protocol, client: options.client, server: options.server, nat: options.nat };
  const rows: SessionRow[] = [];
  for await (const item of streamControl(options.control, 'sessions', params)) {
    if (options.json === true) out.write(`${JSON.stringify(item)}\n`);
    else rows.push(item as SessionRow);
  }
  if (options.json !== true) out.write(`${formatSessions(rows)}\n`);
}

export interface StatsOptions {
  control: string;
  explain?: boolean;
  all?: boolean;
  json?: boolean;
}

/** `stats --json`, the same shape on both daemons: every counter by group, and what is measured now. */
export interface StatsJson {
  counters: StatLine[];
  gauges: { sessions: number; bibEntries: number };
}

export async function showStats(options: StatsOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const lines = (await callControl(options.control, 'stats')) as StatLine[];
  const shown = options.all === true ? lines : lines.filter((line) => line.value !== 0);
  if (options.json === true) {
    const status = (await callControl(options.control, 'status')) as { sessions: number; bibEntries: number };
    const answer: StatsJson = { counters: shown, gauges: { sessions: status.sessions, bibEntries: status.bibEntries } };
    out.write(`${JSON.stringify(answer)}\n`);
    return;
  }
  const counters = shown.map((line) => ({ name: `${line.group}.${line.name}`, value: line.value, explanation: line.explanation }));
  out.write(`${formatCounters(counters, options.explain === true)}\n`);
}

export interface HostsOptions {
  control: string;
  json?: boolean;
}

export async function showHosts(options: HostsOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const answer = (await callControl(options.control, 'hosts')) as HostsAnswer;
  out.write(options.json === true ? `${JSON.stringify(answer)}\n` : `${formatHosts(answer)}\n`);
}

export interface ReloadOptions {
  control: string;
  json?: boolean;
}

/** Asks for a reload; prints what was applied and what needs a restart. Returns the exit code. */
export async function reloadGateway(options: ReloadOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const outcome = (await callControl(options.control, 'reload')) as ReloadOutcome;
  if (options.json === true) out.write(`${JSON.stringify(outcome)}\n`);
  else out.write(`${formatReload(outcome)}\n`);
  return outcome.ok ? ExitCode.ok : ExitCode.config;
}

export function formatReload(outcome: ReloadOutcome): string {
  if (!outcome.ok) return `reload refused, the running configuration stays: ${outcome.error ?? 'unknown reason'}`;
  const lines = [`applied: ${outcome.applied.length > 0 ? outcome.applied.join(', ') : 'nothing changed'}`];
  if (outcome.needsRestart.length > 0) lines.push(`needs a restart: ${outcome.needsRestart.join(', ')}`);
  return lines.join('\n');
}
