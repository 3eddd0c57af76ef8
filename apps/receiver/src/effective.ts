// The receiver's effective configuration in the form of its configuration file: what
// `run --check --print` shows (defaults filled in, flags applied) and what a reload compares.
// Keys are never shown: `key` and `keyFile` appear as the per-range `keys` they become, each key
// as its length, or for comparing, as a digest.
import { createHash } from 'node:crypto';
import { formatDuration, formatMetricsAddress } from '@nat64/service';
import type { ReceiverConfig } from './config.js';

export type Settings = Record<string, unknown>;

export function effectiveSettings(config: ReceiverConfig, keys: 'hidden' | 'digest' = 'hidden'): Settings {
  const range = ([address, bits]: ReceiverConfig['allow'][number]) => `${address.toString()}/${bits}`;
  return {
    listen: [...config.listen],
    port: config.port,
    transport: [...config.transports].join(','),
    genevePort: config.genevePort,
    geneveTun: config.geneveTun,
    geneveOptionClass: config.geneveOptionClass,
    bypassPrefixes: config.bypass.prefixes.map((prefix) => `${prefix.toString()}/96`),
    bypassTap: config.bypass.tap,
    bypassMtu: config.bypass.mtu,
    bypassTable: config.bypass.table,
    bypassMaxTunnels: config.bypass.maxTunnels,
    database: config.database,
    durability: config.durability,
    connectionLog: config.connectionLog,
    timeZone: config.timeZone,
    allow: config.allow.map(range),
    keys: config.keys.map((entry) => ({
      gateways: range(entry.range),
      keyId: entry.keyId,
      key: keys === 'hidden' ? `(hidden: ${entry.key.length} bytes)` : createHash('sha256').update(entry.key).digest('hex'),
    })),
    authoritative: config.authoritative,
    capacity: config.capacity,
    idleTimeout: formatDuration(config.idleTimeoutMs),
    ackDelay: formatDuration(config.ackDelayMs),
    warmUp: config.warmUp,
    retention: formatDuration(config.retentionMs),
    control: config.control,
    ...(config.metrics === undefined ? {} : { metrics: formatMetricsAddress(config.metrics) }),
    logLevel: config.logLevel,
  };
}

/** Settings as top-level names to values, for comparing two configurations. */
export function settingValues(settings: Settings): Map<string, string> {
  return new Map(Object.entries(settings).map(([key, value]) => [key, JSON.stringify(value)]));
}
