// What handoff costs a new session in process, without a kernel: the gateway's engine with handoff off
// and with handoff full over handoff messages, new UDP sessions in batches of 64 through
// Engine.handleBatch, and in full an in-process receiver that answers the HELLO and acknowledges every
// CREATED at once, its ACKs arriving in the next batch as IPv4 packets, as they do on a device. The
// output goes nowhere (a sink that counts). Each system is one engine for the whole process, as a
// gateway is, and its runs are chunks of new clients' sessions, alternating with the other systems'
// (its tables grow through the runs, in step with theirs). Two figures per new session: the main
// thread's time inside handleBatch, which is what the hand-off's own JavaScript costs, and the process's
// CPU, which adds what V8's helper threads (collector, compiler) did meanwhile on the other core.
// Not a test: node tools/bench/dist/handoff-engine.js (BENCH_RUNS, default 30, after BENCH_WARMUP_RUNS,
// default 4, not counted; BENCH_SESSIONS per run, default 40,000, in whole clients of 1000, and each engine keeps every session of
// its runs; BENCH_MODES=off,full; BENCH_BATCH_SESSIONS=N: batches of N sessions, each the last of its
// burst, as at a moderate rate on a device, where the default is bursts of full batches; BENCH_ARMED=1:
// the memory of evicted flows holds a flow, as on a busy gateway in mode full whose cache evicts, so
// that every new flow is offered to the client-miss handler before the table makes it;
// BENCH_BASELINE=DIR adds mode full with the engine and handoff built in checkout DIR, say a worktree
// of main, in the same process and rounds, for a before/after).

import { join } from 'node:path';
import * as ownEngine from '@nat64/gateway-engine';
import * as ownHandoff from '@nat64/gateway-handoff';
import { silentLogger } from '@nat64/service';
import type { RxBatch } from '@nat64/tun';
import { CLIENT_PACKET_BYTES, writeClientPacket } from './client-packet.js';
import { engineSettings, handoffSettings } from './engine-settings.js';
import { InstantReceiver } from './instant-receiver.js';
import { printTable, rate, spread, writeResults, type Spread } from './report.js';

const BATCH = 64;
const SLOT = 1536;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 30);
const WARMUP_RUNS = Number(process.env['BENCH_WARMUP_RUNS'] ?? 4);
/** Each client opens 1000 sessions from ports 10000 on; a run has BENCH_SESSIONS rounded up to whole clients. */
const SESSIONS_PER_CLIENT = 1000;
const CLIENTS_PER_RUN = Math.ceil(Number(process.env['BENCH_SESSIONS'] ?? 40_000) / SESSIONS_PER_CLIENT);
const SESSIONS_PER_RUN = CLIENTS_PER_RUN * SESSIONS_PER_CLIENT;
/** Batches in a burst: the last one is short (the queue read empty), as a device's would be. */
const BURST = 4;
/** BENCH_BATCH_SESSIONS=N: every batch holds N new sessions and reads the queue empty, as at a moderate rate (about 12 at 20 k/s on the device). */
const BATCH_SESSIONS = Number(process.env['BENCH_BATCH_SESSIONS'] ?? 0);
/** BENCH_ARMED=1: the memory of evicted flows is not empty (ClientMissHandler.armed). */
const ARMED = process.env['BENCH_ARMED'] === '1';
const SERVER = (203 << 24) | (0 << 16) | (113 << 8) | 99;
/** Every session of every run, with room. */
const MAX_SESSIONS = (RUNS + WARMUP_RUNS + 1) * SESSIONS_PER_RUN;
/** Each client's sessions share one pool4 address (RFC 6146 paired pooling), chosen by hash: four times the 64,512 UDP ports they need. */
const POOL4_ADDRESSES = 4 * Math.ceil(MAX_SESSIONS / 64_512);

