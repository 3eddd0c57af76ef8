// The benchmark's network-namespace topology around the real nat64-gateway, with blackhole targets:
// addresses that the gateway namespace resolves to the neighbour's MAC statically and that the
// neighbour, which does not forward, drops right after counting them on its interface. So a flood
// costs the receiving side as little as possible and its interface counter says what got through.
//
//   client (IPv6 only)              gateway (TUN "nat64", nat64-gateway pinned to one core)        server (IPv4 only)
//   2001:db8:1::2/64 ---veth--- 2001:db8:1::1/64         203.0.113.1/24 ---veth--- 203.0.113.2/24
//   sink 2001:db8:1::99 (static neighbour, dropped)                        sink 203.0.113.99 (static neighbour, dropped)

import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NAT64_ADDRESSES, createNat64Topology, waitForLine, type Namespace, type Nat64Topology } from '@nat64/netlab';

export const REPO = join(import.meta.dirname, '../../..');
export const GATEWAY_MAIN = join(REPO, 'apps/gateway/dist/main.js');
export const RECEIVER_MAIN = join(REPO, 'apps/receiver/dist/main.js');

export const ADDRESSES = {
  ...NAT64_ADDRESSES,
  clientSink: '2001:db8:1::99',
  serverSink: '203.0.113.99',
  /** 203.0.113.99 under the prefix. */
  serverSinkSix: '2001:db8:64::cb00:7163',
} as const;

export type BenchTopology = Nat64Topology;

/**
 * BENCH_NICE: the niceness of everything a benchmark runs (gateway, receiver, load), default 0. On a
 * machine other work shares, a negative value (as root) keeps that work from taking the measured
 * processes' CPU in the middle of a run.
 */
export const NICE = Number(process.env['BENCH_NICE'] ?? 0);
/**
 * The CPUs the benches pin the gateway and the load (floods, iperf3, the receiver) to. The load takes
 * the CPU that serves the disk's completion interrupts, where there is one: the softirq that ends the
 * receiver's writes and fsyncs runs on whatever that CPU is running, and on the gateway's core it
 * would be charged to the gateway (on this VM the virtio disk's only request queue interrupts CPU 1,
 * and its affinity cannot be changed). BENCH_GATEWAY_CPU=0 or 1 chooses instead.
 */
export const GATEWAY_CPU =
  process.env['BENCH_GATEWAY_CPU'] === '0' || process.env['BENCH_GATEWAY_CPU'] === '1'
    ? Number(process.env['BENCH_GATEWAY_CPU'])
    : diskInterruptCpu(readInterrupts()) === 1
      ? 0
      : 1;
export const LOAD_CPU = 1 - GATEWAY_CPU;
/** The server's discard port the floods send to. */
export const SINK_PORT = 9;
/** BENCH_RUNS: rounds of each measurement; BENCH_SECONDS: the length of one. */
export const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
export const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);

/** /proc/interrupts, or nothing where it cannot be read. */
function readInterrupts(): string {
  try {
    return readFileSync('/proc/interrupts', 'utf8');
  } catch {
    return '';
  }
}

/**
 * Of CPUs 0 and 1, the one that took the most interrupts of block devices' request queues (virtio-blk,
 * NVMe, AHCI, Xen) in `interrupts` (the text of /proc/interrupts), or undefined where none counted any.
 */
function diskInterruptCpu(interrupts: string): number | undefined {
  const totals = [0, 0];
  for (const line of interrupts.split('\n').slice(1)) {
    if (!/virtio\d+-req|nvme\d+q\d|ahci|blkif/.test(line)) continue;
    const counts = line.trim().split(/\s+/).slice(1, 3).map(Number);
    for (let cpu = 0; cpu < 2; cpu++) totals[cpu]! += Number.isFinite(counts[cpu]) ? counts[cpu]! : 0;
  }
  if (totals[0] === 0 && totals[1] === 0) return undefined;
  return totals[1]! > totals[0]! ? 1 : 0;
}

/** `command args` pinned to `cpu` at BENCH_NICE, as [command, args] for spawn and run. */
export function pinned(cpu: number, command: string, args: readonly string[]): [string, string[]] {
  return ['nice', ['-n', String(NICE), 'taskset', '-c', String(cpu), command, ...args]];
}

function mac(namespace: Namespace, device: string): string {
  return namespace.exec('cat', [`/sys/class/net/${device}/address`]).trim();
}

export function createBenchTopology(): BenchTopology {
  const t = createNat64Topology('bench');
  try {
    t.gateway.ip('neigh', 'add', ADDRESSES.serverSink, 'lladdr', mac(t.server, t.serverLink[1]), 'dev', t.serverLink[0], 'nud', 'permanent');
    t.gateway.ip('-6', 'neigh', 'add', ADDRESSES.clientSink, 'lladdr', mac(t.client, t.clientLink[0]), 'dev', t.clientLink[1], 'nud', 'permanent');
    return t;
  } catch (error) {
    t.lab.destroy();
    throw error;
  }
}

/** Packets an interface has received, read from sysfs inside its namespace. */
export function rxPackets(namespace: Namespace, device: string): number {
  return Number(namespace.exec('cat', [`/sys/class/net/${device}/statistics/rx_packets`]).trim());
}

