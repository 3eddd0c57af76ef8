// Code that runs outside vitest (child processes, and the writer thread of SqliteWorkerStore) uses
// the built package, since Node 20 cannot run TypeScript: refuse to test with a build older than
// the sources rather than test stale code.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const packageDir = join(import.meta.dirname, '..', '..');
const buildInfo = join(packageDir, 'dist', '.tsbuildinfo');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function checkBuild(): void {
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