interface Run {
  /** The main thread's time inside handleBatch per new session. */
  usPerSession: number;
  /** The process's CPU (every thread) over the same batches, per new session. */
  cpuUsPerSession: number;
  handedOff: number;
}

/** The two per-session figures of a run. */
type Figure = 'usPerSession' | 'cpuUsPerSession';

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

/** One system's engine, for the whole process: each run() makes the sessions of clients it has not seen. */
class System {
  private readonly parts: ReturnType<typeof ownEngine.buildEngine>;
  private readonly handoff: InstanceType<typeof ownHandoff.Handoff> | null;
  private readonly receiver = new InstantReceiver();
  private readonly rx: RxBatch = { buffer: Buffer.alloc(BATCH * SLOT), slotSize: SLOT, batchSize: BATCH, lengths: new Uint32Array(BATCH), vnet: null };
  private nextClient = 0;
  private batches = 0;

  constructor(build: Build, mode: 'off' | 'full') {
    const settings = engineSettings(POOL4_ADDRESSES, { maxSessions: MAX_SESSIONS, maxSessionsPerClient: 100_000 });
    this.parts = build.buildEngine(settings, { maxInputSize: SLOT, inputBatchSize: BATCH });
    this.parts.engine.setSink({ writeBatch: (b, o, l, c) => this.receiver.sink(b, o, l, c) });
    this.handoff = mode === 'off' ? null : new build.Handoff(this.parts, handoffSettings({ mode: 'full', transport: 'handoff' }), { logger: silentLogger() });
    this.handoff?.start(0);
    // A flow of a client no run uses, evicted earlier.
    if (ARMED) this.handoff?.evictedFlows.remember(17, new Uint8Array(16).fill(0xfe), 0, 1, SERVER >>> 0, 53, settings.pool4[0]!.address);
  }

  run(): Run {
    const { rx, receiver } = this;
    const engine = this.parts.engine;
    const sessionsBefore = this.parts.table.sessionCount;
    const handedOffBefore = this.handedOff();
    let n = 0;
    let sessionsInBatch = 0;
    let main = 0;
    let cpu = 0;
    const handle = (count: number) => {
      this.batches++;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      engine.handleBatch(rx, count);
      main += performance.now() - t0;
      const d = process.cpuUsage(c0);
      cpu += d.user + d.system;
      receiver.answer();
    };
    for (let c = 0; c < CLIENTS_PER_RUN; c++) {
      // 2001:db8:1:<client / 65536>::<client % 65536>, a client no run used before.
      const client = this.nextClient++;
      for (let p = 0; p < SESSIONS_PER_CLIENT; p++) {
        // ACKs queued by the receiver arrive first in the batch, as IPv4 packets.
        if (n === 0) n = this.takeAcks(BATCH / 2);
        writeClientPacket(rx.buffer, n * SLOT, 1 + (client >> 16), client & 0xffff, 10_000 + p);
        rx.lengths[n] = CLIENT_PACKET_BYTES;
        n++;
        sessionsInBatch++;
        // Every BURST-th batch is short: it read the queue empty, so the datapath goes idle after it.
        const limit = this.batches % BURST === BURST - 1 ? BATCH - 8 : BATCH;
        if (BATCH_SESSIONS > 0 ? sessionsInBatch >= BATCH_SESSIONS : n >= limit) {
          handle(n);
          n = 0;
          sessionsInBatch = 0;
        }
      }
    }
    if (n > 0) handle(n);
    // What is still unacknowledged: the last ACKs.
    while (receiver.pending > 0) handle(this.takeAcks(BATCH));
    const sessions = this.parts.table.sessionCount - sessionsBefore;
    if (sessions !== SESSIONS_PER_RUN) throw new Error(`a run made ${sessions} sessions of ${SESSIONS_PER_RUN}`);
    return { usPerSession: (main * 1000) / sessions, cpuUsPerSession: cpu / sessions, handedOff: (this.handedOff() - handedOffBefore) / sessions };
  }

