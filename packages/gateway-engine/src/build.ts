// Turns validated settings into the parts of a running gateway: the NAT64 tables, the translator,
// the fragment tracker and the engine, all on one batch clock. No I/O here; the app opens the device
// and the control socket and wires them to these parts.

import { FragmentTracker, Nat64Error, Nat64Table, PROTOCOL, type Nat64Options } from '@nat64/nat64';
import { ConfigError } from '@nat64/service';
import { Rfc6052Prefix, Translator, WELL_KNOWN_PREFIX_TEXT, XlatError, type TranslatorConfig } from '@nat64/xlat';
import { bytesToIpv6Text, uint32ToIpv4Text } from '@nat64/wire';
import { BatchClock } from './clock.js';
import { IMPL } from './constants.js';
import { Engine } from './engine.js';
import type { EngineSettings, Protocol } from './settings.js';

export interface EngineParts {
  readonly clock: BatchClock;
  readonly prefix: Rfc6052Prefix;
  readonly table: Nat64Table;
  readonly translator: Translator;
  readonly fragments: FragmentTracker;
  readonly engine: Engine;
}

export interface BuildOptions {
  /** Default: a BatchClock on performance.now. */
  readonly clock?: BatchClock;
  /** Largest packet the device delivers (its receive slot size). */
  readonly maxInputSize: number;
  /** Packets per received batch at most. */
  readonly inputBatchSize: number;
  /** Hash and port-allocation secret (64 bytes); random by default. Tests fix it. */
  readonly secret?: Uint8Array;
}

const PROTOCOL_NUMBER: Record<Protocol, 1 | 6 | 17> = { icmp: PROTOCOL.ICMP, tcp: PROTOCOL.TCP, udp: PROTOCOL.UDP };

export function prefixOf(config: EngineSettings): Rfc6052Prefix {
  return new Rfc6052Prefix(config.prefix.bytes, config.prefix.length);
}

/** The table options a configuration asks for. */
export function tableOptions(config: EngineSettings, clock: BatchClock, secret?: Uint8Array): Nat64Options {
  return {
    pool4: config.pool4.map((entry) => ({
      address: entry.address,
      tcp: { min: entry.ports.tcp.first, max: entry.ports.tcp.last },
      udp: { min: entry.ports.udp.first, max: entry.ports.udp.last },
      icmp: { min: entry.ports.icmp.first, max: entry.ports.icmp.last },
    })),
    clock: clock.read,
    timeouts: {
      udp: config.timeoutsMs.udp,
      icmp: config.timeoutsMs.icmp,
      tcpEstablished: config.timeoutsMs.tcpEstablished,
      tcpTransitory: config.timeoutsMs.tcpTransitory,
    },
    allowShortTimeouts: config.allowShortTimeouts,
    filtering: config.filtering,
    dropUnsolicitedTcp: config.dropUnsolicitedTcp,
    maxSessions: config.limits.maxSessions,
    maxSessionsPerClient: config.limits.maxSessionsPerClient,
    maxHeldSyns: config.limits.maxHeldSyns,
    staticBib: config.staticBib.map((entry) => ({
      protocol: PROTOCOL_NUMBER[entry.protocol],
      clientAddress: entry.ipv6,
      clientPort: entry.ipv6Port,
      natAddress: entry.ipv4,
      natPort: entry.ipv4Port,
    })),
    reservedPorts: IMPL.RESERVED_UDP_PORTS.map((port) => ({ protocol: PROTOCOL.UDP, port })),
    ...(secret === undefined ? {} : { secret }),
  };
}

/** The translator settings a configuration asks for. */
export function translatorOptions(config: EngineSettings, clock: BatchClock): TranslatorConfig {
  const t = config.translation;
  const ipv6 = t.ipv6Address ?? embedded(config);
  return {
    ipv6Address: bytesToIpv6Text(ipv6),
    ipv4Address: uint32ToIpv4Text(t.ipv4Address),
    lowestIpv6Mtu: t.lowestIpv6Mtu,
    ipv4NextHopMtu: t.ipv4NextHopMtu,
    ipv6NextHopMtu: t.ipv6NextHopMtu,
    zeroizeTrafficClass: t.zeroizeTrafficClass,
    amendUdpChecksumZero: t.amendUdpChecksumZero,
    icmpErrorRate: t.icmpErrorRate,
    now: clock.read,
  };
}

/** The prefix form of the translator's IPv4 address: its IPv6 address unless one is configured. */
function embedded(config: EngineSettings): Uint8Array {
  const out = new Uint8Array(16);
  prefixOf(config).embed(config.translation.ipv4Address, out, 0);
  return out;
}

/** Whether RFC 6052 3.1's refusal applies: asked for, and the prefix is the Well-Known Prefix. */
export function refusesNonGlobal(config: EngineSettings): boolean {
  return config.refuseNonGlobalUnderWkp && prefixOf(config).toString() === WELL_KNOWN_PREFIX_TEXT;
}

/**
 * Builds every part. Problems only the tables or the translator can see (two static BIB entries on one
 * port) come back as ConfigError, like every other configuration mistake.
 */
export function buildEngine(config: EngineSettings, options: BuildOptions): EngineParts {
  const clock = options.clock ?? new BatchClock();
  try {
    const prefix = prefixOf(config);
    const table = new Nat64Table(tableOptions(config, clock, options.secret));
    const translator = new Translator(translatorOptions(config, clock));
    const fragments = new FragmentTracker({
      clock: clock.read,
      timeoutMs: config.timeoutsMs.fragment,
      maxEntries: config.limits.maxFragmentDatagrams,
      ...(options.secret === undefined ? {} : { secret: options.secret }),
    });
    const engine = new Engine({
      table,
      translator,
      fragments,
      prefix,
      clock,
      pool4: config.pool4.map((entry) => entry.address),
      refuseNonGlobal: refusesNonGlobal(config),
      icmpErrorsFromReporter: config.translation.icmpErrorsFromReporter,
      maxInputSize: options.maxInputSize,
      inputBatchSize: options.inputBatchSize,
      offload: config.tun.offload,
    });
    return { clock, prefix, table, translator, fragments, engine };
  } catch (error) {
    if (error instanceof Nat64Error) {
      throw new ConfigError(error.code === 'STATIC_BIB_REFUSED' ? 'staticBib' : '', error.message);
    }
    if (error instanceof XlatError) throw new ConfigError('translation', error.message);
    throw error;
  }
}
