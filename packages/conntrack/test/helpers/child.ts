// Runs test/fixtures/store-process.mjs, a SqliteStore in another process, for the lock and kill -9
// tests. Node 20 cannot run TypeScript, so the child uses the built package: the helper refuses to
// run it from a build older than the sources rather than test stale code.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const packageDir = join(import.meta.dirname, '..', '..');
const buildInfo = join(packageDir, 'dist', '.tsbuildinfo');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function checkBuild(): void {
  let built: number;
  try {
    built = statSync(buildInfo).mtimeMs;
  } catch {
    throw new Error('packages/conntrack is not built: run `pnpm --filter @nat64/conntrack build` first');
  }
  if (newestSource(join(packageDir, 'src')) > built) {
    throw new Error('packages/conntrack/dist is older than src: run `pnpm --filter @nat64/conntrack build` first');
  }
}

export interface StoreProcess {
  readonly child: ChildProcess;
  /** Resolves with the first stdout line matching `pattern`. */
  waitFor(pattern: RegExp): Promise<string>;
  /** Lines printed so far. */
  readonly lines: string[];
  /** Sends SIGKILL and resolves once the process is gone. */
  kill(): Promise<void>;
}

export function startStoreProcess(mode: 'hold' | 'write', path: string, durability: 'full' | 'normal' = 'full'): StoreProcess {
  checkBuild();
  const child = spawn(process.execPath, [join(packageDir, 'test', 'fixtures', 'store-process.mjs'), mode, path, durability], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters.splice(0)) {
      if (waiter.pattern.test(line)) waiter.resolve(line);
      else waiters.push(waiter);
    }
  });
  return {
    child,
    lines,
    waitFor(pattern) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then(() => reject(new Error(`store process exited before printing ${pattern}; it printed: ${lines.join(' | ')}`)));
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
