// The bypass transport's slice of the configuration, `handoff.bypass` (docs/protocol/nat64-bypass.md),
// with its defaults. Reading it opens nothing: the secret file is read (or created) when the gateway starts.

import { ConfigError, parseDuration, type ConfigReader } from '@nat64/service';
import { IMPL, SPEC } from './constants.js';

/** NAT64 bypass, used when handoff.transport is 'bypass' or 'auto'. */
export interface BypassConfig {
  /** The persistent secret the per-server VNIs are derived from (bypass §5.1); created 0600 on first start. */
  secretFile: string;
  /** The log message every offer carries (bypass §3.1), at most 124 bytes of UTF-8. */
  message: string;
  /** The gateway's IPv6 address on the tunnel links (bypass §5.3). */
  linkLocal: string;
  offerIntervalMs: number;
  /** RFC 4861 REACHABLE_TIME on the tunnel link (bypass §6.3). */
  reachableMs: number;
  macRotationMs: number;
  macGraceMs: number;
  /** The tunnel link's IPv6 MTU; the gateway uses at most handoff.mtu minus 54 (bypass §8). */
  mtu: number;
  /** Seed of the outer UDP source port hash (bypass §4). */
  flowHashSeed: number;
  /**
   * Compute the outer UDP checksum of data packets (offers and advertisements always have one). Off by
   * default: RFC 8926 §3.3 allows zero over IPv4, and the client's packet inside keeps its own checksums.
   */
  udpChecksum: boolean;
  /**
   * Translated flows toward accepted hosts remembered after their session left the table (16 bytes each,
   * allocated at start), so that a client speaking first stays translated instead of entering the tunnel;
   * 0 turns the memory off.
   */
  translatedFlows: number;
}

function duration(reader: ConfigReader, key: string, fallback: string, minMs: number): number {
  const ms = Math.round(parseDuration(reader.string(key, fallback), reader.path(key)));
  if (ms < minMs) throw new ConfigError(reader.path(key), `must be at least ${minMs} ms`);
  return ms;
}

/** Reads `handoff.bypass`; throws ConfigError naming the setting. */
export function readBypassConfig(reader: ConfigReader): BypassConfig {
  const bypass: BypassConfig = {
    secretFile: reader.string('secretFile', IMPL.SECRET_FILE),
    message: reader.string('message', IMPL.MESSAGE),
    linkLocal: reader.string('linkLocal', IMPL.LINK_LOCAL),
    offerIntervalMs: duration(reader, 'offerInterval', IMPL.OFFER_INTERVAL, 100),
    reachableMs: duration(reader, 'reachableTime', IMPL.REACHABLE_TIME, 100),
    macRotationMs: duration(reader, 'macRotation', IMPL.MAC_ROTATION, 1000),
    macGraceMs: duration(reader, 'macGrace', IMPL.MAC_GRACE, 0),
    mtu: reader.integer('mtu', { min: SPEC.IPV6_MIN_MTU, max: 65535 - SPEC.TUNNEL_OVERHEAD, fallback: IMPL.MTU }),
    flowHashSeed: reader.integer('flowHashSeed', { min: 0, max: 0xffff_ffff, fallback: 0 }),
    udpChecksum: reader.boolean('udpChecksum', false),
    translatedFlows: reader.integer('translatedFlows', { min: 0, max: 100_000_000, fallback: IMPL.TRANSLATED_FLOWS }),
  };
  if (Buffer.byteLength(bypass.message) > 124) throw new ConfigError(reader.path('message'), 'must be at most 124 bytes of UTF-8 (bypass §3.1)');
  if (!/^fe80:/i.test(bypass.linkLocal)) throw new ConfigError(reader.path('linkLocal'), 'must be a link-local IPv6 address (fe80::/64)');
  if (bypass.secretFile === '') throw new ConfigError(reader.path('secretFile'), 'must be a file path');
  reader.done();
  return bypass;
}
