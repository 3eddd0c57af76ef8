// The real receiver as the receiver benchmarks run it: `nat64-receiver run` on loopback with its
// files in a fresh directory, fed by handoff-sim from the simulated gateways' addresses, and the
// CPU time /proc counts for it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type LoadReport } from '@nat64/handoff-sim';

/** The simulated gateways' NAT addresses: 127.0.0.7 to 127.0.0.10. */
const GATEWAYS = [0x7f000007, 0x7f000008, 0x7f000009, 0x7f00000a];
/** Those of the gateways that warm a receiver up (BenchReceiver.warm): 127.0.0.11 to 127.0.0.14. */
const WARMING_GATEWAYS = [0x7f00000b, 0x7f00000c, 0x7f00000d, 0x7f00000e];
const TICKS_PER_SECOND = 100;

export interface BenchReceiver {
  child: ChildProcess;
  /** Its UDP port for handoff messages. */
  port: number;
  /** Sends `count` CREATED entries at `rate` per second (0: as fast as ACKs allow), as 4 gateways with 5 % port reuse. */
  load(count: number, rate: number): Promise<LoadReport>;
  /**
   * Sends `count` entries at saturation from 4 other gateways, so that a load after it meets a
   * receiver that has run for a while (its hot paths compiled, its tables and file holding entries)
   * without replacing any of those entries.
   */
  warm(count: number): Promise<LoadReport>;
  /** SIGTERM, then its files go. */
  stop(): Promise<void>;
}

/** Starts the receiver at `main` with `args` after its own (loopback, files), and `nodeArgs` before the script. */
export async function startLoopbackReceiver(
  main: string,
  args: string[] = [],
  options: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<BenchReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'nat64-bench-receiver-'));
  const own = ['run', '--listen', '127.0.0.1', '--port', '0', '--db', join(dir, 'c.db'), '--conn-log', join(dir, 'c.log'), '--control', join(dir, 'c.sock')];
  const child = spawn('node', [...(options.nodeArgs ?? []), main, ...own, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: options.env ?? process.env,
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((exited) => child.once('exit', exited));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let stderr = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /"listen":\["127\.0\.0\.1:(\d+)"\]/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`receiver exited with ${code}: ${stderr}`)));
    });
    const loadFrom = (gateways: number[], count: number, rate: number) =>
      runLoad({
        receiverAddress: '127.0.0.1',
        receiverPort: port,
        localPort: 0,
        gateways,
        count,
        rate,
        clients: 10_000,
        reuse: 0.05,
        serverAddress: 0xc633640a,
      });
    const load = (count: number, rate: number) => loadFrom(GATEWAYS, count, rate);
    const warm = (count: number) => loadFrom(WARMING_GATEWAYS, count, 0);
    return { child, port, load, warm, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** CPU µs (user + system) the process, or one of its threads, has used. */
export function cpuMicros(pid: number, task?: string): number {
  const fields = readFileSync(task === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${task}/stat`, 'utf8')
    .split(') ')[1]!
    .split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
}
