// An engine built from settings on a FakeTun with a clock the test moves: what most engine tests
// start from. The settings are the app's defaults (apps/gateway/src/config.ts), written out, with a
// test's changes on top; addresses are text at this boundary only.

import { ipv4TextToUint32, ipv6TextToBytes } from '@nat64/wire';
import { FakeTun } from '@nat64/tun';
import {
  BatchClock,
  buildEngine,
  type EngineParts,
  type EngineSettings,
  type Pool4Entry,
  type PortRange,
  type Protocol,
  type StaticBibEntry,
} from '@nat64/gateway-engine';

export const CLIENT = '2001:db8:1::2';
export const PREFIX = '2001:db8:64::/96';
export const POOL4 = '198.51.100.1';
export const SERVER = '203.0.113.2';
/** The server under the prefix. */
export const SERVER6 = '2001:db8:64::cb00:7102';

/** A fixed secret, so port choices repeat from run to run. */
const SECRET = Uint8Array.from({ length: 64 }, (_, i) => (i * 29 + 3) & 0xff);

export function v4(text: string): number {
  const value = ipv4TextToUint32(text);
  if (value < 0) throw new Error(`bad IPv4 address ${text}`);
  return value;
}

export function v6(text: string): Uint8Array {
  const bytes = ipv6TextToBytes(text);
  if (bytes === null) throw new Error(`bad IPv6 address ${text}`);
  return bytes;
}

/** A pool4 address with the default port ranges, or the UDP ports given. */
export function pool4(address: string, udp: PortRange = { first: 1024, last: 65535 }): Pool4Entry {
  return { address: v4(address), ports: { tcp: { first: 1024, last: 65535 }, udp, icmp: { first: 0, last: 65535 } } };
}

/** A static BIB entry: `client` port `port` is `nat` port `port`. */
export function staticBib(protocol: Protocol, client: string, nat: string, port: number): StaticBibEntry {
  return { protocol, ipv6: v6(client), ipv6Port: port, ipv4: v4(nat), ipv4Port: port };
}

export interface TestSettings {
  /** An RFC 6052 prefix as text, "2001:db8:64::/96". */
  prefix?: string;
  pool4?: Pool4Entry[];
  staticBib?: StaticBibEntry[];
  filtering?: EngineSettings['filtering'];
  refuseNonGlobalUnderWkp?: boolean;
  limits?: Partial<EngineSettings['limits']>;
  offload?: boolean;
  /** With offload: coalesce the output batch (tun.coalesce). */
  coalesce?: boolean;
}

/** The app's defaults with `changes` on top. */
export function engineSettings(changes: TestSettings = {}): EngineSettings {
  const [address, length] = (changes.prefix ?? PREFIX).split('/');
  const entries = changes.pool4 ?? [pool4(POOL4)];
  return {
    prefix: { bytes: v6(address!), length: Number(length) },
    refuseNonGlobalUnderWkp: changes.refuseNonGlobalUnderWkp ?? true,
    pool4: entries,
    staticBib: changes.staticBib ?? [],
    filtering: changes.filtering ?? 'endpoint-independent',
    dropUnsolicitedTcp: false,
    timeoutsMs: { udp: 300_000, tcpEstablished: 7_440_000, tcpTransitory: 240_000, icmp: 60_000, fragment: 2000 },
    allowShortTimeouts: false,
    limits: { maxSessions: 2_000_000, maxSessionsPerClient: 16_384, maxHeldSyns: 1024, maxFragmentDatagrams: 16_384, ...changes.limits },
    translation: {
      lowestIpv6Mtu: 1280,
      ipv4NextHopMtu: 1500,
      ipv6NextHopMtu: 1500,
      ipv6Address: undefined,
      ipv4Address: entries[0]!.address,
      zeroizeTrafficClass: false,
      amendUdpChecksumZero: true,
      icmpErrorsFromReporter: true,
      icmpErrorRate: { perSecond: 1000, burst: 100 },
    },
    tun: { offload: changes.offload ?? false, coalesce: changes.coalesce ?? false },
  };
}

/** An engine on a FakeTun with a clock the test moves. */
export interface EngineOnFakeTun extends EngineParts {
  tun: FakeTun;
  /** Moves the clock forward. */
  advance(ms: number): void;
  /** Injects packets, delivers them synchronously and returns what the engine wrote. */
  send(...packets: Uint8Array[]): Uint8Array[];
  /** An engine counter by name. */
  counter(name: string): number;
}

export interface TestEngine extends EngineOnFakeTun {
  settings: EngineSettings;
}

/** Builds the engine from `settings` (the app passes its whole configuration) and attaches a FakeTun. */
export function engineOnFakeTun(settings: EngineSettings): EngineOnFakeTun {
  let now = 5_000_000;
  const clock = new BatchClock(() => now);
  // With tun.offload, as the real device: 64 KiB slots and virtio-net headers.
  const offload = settings.tun.offload;
  const parts = buildEngine(settings, { clock, maxInputSize: offload ? 65600 : 1536, inputBatchSize: 64, secret: SECRET });
  const tun = new FakeTun({ mtu: 1500, offload });
  parts.engine.attach(tun);
  return {
    ...parts,
    tun,
    advance: (ms) => {
      now += ms;
    },
    send: (...packets) => {
      tun.inject(packets);
      tun.flush();
      return tun.takeWritten();
    },
    counter: (name) => parts.engine.counters().find((c) => c.name === name)!.value,
  };
}

export function testEngine(changes: TestSettings = {}): TestEngine {
  const settings = engineSettings(changes);
  return { ...engineOnFakeTun(settings), settings };
}
