// Reloading the configuration of a running gateway (SIGHUP, or the `reload` control command): the
// file is read again with the command line's flags over it, validated completely, and compared
// setting by setting with what runs. What can change at run time is applied at once (log level,
// session timeouts, session limits, the counter summary, session logging, the handoff key); what
// cannot (device, prefix, pool4, transport, ...) is named as needing a restart and keeps running as
// it was. One log line says which is which. A configuration that does not validate changes nothing.

import { createHash } from 'node:crypto';
import { ConfigError, logReload, type Logger } from '@nat64/service';
import type { Nat64Table } from '@nat64/nat64';
import { loadGatewayConfig, shortTimeouts, type GatewayConfig, type RawSettings } from './config.js';
import { effectiveSettings, flattenSettings } from './effective.js';

export interface ReloadOutcome {
  ok: boolean;
  /** Settings that changed and now run with their new value. */
  applied: string[];
  /** Settings that changed but keep their old value until the gateway restarts. */
  needsRestart: string[];
  /** Why the configuration was refused (ok false). */
  error?: string;
}

/** The parts of the running gateway a reload reaches into. */
export interface LiveGateway {
  readonly logger: Logger;
  readonly table: Nat64Table;
  /** The key slot handoff signs with; absent when handoff runs without a key or not at all. */
  readonly handoffKey: HandoffKeySlot | undefined;
  setStatsInterval(ms: number): void;
  setLogSessions(on: boolean): void;
}

/** Settings applied at run time; everything else needs a restart. */
const RUNTIME: ReadonlySet<string> = new Set([
  'logLevel',
  'timeouts.udp',
  'timeouts.tcpEstablished',
  'timeouts.tcpTransitory',
  'timeouts.icmp',
  'timeouts.allowBelowMinimum',
  'limits.maxSessions',
  'limits.maxSessionsPerClient',
  'statsInterval',
  'logSessions',
  'handoff.keyFile',
  'handoff.key',
]);

/** Stands for the key's bytes in comparisons and log lines, which never show the key. */
const KEY_PATH = 'handoff.key';

export class Reloader {
  private running: GatewayConfig;

  constructor(
    private readonly source: { readonly file?: string | undefined; readonly flags: RawSettings },
    initial: GatewayConfig,
    private readonly live: LiveGateway,
  ) {
    this.running = initial;
  }

  /** The configuration now in effect (restart-only settings as the gateway started with them). */
  get config(): GatewayConfig {
    return this.running;
  }

  /** Reads, validates, applies; logs one line and returns what it did. Never throws. */
  reload(trigger: 'SIGHUP' | 'control'): ReloadOutcome {
    const logger = this.live.logger;
    let next: GatewayConfig;
    try {
      next = loadGatewayConfig({ file: this.source.file, flags: this.source.flags });
    } catch (error) {
      const message = error instanceof ConfigError ? error.message : String(error);
      logger.error({ trigger, file: this.source.file, error: message }, `reload refused, the running configuration stays: ${message}`);
      return { ok: false, applied: [], needsRestart: [], error: message };
    }
    const changed = changedSettings(this.running, next);
    const keyApplies = this.keyApplies(next);
    const applied = changed.filter((path) => RUNTIME.has(path) && (!path.startsWith('handoff.key') || keyApplies));
    const needsRestart = changed.filter((path) => !applied.includes(path));
    try {
      this.apply(next, applied);
    } catch (error) {
      // Only a value the tables refuse gets here (the configuration checked the same bounds).
      const message = error instanceof Error ? error.message : String(error);
      logger.error({ trigger, error: message }, `reload refused, the running configuration stays: ${message}`);
      return { ok: false, applied: [], needsRestart: [], error: message };
    }
    const fields = { trigger, file: this.source.file, applied, needsRestart, changes: describeChanges(this.running, next, changed) };
    this.running = merge(this.running, next, applied);
    logReload(logger, fields, applied, needsRestart);
    const short = shortTimeouts(this.running);
    if (applied.some((path) => path.startsWith('timeouts.')) && short.length > 0) {
      logger.warn({ timeouts: short }, 'session timeouts below the RFC 6146 minimums (timeouts.allowBelowMinimum): for labs only');
    }
    return { ok: true, applied, needsRestart };
  }

  /** A new key goes into the slot handoff signs with; turning authentication on or off, or Geneve's key, needs a restart. */
  private keyApplies(next: GatewayConfig): boolean {
    const before = this.running.handoff;
    if (before.mode === 'off') return true;
    if ((before.key === undefined) !== (next.handoff.key === undefined)) return false;
    return before.key === undefined || (before.transport === 'handoff' && this.live.handoffKey !== undefined);
  }

