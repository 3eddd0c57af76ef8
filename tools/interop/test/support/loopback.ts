// The real receiver daemon and the agent, connected over UDP on loopback:
//
//   HandoffAgent --send()--> udp4 socket 127.0.0.n:ephemeral --------> receiver 127.0.0.1:ephemeral
//        ^                         (one per NAT address)                 (SQLite, connection log,
//        +---receive()------------ replies to the socket's port <------   control socket in a temp dir)
//
// The receiver runs in-process; its temp directory is removed by cleanup() whatever happened.
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadReceiverConfig, startReceiver, type ReceiverDaemon } from '@nat64/receiver';
import { silentLogger, type MicroClock } from '@nat64/service';
import { ipv4TextToUint32, uint32ToIpv4Text } from '@nat64/wire';
import { HandoffAgent, type HandoffAgentOptions } from '@nat64/handoff-agent';

/** 127.0.0.1 as a number: the host the receiver runs on. */
export const RECEIVER_HOST = 0x7f000001;

/** 127.0.0.n as a number: a NAT address the agent can send from without configuration. */
export function loopback(n: number): number {
  return 0x7f000000 + n;
}

export interface LoopbackReceiver {
  daemon: ReceiverDaemon;
  port: number;
  /** Connection log lines without their timestamps. */
  lines(): string[];
  cleanup(): Promise<void>;
}

export async function startLoopbackReceiver(flags: Record<string, unknown> = {}, clock?: MicroClock): Promise<LoopbackReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'nat64-interop-'));
  try {
    const config = loadReceiverConfig({
      flags: {
        listen: ['127.0.0.1'],
        port: 0,
        transport: 'handoff',
        database: join(dir, 'connections.db'),
        connectionLog: join(dir, 'connections.log'),
        control: join(dir, 'control.sock'),
        logLevel: 'silent',
        ...flags,
      },
    });
    const daemon = await startReceiver(config, silentLogger(), clock ? { clock } : {});
    return {
      daemon,
      port: Number(daemon.transport!.bound[0]!.split(':').at(-1)),
      lines: () =>
        existsSync(config.connectionLog)
          ? readFileSync(config.connectionLog, 'utf8')
              .split('\n')
              .filter(Boolean)
              .map((line) => line.slice(27))
          : [],
      async cleanup() {
        try {
          await daemon.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export type LoopbackAgentOptions = Omit<HandoffAgentOptions, 'clock' | 'send' | 'receiverPort'> & {
  /** Datagrams the network loses. */
  lose?: (payload: Uint8Array) => boolean;
};

/** An agent whose datagrams leave from a socket per NAT address, ticked every few milliseconds. */
export class LoopbackGateway {
  private readonly sockets = new Map<number, Socket>();
  private readonly timer: NodeJS.Timeout;
  readonly agent: HandoffAgent;
  /** Datagrams the agent sent, lost ones included. */
  sent = 0;

  private constructor(receiverPort: number, { lose, ...options }: LoopbackAgentOptions) {
    this.agent = new HandoffAgent({
      ...options,
      receiverPort,
      clock: () => performance.now(),
      send: (natAddress, host, payload) => {
        this.sent++;
        if (lose?.(payload)) return;
        // dgram keeps a reference until the datagram is out; the agent reuses its buffers.
        this.sockets.get(natAddress)?.send(Buffer.from(payload), receiverPort, uint32ToIpv4Text(host));
      },
    });
    this.timer = setInterval(() => this.agent.tick(), 2);
  }

  static async open(natAddresses: number[], receiverPort: number, options: LoopbackAgentOptions): Promise<LoopbackGateway> {
    const gateway = new LoopbackGateway(receiverPort, options);
    try {
      for (const natAddress of natAddresses) {
        const socket = createSocket('udp4');
        gateway.sockets.set(natAddress, socket);
        socket.on('message', (bytes, remote) => gateway.agent.receive(natAddress, ipv4TextToUint32(remote.address), remote.port, bytes));
        socket.on('error', () => undefined);
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind({ address: uint32ToIpv4Text(natAddress), port: 0 }, () => resolve());
        });
      }
    } catch (error) {
      await gateway.close();
      throw error;
    }
    return gateway;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.sockets.values()].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    this.sockets.clear();
  }
}

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
