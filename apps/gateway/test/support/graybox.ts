// Test support for replaying Jool's stateful NAT64 graybox suite: the gateway settings the suite
// assumes (its pool6, pool4, static BIB, translator addresses) plus each case's own settings, and the
// answer an IPv4 router gives when a case asks the harness to play one (peerAction).

import type { GrayboxCase, GrayboxSuite } from '@nat64/graybox';
import { internetChecksum } from '@nat64/wire';
import type { RawSettings } from '../../src/config.js';

interface SuiteStaticBib {
  protocol: string;
  ipv6: string;
  ipv4: string;
}

interface SuitePool4 {
  address: string;
  protocol: string;
  ports: string;
}

interface SuiteConfig {
  pool6: string;
  translatorAddresses: { ipv6: string; ipv4: string };
  pool4: SuitePool4[];
  staticBib: SuiteStaticBib[];
}

/** "2001:db8::5#2000" -> "[2001:db8::5]:2000", "192.0.2.2#2000" -> "192.0.2.2:2000". */
function endpoint(text: string, ipv6: boolean): string {
  const [address, port] = text.split('#');
  return ipv6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The gateway settings (as a config file would hold them) for one case of the suite. */
export function suiteSettings(suite: GrayboxSuite, c: GrayboxCase | undefined): RawSettings {
  const config = suite.config as unknown as SuiteConfig;
  const pool: RawSettings = {};
  for (const entry of config.pool4) {
    pool['address'] = entry.address;
    pool[entry.protocol.toLowerCase()] = entry.ports;
  }
  const globals = c?.preconditions.settings.globals ?? {};
  const mtus = c?.preconditions.settings.linkMtu ?? {};
  return {
    prefix: config.pool6,
    // The suite's hosts live in documentation ranges, which RFC 6052 3.1 would refuse under 64:ff9b::/96.
    refuseNonGlobalUnderWkp: false,
    pool4: [pool],
    staticBib: config.staticBib.map((entry) => ({
      protocol: entry.protocol.toLowerCase(),
      ipv6: endpoint(entry.ipv6, true),
      ipv4: endpoint(entry.ipv4, false),
    })),
    translation: {
      ipv6Address: config.translatorAddresses.ipv6.split('/')[0],
      ipv4Address: config.translatorAddresses.ipv4.split('/')[0],
      lowestIpv6Mtu: Number(globals['lowest-ipv6-mtu'] ?? 1280),
      ipv4NextHopMtu: mtus['translatorIpv4Side'] ?? 1500,
      ipv6NextHopMtu: mtus['translatorIpv6Side'] ?? 1500,
      zeroizeTrafficClass: globals['zeroize-traffic-class'] === true,
      icmpErrorsFromReporter: globals['source-icmpv6-errors-better'] !== false,
      // Replaying needs every error the suite expects, however fast the cases follow each other.
      icmpErrorRate: { perSecond: 1_000_000, burst: 1_000_000 },
    },
    logLevel: 'silent',
  };
}

/**
 * The ICMPv4 Destination Unreachable a router sends about `quoted` (the whole packet, RFC 1812
 * 4.3.2.3 allows up to 576 bytes): from `router` to the quoted packet's source, TTL 64, TOS 0xc0 and DF
 * clear as Linux sends them (misc.issue132's peerAction).
 */
export function routerUnreachable(router: readonly number[], quoted: Uint8Array, code: number): Uint8Array {
  const total = 20 + 8 + quoted.length;
  const p = new Uint8Array(total);
  p.set([0x45, 0xc0, total >> 8, total & 0xff, 0x12, 0x34, 0x00, 0x00, 64, 1, 0, 0], 0);
  p.set(router, 12);
  p.set(quoted.subarray(12, 16), 16);
  const header = internetChecksum(p, 0, 20);
  p[10] = header >> 8;
  p[11] = header & 0xff;
  p[20] = 3;
  p[21] = code;
  p.set(quoted, 28);
  const icmp = internetChecksum(p, 20, total);
  p[22] = icmp >> 8;
  p[23] = icmp & 0xff;
  return p;
}

/** The IPv4 router of the suite's topology (n4). */
export const SUITE_ROUTER = [192, 0, 2, 5] as const;
