// Network-namespace labs: real hosts on one machine, joined by veth links, for end-to-end tests,
// the demo and benchmarks. Every namespace and process a lab makes is named with the lab's run id
// and removed by destroy(), which also runs when the process exits or is interrupted, and a later
// lab sweeps namespaces left behind by a run that was killed outright.
//
// Only documentation addresses belong in a lab; nothing here routes outside its namespaces.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const PREFIX = 'n64';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Namespace {
  constructor(
    readonly lab: Lab,
    readonly role: string,
    readonly name: string,
  ) {}

  /** Runs a command inside the namespace and waits for it; throws with its stderr when it fails. */
  exec(command: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): string {
    try {
      return execFileSync('ip', ['netns', 'exec', this.name, command, ...args], {
        encoding: 'utf8',
        input: options.input,
        timeout: options.timeoutMs ?? 30_000,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      const failure = error as { stderr?: string; stdout?: string; message: string };
      throw new Error(`[${this.role}] ${command} ${args.join(' ')} failed: ${failure.stderr?.trim() || failure.message}`);
    }
  }

  /** Runs a command and resolves with its exit code and output, never rejecting on a non-zero exit. */
  run(command: string, args: string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = this.spawn(command, args);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
      });
    });
  }

  /** Starts a long-running process inside the namespace; the lab kills it on destroy(). */
  spawn(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, command, ...args], { stdio: 'pipe', ...options });
    this.lab.track(child);
    return child;
  }

  ip(...args: string[]): string {
    return this.exec('ip', args);
  }

  sysctl(key: string, value: string | number): void {
    this.exec('sysctl', ['-qw', `${key}=${value}`]);
  }
}

export interface LinkOptions {
  /** Addresses with prefix length for each end, e.g. ['2001:db8:1::1/64']. */
  addresses: [string[], string[]];
  mtu?: number;
}

export class Lab {
  readonly id: string;
  private readonly namespaces: Namespace[] = [];
  private readonly processes = new Set<ChildProcess>();
  private links = 0;
  private destroyed = false;
  private readonly onExit = () => this.destroy();
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.destroy();
    process.kill(process.pid, signal);
  };

  /** `tag` names the lab's purpose in namespace names (keep it short: e2e, demo, bench). */
  constructor(readonly tag: string) {
    if (!/^[a-z0-9]{1,8}$/.test(tag)) throw new Error(`lab tag "${tag}" must be 1-8 lowercase letters or digits`);
    sweepStaleLabs();
    this.id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
    process.once('exit', this.onExit);
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** Creates a namespace with loopback up. */
  addNamespace(role: string): Namespace {
    const name = `${PREFIX}-${process.pid}-${this.id}-${this.tag}-${role}`;
    execFileSync('ip', ['netns', 'add', name]);
    const namespace = new Namespace(this, role, name);
    this.namespaces.push(namespace);
    namespace.ip('link', 'set', 'lo', 'up');
    return namespace;
  }

  /** Joins two namespaces with a veth pair; returns the interface names inside each. */
  link(a: Namespace, b: Namespace, options: LinkOptions): [string, string] {
    const index = this.links++;
    const aName = `${this.id.slice(-6)}a${index}`;
    const bName = `${this.id.slice(-6)}b${index}`;
    execFileSync('ip', ['link', 'add', aName, 'netns', a.name, 'type', 'veth', 'peer', 'name', bName, 'netns', b.name]);
    for (const [namespace, device, addresses] of [
      [a, aName, options.addresses[0]],
      [b, bName, options.addresses[1]],
    ] as const) {
      if (options.mtu) namespace.ip('link', 'set', device, 'mtu', String(options.mtu));
      for (const address of addresses) {
        namespace.ip(...(address.includes(':') ? ['-6'] : []), 'address', 'add', address, 'dev', device, ...(address.includes(':') ? ['nodad'] : []));
      }
      namespace.ip('link', 'set', device, 'up');
    }
    return [aName, bName];
  }

  track(child: ChildProcess): void {
    this.processes.add(child);
    child.once('exit', () => this.processes.delete(child));
  }

  /** Kills the lab's processes and deletes its namespaces (and with them their links). Idempotent, synchronous. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    for (const child of this.processes) child.kill('SIGKILL');
    for (const namespace of this.namespaces.reverse()) deleteNamespace(namespace.name);
  }
}

function deleteNamespace(name: string): void {
  // Processes that entered the namespace without us (children of children) keep it alive: kill them first.
  try {
    const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // the namespace may already be gone
  }
  try {
    execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  } catch {
    // already deleted
  }
}

/** Deletes namespaces of labs whose process no longer exists (a run killed with SIGKILL). */
export function sweepStaleLabs(): void {
  let names: string[];
  try {
    names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => name.startsWith(`${PREFIX}-`));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.split('-')[1]);
    if (Number.isInteger(pid) && !isAlive(pid)) deleteNamespace(name);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why a lab cannot run here, or undefined when it can: tests skip with this note. */
export function labUnavailableReason(needs: string[] = []): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const program of ['ip', ...needs]) {
    try {
      execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    } catch {
      return `${program} is not installed (tools/setup/setup.sh installs it)`;
    }
  }
  return undefined;
}
