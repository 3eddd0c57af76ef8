// Where the receiver's ACK latency goes at a set offered rate (issue 15 §2): the real receiver under
// handoff-sim as in `receiver`, with its metrics endpoint sampled during the run (entries waiting
// in front of the store, commits in flight, commits made) and a probe loaded into it
// (receiver-tail-probe.ts: event-loop delay, GC pauses of the main thread). Prints, per case, the
// ACK latency the simulator saw beside the share the receiver itself counted under 50 ms (from
// applying a message until its ACK is due), so the tail can be split into the queue in front of
// the writer, the main thread's stalls, and what lies outside the receiver. `--baseline DIR` runs
// another checkout's receiver in the same rounds, alternating.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import type { LoadReport } from '@nat64/handoff-sim';
import { groupBy, percentile, printColumns, rate, REPOSITORY_ROOT, spread, writeResults } from './report.js';
import { cpuMicros, startLoopbackReceiver } from './receiver-process.js';
import type { ProbeReport } from './receiver-tail-probe.js';

const RECEIVER = join(REPOSITORY_ROOT, 'apps/receiver/dist/main.js');
const PROBE = join(REPOSITORY_ROOT, 'tools/bench/dist/receiver-tail-probe.js');
const SAMPLE_MS = 100;

interface TailResult {
  code: string;
  rate: number;
  report: LoadReport;
  cpuMicrosPerEntry: number;
  commits: number;
  /** Share of the receiver's own ACK latencies (applying to ACK due) at or under 50 ms. */
  receiverUnder50Ms: number;
  queueEntries: { p50: number; p90: number; max: number };
  /** Samples with 0, 1, ... 4 commits in flight. */
  inFlight: number[];
  probe: ProbeReport;
}

function metric(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

async function runCase(code: string, receiver: string, offered: number, count: number): Promise<TailResult> {
  const metricsPort = 20_000 + Math.floor(Math.random() * 20_000);
  const probeDir = mkdtempSync(join(tmpdir(), 'nat64-bench-receiver-tail-'));
  const probeFile = join(probeDir, 'probe.json');
  const started = await startLoopbackReceiver(receiver, ['--metrics', `127.0.0.1:${metricsPort}`], {
    nodeArgs: ['--import', PROBE],
    env: { ...process.env, RECEIVER_TAIL_PROBE: probeFile },
  });
  try {
    const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const queue: number[] = [];
    const inFlight = [0, 0, 0, 0, 0];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const text = await scrape();
        queue.push(metric(text, 'nat64_receiver_commit_queue_entries'));
        inFlight[metric(text, 'nat64_receiver_commits_in_flight')]!++;
        await new Promise((wake) => setTimeout(wake, SAMPLE_MS));
      }
    })();
    const commitsBefore = metric(await scrape(), 'nat64_receiver_commits_total');
    const cpuBefore = cpuMicros(started.child.pid!);
    const report = await started.load(count, offered);
    const cpuMicrosPerEntry = (cpuMicros(started.child.pid!) - cpuBefore) / count;
    sampling = false;
    await sampler;
    const text = await scrape();
    const under50 = metric(text, 'nat64_receiver_ack_latency_seconds_bucket\\{le="0.05"\\}');
    const all = metric(text, 'nat64_receiver_ack_latency_seconds_count');
    await started.stop();
    const { median: p50, max } = spread(queue);
    return {
      code,
      rate: offered,
      report,
      cpuMicrosPerEntry,
      commits: metric(text, 'nat64_receiver_commits_total') - commitsBefore,
      receiverUnder50Ms: under50 / all,
      queueEntries: { p50, p90: percentile(queue, 0.9), max },
      inFlight,
      probe: JSON.parse(readFileSync(probeFile, 'utf8')) as ProbeReport,
    };
  } finally {
    await started.stop();
    rmSync(probeDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = new Command()
    .option('--rounds <count>', 'runs of each case', Number, 3)
    .option('--rate <entries>', 'offered entries per second, comma-separated; 0 is saturation', '100000')
    .option('--count <entries>', 'entries per run', Number, 300_000)
    .option('--baseline <dir>', 'another checkout, built, whose receiver runs beside this one (e.g. a worktree of main)')
    .parse()
    .opts<{ rounds: number; rate: string; count: number; baseline?: string }>();
  const codes: Array<[string, string]> = [['this checkout', RECEIVER]];
  if (options.baseline !== undefined) codes.unshift(['baseline', join(resolve(options.baseline), 'apps/receiver/dist/main.js')]);
  const results: TailResult[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const offered of options.rate.split(',').map(Number)) {
      for (const [code, receiver] of codes) results.push(await runCase(code, receiver, offered, options.count));
    }
  }
  const median = (group: TailResult[], value: (result: TailResult) => number, digits = 1) => spread(group.map(value)).median.toFixed(digits);
  const inFlightShares = (group: TailResult[]) =>
    group[0]!.inFlight.map((_, slot) => median(group, (result) => (result.inFlight[slot]! / result.inFlight.reduce((a, b) => a + b, 0)) * 100, 0));
  printColumns<TailResult[]>(
    `Receiver ACK latency, split (full durability, ${options.count} entries); medians of ${options.rounds} rounds`,
    [
      ['offered', (group) => (group[0]!.rate === 0 ? 'saturation' : `${rate(group[0]!.rate)}/s`)],
      ['receiver', (group) => group[0]!.code],
      ['stored/s', (group) => rate(spread(group.map((result) => result.report.entriesPerSecond)).median)],
      [
        'ACK p50 / p99 ms',
        (group) => `${median(group, (result) => result.report.ackLatencyMs.p50)} / ${median(group, (result) => result.report.ackLatencyMs.p99)}`,
      ],
      ['receiver ≤ 50 ms', (group) => `${median(group, (result) => result.receiverUnder50Ms * 100, 0)} %`],
      ['entries per commit', (group) => median(group, (result) => result.report.entries / result.commits, 0)],
      [
        'queue p50 / p90 / max',
        (group) =>
          `${median(group, (result) => result.queueEntries.p50, 0)} / ${median(group, (result) => result.queueEntries.p90, 0)} / ${median(group, (result) => result.queueEntries.max, 0)}`,
      ],
      ['in flight 0-4 (% of samples)', (group) => inFlightShares(group).join(' / ')],
      [
        'loop delay p99 / max ms',
        (group) => `${median(group, (result) => result.probe.eventLoopDelayMs.p99)} / ${median(group, (result) => result.probe.eventLoopDelayMs.max)}`,
      ],
      [
        'GC pauses total / max ms',
        (group) => `${median(group, (result) => result.probe.gcPausesMs.total, 0)} / ${median(group, (result) => result.probe.gcPausesMs.max)}`,
      ],
      ['CPU µs/entry', (group) => median(group, (result) => result.cpuMicrosPerEntry, 2)],
      ['retransmissions', (group) => median(group, (result) => result.report.retransmissions, 0)],
    ],
    groupBy(results, (result) => `${result.rate}/${result.code}`),
  );
  console.log(`\nwrote ${writeResults('receiver-tail', results)}`);
}

await main();
