// Runs test/fixtures/store-process.mjs, a store in another process, for the lock, kill -9 and exit
// tests. The child runs the built package (see build.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { checkBuild, packageDir } from './build.js';

export interface StoreProcess {
  readonly child: ChildProcess;
  /** Resolves with the first stdout line matching `pattern`. */
  waitFor(pattern: RegExp): Promise<string>;
  /** Lines printed so far. */
  readonly lines: string[];
  /** Sends SIGKILL and resolves once the process is gone. */
  kill(): Promise<void>;
  /** Resolves with the exit code once the process has ended by itself (null if a signal ended it). */
  readonly exited: Promise<number | null>;
}

/** Modes of test/fixtures/store-process.mjs; see the comment at its top. */
export type StoreProcessMode = 'hold' | 'write' | 'hold-worker' | 'pipeline' | 'close-and-exit' | 'forget-close';

export function startStoreProcess(mode: StoreProcessMode, path: string, durability: 'full' | 'normal' = 'full'): StoreProcess {
  checkBuild();
  const child = spawn(process.execPath, [join(packageDir, 'test', 'fixtures', 'store-process.mjs'), mode, path, durability], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
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
    exited,
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
