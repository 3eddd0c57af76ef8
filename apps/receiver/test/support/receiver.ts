// Starts a real receiver in-process for tests: UDP on 127.0.0.1 with a free port, a real SQLite
// file, a connection log file and a control socket in a temp directory that is removed afterwards.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type MicroClock } from '@nat64/service';
import { GatewayClient, type GatewayClientOptions } from '@nat64/handoff-sim';
import { loadReceiverConfig, startReceiver, type ReceiverConfig, type ReceiverDaemon } from '../../src/index.js';

export interface TestReceiver {
  daemon: ReceiverDaemon;
  dir: string;
  config: ReceiverConfig;
  port: number;
  /** Connection log lines without their timestamps. */
  lines(): string[];
  /** Raw connection log lines. */
  rawLines(): string[];
  gateway(natAddress: number, options?: Partial<GatewayClientOptions>): Promise<GatewayClient>;
  /** Stops the daemon (the directory stays, for a restart). */
  stop(): Promise<void>;
  /** Starts a new daemon on the same directory, database and port. */
  restart(overrides?: Record<string, unknown>): Promise<TestReceiver>;
  cleanup(): Promise<void>;
}

/** The configuration startTestReceiver uses in `dir`, with `flags` over it. */
export function testReceiverConfig(dir: string, flags: Record<string, unknown> = {}): ReceiverConfig {
  return loadReceiverConfig({
    flags: {
      listen: ['127.0.0.1'],
      port: 0,
      transport: 'handoff',
      database: join(dir, 'connections.db'),
      connectionLog: join(dir, 'connections.log'),
      control: join(dir, 'control.sock'),
      logLevel: 'silent',
      // A warm-up costs each start a third of a second; warm-up.test.ts tests it.
      warmUp: 0,
      ...flags,
    },
  });
}

export async function startTestReceiver(
  flags: Record<string, unknown> = {},
  clock?: MicroClock,
  dir = mkdtempSync(join(tmpdir(), 'nat64-receiver-')),
): Promise<TestReceiver> {
  const config = testReceiverConfig(dir, flags);
  const daemon = await startReceiver(config, silentLogger(), clock ? { clock } : {});
  const port = Number(daemon.transport!.bound[0]!.split(':').at(-1));
  const clients: GatewayClient[] = [];
  let stopped = false;
  const receiver: TestReceiver = {
    daemon,
    dir,
    config,
    port,
    rawLines: () => (existsSync(config.connectionLog) ? readFileSync(config.connectionLog, 'utf8').split('\n').filter(Boolean) : []),
    lines: () => receiver.rawLines().map((line) => line.slice(27)),
    async gateway(natAddress, options = {}) {
      const client = await GatewayClient.open({ receiverAddress: '127.0.0.1', receiverPort: port, natAddress, localPort: 0, initialRtoMs: 200, ...options });
      clients.push(client);
      return client;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(clients.splice(0).map((client) => client.close()));
      await daemon.close();
    },
    async restart(overrides = {}) {
      await receiver.stop();
      return startTestReceiver({ ...flags, port, ...overrides }, clock, dir);
    },
    async cleanup() {
      await receiver.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return receiver;
}

/** 127.0.0.n as a number: loopback addresses a test gateway can send from without configuration. */
export function loopback(n: number): number {
  return 0x7f000000 + n;
}
