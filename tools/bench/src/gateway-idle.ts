// What nat64-gateway costs with nothing to do, transport by transport: the real gateway on the
// namespace topology (gateway-lab.ts), started with handoff off and with handoff full over each
// handoff.transport, no traffic at all. Figures, over IDLE_SECONDS after the start has settled: the
// gateway's CPU (every thread, from the scheduler's accounting) and how often its event loop woke
// (the main thread's sleeps), which a timer with nothing to do costs. Not a test: run as root,
// node tools/bench/dist/gateway-idle.js (BENCH_RUNS starts per system, default 3; BENCH_BASELINE=DIR
// alternates every system with the gateway built in checkout DIR, say a worktree of main).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason } from '@nat64/netlab';
import {
  GATEWAY_CPU,
  GATEWAY_MAIN,
  RUNS,
  createBenchTopology,
  mainThreadSleeps,
  processRunSeconds,
  startBenchGateway,
  type BenchTopology,
} from './gateway-lab.js';
import { printTable, spread, spreadCell, writeResults } from './report.js';

const IDLE_SECONDS = 10;
/** After "running": the start's own work (JIT, first HELLO timers) is over by then. */
const SETTLE_MS = 3000;
const BASELINE = process.env['BENCH_BASELINE'];
const TRANSPORTS = ['off', 'handoff', 'geneve', 'bypass', 'auto'] as const;

interface System {
  key: string;
  transport: (typeof TRANSPORTS)[number];
  main: string;
}

interface Idle {
  cpuMsPerSecond: number[];
  sleepsPerSecond: number[];
}

function systems(): System[] {
  const builds = [
    { suffix: '', main: GATEWAY_MAIN },
    ...(BASELINE === undefined ? [] : [{ suffix: ', baseline', main: join(BASELINE, 'apps/gateway/dist/main.js') }]),
  ];
  return TRANSPORTS.flatMap((transport) => builds.map((build) => ({ key: `${transport}${build.suffix}`, transport, main: build.main })));
}

async function measure(t: BenchTopology, dir: string, system: System, start: number, into: Idle): Promise<void> {
  const handoff =
    system.transport === 'off' ? { mode: 'off' } : { mode: 'full', transport: system.transport, bypass: { secretFile: join(dir, `bypass-secret-${start}`) } };
  const gateway = await startBenchGateway(
    t,
    GATEWAY_CPU,
    dir,
    `idle-${system.key.replace(/[^a-z]+/g, '-')}-${start}`,
    { logLevel: 'info', handoff },
    system.main,
  );
  try {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const cpu0 = processRunSeconds(gateway.pid);
    const sleeps0 = mainThreadSleeps(gateway.pid);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    into.cpuMsPerSecond.push(((processRunSeconds(gateway.pid) - cpu0) * 1000) / IDLE_SECONDS);
    into.sleepsPerSecond.push((mainThreadSleeps(gateway.pid) - sleeps0) / IDLE_SECONDS);
  } finally {
    await gateway.stop();
  }
}

async function main(): Promise<void> {
  const unavailable = labUnavailableReason(['taskset']);
  if (unavailable !== undefined) {
    console.log(`gateway-idle benchmark skipped: ${unavailable}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'n64-idle-'));
  const t = createBenchTopology();
  const all = systems();
  const results = new Map(all.map((system) => [system.key, { cpuMsPerSecond: [], sleepsPerSecond: [] } as Idle]));
  try {
    // Alternating, so that drifting background load hits every system alike.
    for (let start = 0; start < RUNS; start++) {
      for (const system of start % 2 === 0 ? all : [...all].reverse()) await measure(t, dir, system, start, results.get(system.key)!);
    }
  } finally {
    t.lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const cell = (values: number[], digits: number) => spreadCell(spread(values), (x) => x.toFixed(digits));
  printTable(
    `nat64-gateway with nothing to forward, ${IDLE_SECONDS} s after a ${SETTLE_MS / 1000} s settle, ${RUNS} starts per system (alternating), gateway on CPU ${GATEWAY_CPU}, medians (min-max)`,
    ['system (handoff.transport, mode full)', 'CPU, ms per second', 'event-loop wake-ups per second'],
    all.map((system) => [system.key, cell(results.get(system.key)!.cpuMsPerSecond, 2), cell(results.get(system.key)!.sleepsPerSecond, 1)]),
  );
  const summary = Object.fromEntries(
    [...results].map(([key, idle]) => [key, { cpuMsPerSecond: spread(idle.cpuMsPerSecond), sleepsPerSecond: spread(idle.sleepsPerSecond) }]),
  );
  console.log(`written to ${writeResults('gateway-idle', { runs: RUNS, seconds: IDLE_SECONDS, baseline: BASELINE ?? null, results: summary })}`);
}

await main();
