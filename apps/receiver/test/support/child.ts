// Runs the built receiver (dist/main.js) as a child process, as systemd would: for tests that kill
// it with SIGKILL, send it SIGHUP, or start it under a umask.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@nat64/netlab';

export const MAIN = new URL('../../dist/main.js', import.meta.url).pathname;
const run = promisify(execFile);

export interface ChildReceiver {
  child: ChildProcess;
  port: number;
  control: string;
  /** The operational log (JSON lines on stderr) so far. */
  stderr(): string;
  /** The daemon's counters, through `nat64-receiver stats --json`. */
  counter(name: string): Promise<number>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, waiting for the process to be gone. */
  kill(): Promise<void>;
}

export interface ChildOptions {
  db?: string;
  log?: string;
  /** Shell umask the receiver starts under (e.g. '000'). */
  umask?: string;
  /** Its environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  extra?: string[];
}

/** Starts `nat64-receiver run` on 127.0.0.1 with files in `dir`; resolves once it listens. */
export async function startChildReceiver(dir: string, options: ChildOptions = {}): Promise<ChildReceiver> {
  const control = join(dir, `control-${Math.random().toString(36).slice(2)}.sock`);
  const args = [
    MAIN,
    'run',
    '--listen',
    '127.0.0.1',
    '--port',
    '0',
    '--transport',
    'handoff',
    '--db',
    options.db ?? join(dir, 'connections.db'),
    '--conn-log',
    options.log ?? join(dir, 'connections.log'),
    '--control',
    control,
    '--log-level',
    'info',
    ...(options.extra ?? []),
  ];
  const child = options.umask
    ? spawn('sh', ['-c', `umask ${options.umask} && exec "$0" "$@"`, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: options.env })
    : spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: options.env });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const port = Number(
    await waitFor('the listening port', () => {
      if (gone) throw new Error(`the receiver exited at start: ${stderr}`);
      return /"listen":\["127\.0\.0\.1:(\d+)"\]/.exec(stderr)?.[1];
    }),
  );
  return {
    child,
    port,
    control,
    stderr: () => stderr,
    async counter(name) {
      const { stdout } = await run(process.execPath, [MAIN, 'stats', '--control', control, '--json', '--all']);
      const counters = (JSON.parse(stdout) as { counters: Array<{ name: string; value: number }> }).counters;
      return counters.find((counter) => counter.name === name)?.value ?? 0;
    },
    async stop() {
      if (!gone) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
  };
}
