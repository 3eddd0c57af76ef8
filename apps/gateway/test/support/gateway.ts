// A gateway built from a configuration on a FakeTun with a clock the test moves: what the app's tests
// (stats, metrics, sessions, reload, handoff) start from. The engine's own tests build from settings
// (packages/gateway-engine/test/support/engine.ts).

import { FakeTun } from '@nat64/tun';
import { loadGatewayConfig, type GatewayConfig, type RawSettings } from '../../src/config.js';
import { BatchClock, buildEngine, type EngineParts } from '@nat64/gateway-engine';

export const CLIENT = '2001:db8:1::2';
export const PREFIX = '2001:db8:64::/96';
export const POOL4 = '198.51.100.1';
export const SERVER = '203.0.113.2';
/** The server under the prefix. */
export const SERVER6 = '2001:db8:64::cb00:7102';

/** A fixed secret, so port choices repeat from run to run. */
const SECRET = Uint8Array.from({ length: 64 }, (_, i) => (i * 29 + 3) & 0xff);

export interface TestGateway extends EngineParts {
  config: GatewayConfig;
  tun: FakeTun;
  /** Moves the clock forward. */
  advance(ms: number): void;
  /** Injects packets, delivers them synchronously and returns what the gateway wrote. */
  send(...packets: Uint8Array[]): Uint8Array[];
  /** A gateway counter by name. */
  counter(name: string): number;
}

export function testGateway(settings: RawSettings = {}): TestGateway {
  let now = 5_000_000;
  const clock = new BatchClock(() => now);
  const config = loadGatewayConfig({ flags: { prefix: PREFIX, pool4: [POOL4], logLevel: 'silent', ...settings } });
  // With tun.offload, as the real device: 64 KiB slots and virtio-net headers.
  const offload = config.tun.offload;
  const parts = buildEngine(config, { clock, maxInputSize: offload ? 65600 : 1536, inputBatchSize: 64, secret: SECRET });
  const tun = new FakeTun({ mtu: 1500, offload });
  parts.engine.attach(tun);
  return {
    ...parts,
    config,
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
