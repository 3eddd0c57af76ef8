// What handoff costs a new session in process, without a kernel: the gateway's engine with handoff off
// and with handoff full over handoff messages, new UDP sessions in batches of 64 through
// Engine.handleBatch, and in full an in-process receiver that answers the HELLO and acknowledges every
// CREATED at once, its ACKs arriving in the next batch as IPv4 packets, as they do on a device. The
// output goes nowhere (a sink that counts). Both modes alternate in one process, so the difference is
// the hand-off's own JavaScript: the entries, the datagrams, the ACKs and the timer work at batch ends.
// Not a test: node tools/bench/dist/handoff-engine.js (BENCH_RUNS, default 5; BENCH_SESSIONS per run;
// BENCH_MODES=off,full; BENCH_BATCH_SESSIONS=N: batches of N sessions, each the last of its burst, as
// at a moderate rate on a device, where the default is bursts of full batches; BENCH_ARMED=1: the memory
// of evicted flows holds a flow, as on a busy gateway in mode full whose cache evicts, so that every new
// flow is offered to the client-miss handler before the table makes it; BENCH_BASELINE=DIR adds
// mode full with the engine and handoff built in checkout DIR, say a worktree of main, in the same
// process and rounds, for a before/after).

import { join } from 'node:path';
import * as ownEngine from '@nat64/gateway-engine';
import * as ownHandoff from '@nat64/gateway-handoff';
import { silentLogger } from '@nat64/service';
import type { RxBatch } from '@nat64/tun';
import { CLIENT_PACKET_BYTES, writeClientPacket } from './client-packet.js';
import { engineSettings, handoffSettings } from './engine-settings.js';
import { InstantReceiver } from './instant-receiver.js';
import { printTable, rate, spread, writeResults } from './report.js';

const BATCH = 64;
const SLOT = 1536;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const SESSIONS = Number(process.env['BENCH_SESSIONS'] ?? 400_000);
/** Batches in a burst: the last one is short (the queue read empty), as a device's would be. */
const BURST = 4;
/** BENCH_BATCH_SESSIONS=N: every batch holds N new sessions and reads the queue empty, as at a moderate rate (about 12 at 20 k/s on the device). */
const BATCH_SESSIONS = Number(process.env['BENCH_BATCH_SESSIONS'] ?? 0);
/** BENCH_ARMED=1: the memory of evicted flows is not empty (ClientMissHandler.armed). */
const ARMED = process.env['BENCH_ARMED'] === '1';
const SERVER = (203 << 24) | (0 << 16) | (113 << 8) | 99;

interface Run {
  usPerSession: number;
  handedOff: number;
}

/** The engine and handoff of one build: this checkout's, or the baseline's. */
interface Build {
  buildEngine: typeof ownEngine.buildEngine;
  Handoff: typeof ownHandoff.Handoff;
}

const BASELINE = process.env['BENCH_BASELINE'];

async function baselineBuild(dir: string): Promise<Build> {
  const engine = (await import(join(dir, 'packages/gateway-engine/dist/index.js'))) as typeof ownEngine;
  const handoff = (await import(join(dir, 'packages/gateway-handoff/dist/index.js'))) as typeof ownHandoff;
  return { buildEngine: engine.buildEngine, Handoff: handoff.Handoff };
}

