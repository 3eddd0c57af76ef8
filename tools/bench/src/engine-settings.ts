// The settings the in-process gateway benchmarks build the engine and handoff from: the app's
// defaults (apps/gateway/src/config.ts) written out, the prefix 2001:db8:64::/96 and pool4 addresses
// from 198.51.100.1 up, and a benchmark's own limits.

import type { EngineSettings } from '@nat64/gateway-engine';
import { readHandoffConfig, type HandoffConfig } from '@nat64/gateway-handoff';
import { ConfigReader } from '@nat64/service';

const PREFIX = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
const FIRST_POOL4 = ((198 << 24) | (51 << 16) | (100 << 8) | 1) >>> 0;

export function engineSettings(pool4Addresses: number, limits: Partial<EngineSettings['limits']> = {}): EngineSettings {
  const pool4 = Array.from({ length: pool4Addresses }, (_, i) => ({
    address: FIRST_POOL4 + i,
    ports: { tcp: { first: 1024, last: 65535 }, udp: { first: 1024, last: 65535 }, icmp: { first: 0, last: 65535 } },
  }));
  return {
    prefix: { bytes: PREFIX, length: 96 },
    refuseNonGlobalUnderWkp: true,
    pool4,
    staticBib: [],
    filtering: 'endpoint-independent',
    dropUnsolicitedTcp: false,
    timeoutsMs: { udp: 300_000, tcpEstablished: 7_440_000, tcpTransitory: 240_000, icmp: 60_000, fragment: 2000 },
    allowShortTimeouts: false,
    limits: { maxSessions: 2_000_000, maxSessionsPerClient: 16_384, maxHeldSyns: 1024, maxFragmentDatagrams: 16_384, ...limits },
    translation: {
      lowestIpv6Mtu: 1280,
      ipv4NextHopMtu: 1500,
      ipv6NextHopMtu: 1500,
      ipv6Address: undefined,
      ipv4Address: FIRST_POOL4,
      zeroizeTrafficClass: false,
      amendUdpChecksumZero: true,
      icmpErrorsFromReporter: true,
      icmpErrorRate: { perSecond: 1000, burst: 100 },
    },
    tun: { offload: false },
  };
}

/** Handoff's slice as the gateway reads it, from `settings` over its defaults. */
export function handoffSettings(settings: Record<string, unknown>, ipv4NextHopMtu = 1500): HandoffConfig {
  return ConfigReader.read(settings, undefined, (reader) => readHandoffConfig(reader, ipv4NextHopMtu));
}
