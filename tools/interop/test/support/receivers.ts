// The two receivers the agent-against-receiver suite runs against, each on a UDP socket on
// 127.0.0.1: the receiver package alone (@nat64/handoff-receiver built and run over a memory store
// and a connection log in memory) and the receiver daemon (@nat64/receiver: SQLite on a worker
// thread, a log file and a control socket in a temp dir).
import { createSocket } from 'node:dgram';
import { MemoryStore } from '@nat64/conntrack';
import { RECEIVER_COUNTERS, buildReceiver, runReceiver, type ReceiverCounterName } from '@nat64/handoff-receiver';
import { Capability } from '@nat64/handoff-codec';
import { Counters, silentLogger, systemMicroClock, type MicroClock } from '@nat64/service';
import { memoryLog } from '../../../../packages/handoff-receiver/test/support/memory-log.js';
import { startLoopbackReceiver } from './loopback.js';

export interface ReceiverSetup {
  /** The key gateways on 127.0.0.0/8 must use. */
  key?: Uint8Array | undefined;
  /** Idle time after which the receiver releases an entry (default: never). */
  idleTimeoutMs?: number;
  clock?: MicroClock | undefined;
  /** How long the receiver may hold an ACK (default: the package's 0, the daemon's 4 ms). */
  ackDelayMs?: number;
}

export interface ReceiverUnderTest {
  port: number;
  /** Connection log lines without their timestamps. */
  lines(): string[];
  counter(name: ReceiverCounterName): number;
  /** One tick of the engine (idle entries, RELEASE retransmission), as its timer does once a second. */
  tick(): void;
  cleanup(): Promise<void>;
}

export type StartReceiver = (setup: ReceiverSetup) => Promise<ReceiverUnderTest>;

export const startPackageReceiver: StartReceiver = async (setup) => {
  const clock = setup.clock ?? systemMicroClock();
  const logger = silentLogger();
  const counters = new Counters(RECEIVER_COUNTERS);
  const lines: string[] = [];
  const socket = createSocket('udp4');
  const built = buildReceiver({
    store: new MemoryStore(),
    log: memoryLog(lines),
    clock,
    logger,
    counters,
    capacity: 100_000,
    idleTimeoutMs: setup.idleTimeoutMs ?? 0,
    ...(setup.ackDelayMs === undefined ? {} : { ackDelayMs: setup.ackDelayMs }),
    send: (bytes, port, address) => socket.send(bytes, port, address),
    options: {
      authoritative: true,
      allows: () => true,
      keyFor: (address) => (address.startsWith('127.') ? setup.key : undefined),
      maxPeers: 1000,
      capabilities: () => Capability.HANDOFF_V1,
    },
  });
  socket.on('message', (bytes, remote) => built.receiver.handleDatagram(bytes, remote.address, remote.port));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.bind({ address: '127.0.0.1', port: 0 }, () => resolve()));
  const running = runReceiver(built, { clock, logger, counters, retentionMs: () => 86_400_000 });
  return {
    port: socket.address().port,
    lines: () => [...lines],
    counter: (name) => counters.get(name),
    tick: () => built.receiver.tick(),
    async cleanup() {
      await running.stop();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await running.drain();
      await built.table.closeAsync();
    },
  };
};

export const startDaemonReceiver: StartReceiver = async (setup) => {
  const flags: Record<string, unknown> = {};
  if (setup.key) flags.keys = [{ gateways: '127.0.0.0/8', key: Buffer.from(setup.key).toString('hex') }];
  if (setup.idleTimeoutMs !== undefined) flags.idleTimeout = `${setup.idleTimeoutMs / 1000}s`;
  if (setup.ackDelayMs !== undefined) flags.ackDelay = `${setup.ackDelayMs}ms`;
  const receiver = await startLoopbackReceiver(flags, setup.clock);
  return {
    port: receiver.port,
    lines: () => receiver.lines(),
    counter: (name) => receiver.daemon.counters.get(name),
    tick: () => receiver.daemon.receiver.tick(),
    cleanup: () => receiver.cleanup(),
  };
};