function run(build: Build, mode: 'off' | 'full', round: number): Run {
  const { buildEngine, Handoff } = build;
  const parts = buildEngine(engineSettings(16, { maxSessions: 4_000_000, maxSessionsPerClient: 100_000 }), { maxInputSize: SLOT, inputBatchSize: BATCH });
  const receiver = new InstantReceiver();
  parts.engine.setSink({ writeBatch: (b, o, l, c) => receiver.sink(b, o, l, c) });
  const handoff = mode === 'off' ? null : new Handoff(parts, handoffSettings({ mode: 'full', transport: 'handoff' }), { logger: silentLogger() });
  handoff?.start(0);
  // A flow of a client no run uses, evicted earlier.
  if (ARMED) handoff?.evictedFlows.remember(17, new Uint8Array(16).fill(0xfe), 0, 1, SERVER >>> 0, 53, engineSettings(1).pool4[0]!.address);
  const rx: RxBatch = { buffer: Buffer.alloc(BATCH * SLOT), slotSize: SLOT, batchSize: BATCH, lengths: new Uint32Array(BATCH), vnet: null };
  let n = 0;
  let sessionsInBatch = 0;
  let batches = 0;
  let cpu = 0;
  const clients = Math.ceil(SESSIONS / 1000);
  const handle = (count: number) => {
    batches++;
    const t0 = process.cpuUsage();
    parts.engine.handleBatch(rx, count);
    const d = process.cpuUsage(t0);
    cpu += d.user + d.system;
    receiver.answer();
  };
  for (let c = 0; c < clients; c++) {
    for (let p = 0; p < 1000; p++) {
      // ACKs queued by the receiver arrive first in the batch, as IPv4 packets.
      if (n === 0) {
        while (receiver.pending > 0 && n < BATCH / 2) {
          rx.lengths[n] = receiver.take(rx.buffer, n * SLOT, SERVER);
          n++;
        }
      }
      const at = n * SLOT;
      writeClientPacket(rx.buffer, at, round, c, 10_000 + p); // 2001:db8:1:<round>::<c>: new clients every run
      rx.lengths[n] = CLIENT_PACKET_BYTES;
      n++;
      sessionsInBatch++;
      // Every BURST-th batch is short: it read the queue empty, so the datapath goes idle after it.
      const limit = batches % BURST === BURST - 1 ? BATCH - 8 : BATCH;
      if (BATCH_SESSIONS > 0 ? sessionsInBatch >= BATCH_SESSIONS : n >= limit) {
        handle(n);
        n = 0;
        sessionsInBatch = 0;
      }
    }
  }
  if (n > 0) handle(n);
  // What is still unacknowledged: the last ACKs.
  while (receiver.pending > 0) {
    n = 0;
    while (receiver.pending > 0 && n < BATCH) {
      rx.lengths[n] = receiver.take(rx.buffer, n * SLOT, SERVER);
      n++;
    }
    handle(n);
  }
  const sessions = parts.table.sessionCount;
  const handedOff = handoff === null ? 0 : handoff.agent.counters.get('entriesHandedOff');
  handoff?.stop();
  return { usPerSession: cpu / sessions, handedOff: handedOff / sessions };
}

async function main(): Promise<void> {
  const own: Build = { buildEngine: ownEngine.buildEngine, Handoff: ownHandoff.Handoff };
  // BENCH_MODES=full (or off) runs one mode alone, e.g. to profile it.
  const modes = (process.env['BENCH_MODES'] ?? 'off,full').split(',').filter((m) => m === 'off' || m === 'full');
  const systems: { key: string; build: Build; mode: 'off' | 'full' }[] = modes.map((mode) => ({ key: mode, build: own, mode: mode as 'off' | 'full' }));
  if (BASELINE !== undefined) systems.push({ key: 'full, baseline', build: await baselineBuild(BASELINE), mode: 'full' });
  const all = new Map(systems.map((system) => [system.key, [] as Run[]]));
  for (let round = 0; round < RUNS; round++) {
    for (const system of round % 2 === 0 ? systems : [...systems].reverse()) all.get(system.key)!.push(run(system.build, system.mode, (round % 200) + 1));
  }
  const us = (runs: Run[]) => spread(runs.map((r) => r.usPerSession));
  const off = all.has('off') ? us(all.get('off')!) : undefined;
  const cell = (key: string) => {
    const s = us(all.get(key)!);
    return `${s.median.toFixed(3)} us (${s.min.toFixed(3)}-${s.max.toFixed(3)})`;
  };
  const more = (key: string) => {
    if (off === undefined || key === 'off') return '-';
    const m = us(all.get(key)!).median;
    return `+${(m - off.median).toFixed(3)} us (${(((m - off.median) / off.median) * 100).toFixed(0)} %)`;
  };
  printTable(
    `nat64-gateway in process, new UDP sessions through the engine (${rate(SESSIONS)} per run, ${RUNS} runs per system, alternating), handoff full acknowledged at once by an in-process receiver, medians (min-max)`,
    ['system', 'CPU per new session', 'more than off', 'entries handed off per session'],
    systems.map((system) => [
      system.key,
      cell(system.key),
      more(system.key),
      system.mode === 'off' ? '-' : spread(all.get(system.key)!.map((r) => r.handedOff)).median.toFixed(3),
    ]),
  );
  const results = Object.fromEntries(systems.map((system) => [system.key, { usPerSession: us(all.get(system.key)!), runs: all.get(system.key) }]));
  console.log(`written to ${writeResults('handoff-engine', { runs: RUNS, sessionsPerRun: SESSIONS, baseline: BASELINE ?? null, ...results })}`);
}

await main();