  /** Puts up to `limit` of the receiver's queued ACKs at the start of the batch; returns how many. */
  private takeAcks(limit: number): number {
    const { rx, receiver } = this;
    let n = 0;
    while (receiver.pending > 0 && n < limit) {
      rx.lengths[n] = receiver.take(rx.buffer, n * SLOT, SERVER);
      n++;
    }
    return n;
  }

  private handedOff(): number {
    return this.handoff === null ? 0 : this.handoff.agent.counters.get('entriesHandedOff');
  }
}

async function main(): Promise<void> {
  const own: Build = { buildEngine: ownEngine.buildEngine, Handoff: ownHandoff.Handoff };
  // BENCH_MODES=full (or off) runs one mode alone, e.g. to profile it.
  const modes = (process.env['BENCH_MODES'] ?? 'off,full').split(',').filter((m) => m === 'off' || m === 'full');
  const systems: { key: string; build: Build; mode: 'off' | 'full' }[] = modes.map((mode) => ({ key: mode, build: own, mode: mode as 'off' | 'full' }));
  if (BASELINE !== undefined) systems.push({ key: 'full, baseline', build: await baselineBuild(BASELINE), mode: 'full' });
  const engines = new Map(systems.map((system) => [system.key, new System(system.build, system.mode)]));
  const all = new Map(systems.map((system) => [system.key, [] as Run[]]));
  for (let round = 0; round < WARMUP_RUNS + RUNS; round++) {
    for (const system of round % 2 === 0 ? systems : [...systems].reverse()) {
      const run = engines.get(system.key)!.run();
      if (round >= WARMUP_RUNS) all.get(system.key)!.push(run);
    }
  }
  const us = (runs: Run[], figure: Figure = 'usPerSession') => spread(runs.map((r) => r[figure]));
  const off = all.has('off') ? us(all.get('off')!) : undefined;
  const offCpu = all.has('off') ? us(all.get('off')!, 'cpuUsPerSession') : undefined;
  const cell = (key: string, figure: Figure) => {
    const s = us(all.get(key)!, figure);
    return `${s.median.toFixed(3)} us (${s.min.toFixed(3)}-${s.max.toFixed(3)})`;
  };
  const more = (key: string, base: Spread | undefined, figure: Figure) => {
    if (base === undefined || key === 'off') return '-';
    const extra = us(all.get(key)!, figure).median - base.median;
    const sign = extra < 0 ? '' : '+';
    return `${sign}${extra.toFixed(3)} us (${sign}${((extra / base.median) * 100).toFixed(0)} %)`;
  };
  printTable(
    `nat64-gateway in process, new UDP sessions through the engine, one engine per system (${RUNS} runs of ${rate(SESSIONS_PER_RUN)} per system after ${WARMUP_RUNS} not counted, alternating), handoff full acknowledged at once by an in-process receiver, medians (min-max)`,
    ['system', 'main thread per new session', 'more than off', 'process CPU per new session', 'more than off', 'entries handed off per session'],
    systems.map((system) => [
      system.key,
      cell(system.key, 'usPerSession'),
      more(system.key, off, 'usPerSession'),
      cell(system.key, 'cpuUsPerSession'),
      more(system.key, offCpu, 'cpuUsPerSession'),
      system.mode === 'off' ? '-' : spread(all.get(system.key)!.map((r) => r.handedOff)).median.toFixed(3),
    ]),
  );
  const results = Object.fromEntries(
    systems.map((system) => {
      const runs = all.get(system.key)!;
      return [system.key, { usPerSession: us(runs), cpuUsPerSession: us(runs, 'cpuUsPerSession'), runs }];
    }),
  );
  console.log(
    `written to ${writeResults('handoff-engine', { runs: RUNS, warmupRuns: WARMUP_RUNS, sessionsPerRun: SESSIONS_PER_RUN, baseline: BASELINE ?? null, ...results })}`,
  );
}

await main();
