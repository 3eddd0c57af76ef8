// Handoff's slice of the configuration, `handoff` (docs/protocol/handoff-v1.md), with its defaults and
// the slices of its transports, and what the chosen transport asks of the translation settings
// (read ahead of them by config.ts, from the transport's entry in transports/index.ts).

import { readFileSync } from 'node:fs';
import { ConfigError, parseDuration, type ConfigReader } from '@nat64/service';
import { IMPL } from './constants.js';
import { readBypassConfig, type BypassConfig } from './transports/bypass/config.js';
import { readGeneveConfig, type GeneveConfig } from './transports/geneve/config.js';
import { TRANSPORTS, TRANSPORT_NAMES, type TransportKind, type TransportName } from './transports/index.js';

export type { GeneveConfig } from './transports/geneve/config.js';
export type { BypassConfig } from './transports/bypass/config.js';
export type { TransportName } from './transports/index.js';

/** Handoff to the receivers on the IPv4 hosts (docs/protocol/handoff-v1.md). */
export interface HandoffConfig {
  /** off: a plain NAT64 that sends nothing; announce: report mappings, keep authority; full: hand authority to receivers that take it. */
  mode: 'off' | 'announce' | 'full';
  /** The shared authentication key (§6.7), read from `keyFile` when the configuration is loaded. */
  key: Uint8Array | undefined;
  keyFile: string | undefined;
  /** Path MTU toward the hosts, which sizes CREATED/DELETED batches (§5.11); default translation.ipv4NextHopMtu. */
  mtu: number;
  /** Longest a mapping change waits for its datagram to fill (§5.11 recommends at most 10 ms in all). */
  flushDelayMs: number;
  /** Packets held while a QUERY asks for their session: per key, in all, and their bytes in all. */
  missQueue: { packetsPerKey: number; packets: number; bytes: number };
  /**
   * Handed-off flows evicted from the cache that the gateway remembers (12 bytes each, allocated at
   * start), so that a UDP or echo client speaking first on one is asked about (CLIENT-QUERY, §5.12)
   * and keeps its NAT port; 0 turns the memory off. Mode full only.
   */
  evictedFlows: number;
  /**
   * How the gateway reaches receivers (docs/migration.md): 'handoff' (default) messages on UDP 62863
   * only; 'geneve' tunnels on UDP 6081 only (docs/protocol/geneve-options.md); 'auto' asks both ways
   * and uses Geneve toward every host whose receiver announces it, handoff messages otherwise. The
   * default stays 'handoff' so that upgrading changes nothing on the wire: receivers announce Geneve
   * by default, and moving to it is the operator's step (docs/migration.md step 1). 'bypass' offers
   * NAT64 bypass (docs/protocol/nat64-bypass.md) to every host and translates for the others; 'auto'
   * offers it too, ahead of Geneve and handoff messages.
   */
  transport: TransportName;
  geneve: GeneveConfig;
  bypass: BypassConfig;
}

/** What a transport asks of the rest of the configuration. */
export type TransportNeeds = Pick<TransportKind, 'overhead' | 'refusesOffload' | 'receivesSegments'>;

/** handoff.transport, read ahead of the rest (a bad value is refused later, by readHandoffConfig), and what it needs. */
export function transportNeeds(raw: Record<string, unknown>): TransportNeeds {
  const value = raw['handoff'];
  const named = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['transport'] : undefined;
  const transport = TRANSPORT_NAMES.find((name) => name === named) ?? 'handoff';
  return TRANSPORTS[transport];
}

/** Reads `handoff`; `ipv4NextHopMtu` is the default of handoff.mtu. Throws ConfigError naming the setting. */
export function readHandoffConfig(reader: ConfigReader, ipv4NextHopMtu: number): HandoffConfig {
  const keyFile = reader.optionalString('keyFile');
  const queue = reader.object('missQueue');
  const missQueue = {
    packetsPerKey: queue.integer('packetsPerKey', { min: 1, max: 1024, fallback: IMPL.MISS_PACKETS_PER_KEY }),
    packets: queue.integer('packets', { min: 1, max: 1_000_000, fallback: IMPL.MISS_PACKETS }),
    bytes: queue.integer('bytes', { min: 1500, max: 1 << 30, fallback: IMPL.MISS_BYTES }),
  };
  queue.done();
  const handoff: HandoffConfig = {
    mode: reader.oneOf('mode', ['off', 'announce', 'full'] as const, 'full'),
    key: keyFile === undefined ? undefined : readKeyFile(keyFile, reader.path('keyFile')),
    keyFile,
    // An entry needs 28 + 32 + 40 octets of IPv4, UDP, header and body (§5.11).
    mtu: reader.integer('mtu', { min: 576, max: 65535, fallback: Math.max(576, ipv4NextHopMtu) }),
    flushDelayMs: Math.round(parseDuration(reader.string('flushDelay', IMPL.FLUSH_DELAY), reader.path('flushDelay'))),
    missQueue,
    evictedFlows: reader.integer('evictedFlows', { min: 0, max: 100_000_000, fallback: IMPL.EVICTED_FLOWS }),
    transport: reader.oneOf('transport', TRANSPORT_NAMES, 'handoff'),
    geneve: readGeneveConfig(reader.object('geneve')),
    bypass: readBypassConfig(reader.object('bypass')),
  };
  if (handoff.flushDelayMs > 10) throw new ConfigError(reader.path('flushDelay'), 'must be at most 10ms (handoff v1 section 5.11)');
  reader.done();
  return handoff;
}

/** A key file holds 32 to 128 hex digits (16 to 64 bytes), like the receiver's --key-file. */
function readKeyFile(file: string, where: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(where, `cannot read ${file}: ${(error as Error).message}`);
  }
  if (!/^([0-9a-fA-F]{2}){16,64}$/.test(text)) throw new ConfigError(where, `${file} must hold 32 to 128 hex digits (16 to 64 bytes)`);
  return Uint8Array.from(Buffer.from(text, 'hex'));
}
