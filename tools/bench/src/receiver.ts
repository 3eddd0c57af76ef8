// Receiver benchmark: durable CREATED entries per second through the simulator, with the real
// receiver (a separate process, SQLite file, connection log file) on loopback, and ACK latency
// at saturation and at fixed offered rates. Also the receiver's CPU time per entry, in all and per
// thread (main thread, the store's writer thread, all others: mostly V8's collector). A paced case
// runs in a fresh receiver, as it comes up (after its own warm-up, --warm-up, which compiles its hot
// paths before it listens), and in one warmed by WARM_ENTRIES from other gateways first (what a
// receiver that has been running sees: its tables and files hold entries). Each case runs
// `--rounds` times; `--baseline DIR` runs another checkout's built receiver in the same rounds,
// alternating with this one, so that before and after meet the same machine.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import type { LoadReport } from '@nat64/handoff-sim';
import { groupBy, printColumns, rate, REPOSITORY_ROOT, spread, writeResults } from './report.js';
import { cpuMicros, startLoopbackReceiver } from './receiver-process.js';

const RECEIVER = join(REPOSITORY_ROOT, 'apps/receiver/dist/main.js');
/** Entries a warmed case's receiver stores before the measured ones. */
const WARM_ENTRIES = 100_000;

interface Case {
  durability: 'full' | 'normal';
  rate: number;
  count: number;
  /** Whether the receiver takes WARM_ENTRIES first (BenchReceiver.warm). */
  warmed: boolean;
}

export interface ReceiverResult extends Case {
  code: string;
  report: LoadReport;
  receiverCpuMicrosPerEntry: number;
  /** CPU per entry of this process, handoff-sim's simulated gateways, which share the machine with the receiver. */
  generatorCpuMicrosPerEntry: number;
  /** CPU per entry of the main thread, the writer thread and the other threads together. */
  threadCpuMicrosPerEntry: { main: number; writer: number; others: number };
}

/** CPU µs of each thread of the process, by thread id (a thread that ends in between is left out). */
function threadCpuMicros(pid: number): Map<string, number> {
  const threads = new Map<string, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      threads.set(task, cpuMicros(pid, task));
    } catch {
      // Gone since the listing.
    }
  }
  return threads;
}

/**
 * Splits the CPU the threads used between two samples into the main thread, the writer thread
 * (Node names its threads alike, so: the busiest other thread, which the SQLite writer is at any
 * load worth measuring) and the rest.
 */
function splitThreads(pid: number, before: Map<string, number>, after: Map<string, number>, entries: number): ReceiverResult['threadCpuMicrosPerEntry'] {
  let main = 0;
  let writer = 0;
  let total = 0;
  for (const [task, micros] of after) {
    const used = micros - (before.get(task) ?? 0);
    total += used;
    if (task === String(pid)) main = used;
    else if (used > writer) writer = used;
  }
  return { main: main / entries, writer: writer / entries, others: (total - main - writer) / entries };
}

async function runCase(testCase: Case, code: string, receiver: string): Promise<ReceiverResult> {
  const started = await startLoopbackReceiver(receiver, ['--durability', testCase.durability]);
  try {
    if (testCase.warmed) await started.warm(WARM_ENTRIES);
    const pid = started.child.pid!;
    const cpuBefore = cpuMicros(pid);
    const threadsBefore = threadCpuMicros(pid);
    const generatorBefore = process.cpuUsage();
    const report = await started.load(testCase.count, testCase.rate);
    const generator = process.cpuUsage(generatorBefore);
    const receiverCpuMicrosPerEntry = (cpuMicros(pid) - cpuBefore) / testCase.count;
    const threadCpuMicrosPerEntry = splitThreads(pid, threadsBefore, threadCpuMicros(pid), testCase.count);
    const generatorCpuMicrosPerEntry = (generator.user + generator.system) / testCase.count;
    return { ...testCase, code, report, receiverCpuMicrosPerEntry, threadCpuMicrosPerEntry, generatorCpuMicrosPerEntry };
  } finally {
    await started.stop();
  }
}

export async function runReceiverBenchmark(options: { rounds: number; baseline: string | undefined }): Promise<ReceiverResult[]> {
  const cases: Case[] = [
    { durability: 'full', rate: 0, count: 300_000, warmed: false },
    { durability: 'normal', rate: 0, count: 300_000, warmed: false },
    { durability: 'full', rate: 100_000, count: 300_000, warmed: false },
    { durability: 'full', rate: 100_000, count: 300_000, warmed: true },
    { durability: 'full', rate: 50_000, count: 150_000, warmed: false },
  ];
  const codes: Array<[string, string]> = [['this checkout', RECEIVER]];
  if (options.baseline !== undefined) codes.unshift(['baseline', join(resolve(options.baseline), 'apps/receiver/dist/main.js')]);
  const results: ReceiverResult[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const testCase of cases) for (const [code, receiver] of codes) results.push(await runCase(testCase, code, receiver));
  }
  return results;
}

async function main(): Promise<void> {
  const options = new Command()
    .option('--rounds <count>', 'runs of each case', Number, 3)
    .option('--baseline <dir>', 'another checkout, built, whose receiver runs beside this one (e.g. a worktree of main)')
    .parse()
    .opts<{ rounds: number; baseline?: string }>();
  const results = await runReceiverBenchmark({ rounds: options.rounds, baseline: options.baseline });
  /** A column's cells: the median of `value` over a group's rounds, with their least and greatest. */
  const range =
    (value: (result: ReceiverResult) => number, format: (value: number) => string) =>
    (group: ReceiverResult[]): string => {
      const { min, median, max } = spread(group.map(value));
      return group.length === 1 ? format(median) : `${format(median)} (${format(min)}-${format(max)})`;
    };
  const fixed = (digits: number) => (value: number) => value.toFixed(digits);
  printColumns<ReceiverResult[]>(
    `Receiver: durable CREATED entries through handoff-sim (4 gateways, 5% port reuse, SQLite, log file); median (min-max) of ${options.rounds} rounds`,
    [
      ['durability', (group) => group[0]!.durability],
      ['offered', (group) => (group[0]!.rate === 0 ? 'saturation' : `${rate(group[0]!.rate)}/s`)],
      ['started', (group) => (group[0]!.warmed ? `warmed by ${rate(WARM_ENTRIES)}` : 'fresh')],
      ['receiver', (group) => group[0]!.code],
      ['stored+acked/s', range((result) => result.report.entriesPerSecond, rate)],
      ['ACK p50 ms', range((result) => result.report.ackLatencyMs.p50, fixed(1))],
      ['ACK p99 ms', range((result) => result.report.ackLatencyMs.p99, fixed(1))],
      ['receiver CPU µs/entry', range((result) => result.receiverCpuMicrosPerEntry, fixed(2))],
      [
        'main / writer / other threads µs',
        (group) =>
          (['main', 'writer', 'others'] as const)
            .map((thread) => spread(group.map((result) => result.threadCpuMicrosPerEntry[thread])).median.toFixed(2))
            .join(' / '),
      ],
      ['handoff-sim CPU µs/entry', range((result) => result.generatorCpuMicrosPerEntry, fixed(2))],
      ['retransmissions', range((result) => result.report.retransmissions, String)],
    ],
    groupBy(results, (result) => `${result.durability}/${result.rate}/${result.warmed}/${result.code}`),
  );
  console.log(`\nwrote ${writeResults('receiver', results)}`);
}

await main();
