// A network namespace for one test file and a runner for the child scenarios inside it
// (test/fixtures/tun-child.mjs). Namespaces are named nat64-tun-test-<pid>-<random>; ones left
// by a run that was killed outright (its pid is gone) are swept when the next one is made.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'nat64-tun-test-';
export const PACKAGE_ROOT = join(import.meta.dirname, '../..');
const CHILD_IN_PACKAGE = 'test/fixtures/tun-child.mjs';
const CHILD = join(PACKAGE_ROOT, CHILD_IN_PACKAGE);
const CHILD_TIMEOUT_MS = 20_000;
/** The workspace packages dist/ imports at run time. */
const RUNTIME_WORKSPACE_PACKAGES = ['@nat64/wire'];

/** Why real-device tests cannot run here, or undefined when they can. */
export function realDeviceUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/net/tun is missing';
  }
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return 'no usable `ip netns` (iproute2)';
  }
  return undefined;
}

/** Throws unless dist/ and the addon are at least as new as their sources: the child runs them. */
export function assertBuilt(): void {
  const addon = join(PACKAGE_ROOT, 'build/Release/tun.node');
  const stale: string[] = [];
  if (!existsSync(addon)) stale.push('build/Release/tun.node');
  for (const file of readdirSync(join(PACKAGE_ROOT, 'src'))) {
    const built = join(PACKAGE_ROOT, 'dist', file.replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(PACKAGE_ROOT, 'src', file)).mtimeMs) {
      stale.push(`dist/${file.replace(/\.ts$/, '.js')}`);
    }
  }
  if (stale.length > 0) {
    throw new Error(`the child scenarios run the built package; run pnpm --filter @nat64/tun build (stale: ${stale.join(', ')})`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sweepStale(): void {
  const names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(PREFIX));
  for (const name of names) {
    const pid = Number(name.slice(PREFIX.length).split('-')[0]);
    if (Number.isInteger(pid) && !alive(pid)) execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

export function createNamespace(): string {
  sweepStale();
  const name = `${PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  try {
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (error) {
    deleteNamespace(name);
    throw error;
  }
  return name;
}

export function deleteNamespace(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // Already gone.
  }
}

/**
 * Runs a child scenario in the namespace and returns its JSON report. Fails when the child does
 * not end by itself within the timeout (it is then killed) or ends with an error.
 */
export async function runScenario<T>(namespace: string, scenario: string, options: { unprivileged?: boolean } = {}): Promise<T> {
  if (!options.unprivileged) return runChild<T>(namespace, scenario, CHILD, []);
  const copy = readableCopy();
  try {
    return await runChild<T>(namespace, scenario, join(copy, CHILD_IN_PACKAGE), ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/**
 * What the child needs (dist/, the addon, the fixtures and the workspace packages dist/ imports)
 * copied where uid 65534 can read it: the checkout itself may sit under a directory only root can
 * enter (a clone in /root).
 */
function readableCopy(): string {
  const copy = mkdtempSync(join(tmpdir(), 'nat64-tun-test-'));
  chmodSync(copy, 0o755);
  for (const part of ['dist', 'build/Release/tun.node', 'test/fixtures']) {
    cpSync(join(PACKAGE_ROOT, part), join(copy, part), { recursive: true });
  }
  for (const name of RUNTIME_WORKSPACE_PACKAGES) {
    for (const part of ['package.json', 'dist']) {
      cpSync(join(PACKAGE_ROOT, 'node_modules', name, part), join(copy, 'node_modules', name, part), { recursive: true });
    }
  }
  return copy;
}

function runChild<T>(namespace: string, scenario: string, script: string, user: string[]): Promise<T> {
  const child = spawn('ip', ['netns', 'exec', namespace, ...user, process.execPath, script, scenario], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new Error(`scenario ${scenario} did not exit by itself within ${CHILD_TIMEOUT_MS} ms\n${stderr}`));
      else if (code !== 0) reject(new Error(`scenario ${scenario} failed (code ${code}, signal ${signal}):\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as T);
    });
  });
}