  private apply(next: GatewayConfig, applied: readonly string[]): void {
    const live = this.live;
    const has = (prefix: string) => applied.some((path) => path === prefix || path.startsWith(`${prefix}.`));
    if (has('timeouts') || has('limits')) {
      live.table.reconfigure({
        timeouts: {
          udp: next.timeoutsMs.udp,
          tcpEstablished: next.timeoutsMs.tcpEstablished,
          tcpTransitory: next.timeoutsMs.tcpTransitory,
          icmp: next.timeoutsMs.icmp,
        },
        allowShortTimeouts: next.allowShortTimeouts,
        maxSessions: next.limits.maxSessions,
        maxSessionsPerClient: next.limits.maxSessionsPerClient,
      });
    }
    if (has('logLevel')) live.logger.level = next.logLevel;
    if (has('statsInterval')) live.setStatsInterval(next.statsIntervalMs);
    if (has('logSessions')) live.setLogSessions(next.logSessions);
    if (has(KEY_PATH) && next.handoff.key !== undefined) live.handoffKey?.set(next.handoff.key);
  }
}

/**
 * The handoff key as every signer holds it. RFC 2104 section 2: HMAC first pads a key shorter than
 * the hash's block (64 octets for SHA-256) with zeros, so 64 octets holding the key and then zeros
 * make exactly the key's tags. Keys are 16 to 64 octets: a new one is written into these same
 * bytes, and the agent and its messages sign with it from their next datagram.
 */
export class HandoffKeySlot {
  readonly bytes = new Uint8Array(64);

  constructor(key: Uint8Array) {
    this.set(key);
  }

  set(key: Uint8Array): void {
    if (key.length < 16 || key.length > this.bytes.length) throw new RangeError('a handoff key has 16 to 64 octets');
    this.bytes.fill(0);
    this.bytes.set(key);
  }
}

/** The configuration handoff is built from: its key in a slot a reload can rewrite, when it has one. */
export function withKeySlot(config: GatewayConfig): { config: GatewayConfig; slot: HandoffKeySlot | undefined } {
  const key = config.handoff.key;
  // Geneve turns its key into a KeyObject once; a new key for it takes a restart.
  if (key === undefined || config.handoff.mode === 'off' || config.handoff.transport !== 'handoff') return { config, slot: undefined };
  const slot = new HandoffKeySlot(key);
  return { config: { ...config, handoff: { ...config.handoff, key: slot.bytes } }, slot };
}

function comparable(config: GatewayConfig): Map<string, string> {
  const flat = flattenSettings(effectiveSettings(config));
  const key = config.handoff.key;
  // A digest, so the key is compared without being kept in a second place.
  flat.set(KEY_PATH, key === undefined ? 'none' : createHash('sha256').update(key).digest('hex'));
  return flat;
}

/** Dotted paths of the settings that differ. */
export function changedSettings(before: GatewayConfig, after: GatewayConfig): string[] {
  const a = comparable(before);
  const b = comparable(after);
  const paths = new Set([...a.keys(), ...b.keys()]);
  return [...paths].filter((path) => a.get(path) !== b.get(path));
}

function describeChanges(before: GatewayConfig, after: GatewayConfig, changed: readonly string[]): Record<string, { from: unknown; to: unknown }> {
  const a = flattenSettings(effectiveSettings(before));
  const b = flattenSettings(effectiveSettings(after));
  const read = (flat: Map<string, string>, path: string) => (flat.has(path) ? (JSON.parse(flat.get(path)!) as unknown) : null);
  return Object.fromEntries(
    changed.map((path) => [path, path === KEY_PATH ? { from: '(hidden)', to: '(hidden)' } : { from: read(a, path), to: read(b, path) }]),
  );
}

/** The running configuration after a reload: the applied settings new, the rest as they run. */
function merge(running: GatewayConfig, next: GatewayConfig, applied: readonly string[]): GatewayConfig {
  const has = (path: string) => applied.includes(path);
  return {
    ...running,
    timeoutsMs: { ...next.timeoutsMs, fragment: running.timeoutsMs.fragment },
    allowShortTimeouts: next.allowShortTimeouts,
    limits: { ...running.limits, maxSessions: next.limits.maxSessions, maxSessionsPerClient: next.limits.maxSessionsPerClient },
    logLevel: next.logLevel,
    statsIntervalMs: next.statsIntervalMs,
    logSessions: next.logSessions,
    handoff: has(KEY_PATH) || has('handoff.keyFile') ? { ...running.handoff, key: next.handoff.key, keyFile: next.handoff.keyFile } : running.handoff,
  };
}