/** A TUN interface's kernel-side counters: tx = handed to the reader, txDropped = reader too slow. */
export function tunKernelCounters(namespace: Namespace, device: string): { tx: number; txDropped: number; rx: number } {
  const read = (name: string) => Number(namespace.exec('cat', [`/sys/class/net/${device}/statistics/${name}`]).trim());
  return { tx: read('tx_packets'), txDropped: read('tx_dropped'), rx: read('rx_packets') };
}

/** CPU seconds (user + system) a process has used. */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

/**
 * How often the process's main thread (the event loop) has gone to sleep: its voluntary context switches.
 * Each is a wake-up to come, whatever woke it (the TUN device, a timer, a socket).
 */
export function mainThreadSleeps(pid: number): number {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
}

/**
 * CPU seconds the process's threads have run, from the scheduler's own accounting (nanoseconds, where
 * processCpuSeconds counts 10 ms ticks): for deltas over a fraction of a second. Threads that ended are
 * not counted, so it is for deltas over a time in which none ends.
 */
export function processRunSeconds(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns / 1e9;
}

/** Busy seconds of one CPU (everything but idle and iowait), softirq included. */
export function cpuBusySeconds(cpu: number): number {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `))!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  void idle;
  void iowait;
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

export interface BenchGateway {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Its control socket, for `nat64-gateway stats` and `hosts`. */
  readonly control: string;
  stop(): Promise<void>;
}

/** Compiles tools/bench/native/NAME.c with gcc into `dir`; returns the binary's path. */
export function compileNative(dir: string, name: string): string {
  const binary = join(dir, name);
  execFileSync('gcc', ['-O2', '-Wall', '-o', binary, join(REPO, 'tools/bench/native', `${name}.c`)]);
  return binary;
}

/**
 * Starts nat64-gateway (`main`, default this checkout's build) pinned to `cpu`, configured with
 * `settings` over the benchmarks' defaults (TUN "nat64", the lab's prefix and pool4 address, logs at
 * info, no periodic stats, `routes` on), its files in `dir` named after `key`. The gateway routes the
 * prefix and pool4 into its TUN itself before it logs "running": without `routes` it would check
 * them 5 s after start with one `ip route get` per pool4 address, a burst of process spawns (seconds
 * of its CPU with 126 addresses) in the middle of whatever the benchmark measures then.
 */
export async function startBenchGateway(
  t: BenchTopology,
  cpu: number,
  dir: string,
  key: string,
  settings: Record<string, unknown>,
  main = GATEWAY_MAIN,
): Promise<BenchGateway> {
  const configFile = join(dir, `gateway-${key}.json`);
  const control = join(dir, `gateway-${key}.sock`);
  // The "running" line this waits for is logged at info.
  const defaults = { tun: { name: 'nat64' }, prefix: ADDRESSES.prefix, pool4: [ADDRESSES.pool4], logLevel: 'info', statsInterval: '0s', routes: true };
  writeFileSync(configFile, JSON.stringify({ ...defaults, ...settings }));
  // BENCH_PROFILE=DIR: a V8 CPU profile of each gateway run, written to DIR when it stops.
  const profile = process.env['BENCH_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE']}`] : [];
  // BENCH_GATEWAY_NODE_FLAGS: more node/V8 flags for the gateway (say, --perf-basic-prof for perf record).
  const flags = (process.env['BENCH_GATEWAY_NODE_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');
  const child = t.gateway.spawn(...pinned(cpu, 'node', [...profile, ...flags, main, 'run', '--config', configFile, '--control', control]));
  await waitForLine(child.stderr!, /nat64-gateway running/, 60_000);
  child.stderr!.resume();
  return {
    child,
    pid: child.pid!,
    control,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Makes the server drop UDP to its own address and `port` at the routing lookup, after its interface
 * counted the datagrams: a blackhole rule ahead of the local table, so a flood costs it next to nothing
 * while everything else (the receiver's ports, TCP) is delivered as usual.
 */
export function dropAtServer(t: BenchTopology, port: number): void {
  t.server.ip('rule', 'add', 'pref', '1', 'to', ADDRESSES.server, 'ipproto', 'udp', 'dport', String(port), 'blackhole');
  t.server.ip('rule', 'del', 'pref', '0', 'table', 'local');
  t.server.ip('rule', 'add', 'pref', '10', 'table', 'local');
}

/** Receive Packet Steering of what `device` in `namespace` receives to the load's core. */
export function rpsToLoad(namespace: Namespace, device: string): void {
  namespace.exec('sh', ['-c', `echo ${(1 << LOAD_CPU).toString(16)} > /sys/class/net/${device}/queues/rx-0/rps_cpus`]);
}

/** Starts nat64-receiver (`main`, this checkout's by default) on the server (its default transport, both), pinned to `cpu`, its files in `dir`. */
export async function startBenchReceiver(
  t: BenchTopology,
  cpu: number,
  dir: string,
  extra: readonly string[] = [],
  main = RECEIVER_MAIN,
): Promise<ChildProcess> {
  const files = ['--db', join(dir, 'receiver.db'), '--conn-log', join(dir, 'connections.log'), '--control', join(dir, 'receiver.sock')];
  const child = t.server.spawn(...pinned(cpu, 'node', [main, 'run', '--listen', ADDRESSES.server, ...files, ...extra]));
  await waitForLine(child.stderr!, /receiver started/, 20_000);
  child.stderr!.resume();
  return child;
}
