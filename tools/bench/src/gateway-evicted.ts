// What the gateway's memory of evicted flows (handoff.evictedFlows, the client-first path of handoff
// v1 section 5.12) costs new flows, in process, through the real engine with handoff in mode full:
// new UDP sessions per second on one core, and the gateway's CPU per new session, with the memory
// empty and holding 1 and 10 million flows (capacity 10 million, 120 MB), plus how often it says
// "maybe" for a genuinely new flow (each such flow would wait one CLIENT-QUERY round trip toward an
// authoritative receiver). The host here has no receiver, so no flow waits: the figures are the
// lookup's cost alone. Not a test: node tools/bench/dist/gateway-evicted.js (BENCH_RUNS, default 3).

import { buildEngine } from '@nat64/gateway-engine';
import { Handoff, type EvictedFlows } from '@nat64/gateway-handoff';
import { silentLogger } from '@nat64/service';
import type { RxBatch } from '@nat64/tun';
import { CLIENT_PACKET_BYTES, writeClientPacket } from './client-packet.js';
import { engineSettings, handoffSettings } from './engine-settings.js';
import { printTable, rate, spread, writeResults, type Spread } from './report.js';

const BATCH = 64;
const SLOT = 1536;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const CAPACITY = 10_000_000;
const FILLS = [0, 1_000_000, 10_000_000];
/** New sessions per run: 2000 client addresses x 250 ports. */
const CLIENTS = 2000;
const PORTS = 250;
/** Extra lookups of never-held flows per run, timed alone. */
const LOOKUPS = 2_000_000;
const SERVER = (203 << 24) | (0 << 16) | (113 << 8) | 99;
const NAT = ((198 << 24) | (51 << 16) | (100 << 8) | 1) >>> 0;

/** Fills the memory with `count` random flows toward the server (clients in 2001:db8:2::/48). */
function fill(flows: EvictedFlows, count: number): number {
  const client = new Uint8Array(16);
  client.set([0x20, 0x01, 0x0d, 0xb8, 0, 2]);
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1_103_515_245) + 12345) >>> 0);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const r = next();
    client[12] = r >>> 24;
    client[13] = (r >>> 16) & 0xff;
    client[14] = (r >>> 8) & 0xff;
    client[15] = r & 0xff;
    flows.remember(17, client, 0, next() & 0xffff, SERVER, 53, NAT);
  }
  return (performance.now() - start) / count;
}

interface Run {
  lookupNs: number;
  sessionsPerSecond: number;
  usPerSession: number;
  maybes: number;
  lookups: number;
}

function run(entries: number, round: number): Run & { rememberNs: number; bytes: number } {
  const parts = buildEngine(engineSettings(20, { maxSessions: 2_000_000, maxSessionsPerClient: 1000 }), { maxInputSize: SLOT, inputBatchSize: BATCH });
  parts.engine.setSink({ writeBatch: (_b, _o, _l, count) => count });
  const handoff = new Handoff(parts, handoffSettings({ mode: 'full', transport: 'handoff', evictedFlows: CAPACITY }), { logger: silentLogger() });
  handoff.start(0);
  const rememberNs = entries > 0 ? fill(handoff.evictedFlows, entries) * 1e6 : 0;
  const rx: RxBatch = { buffer: Buffer.alloc(BATCH * SLOT), slotSize: SLOT, batchSize: BATCH, lengths: new Uint32Array(BATCH), vnet: null };
  // The same lookups the gateway makes, counted apart: how many new flows the memory thinks it knows.
  let maybes = 0;
  let n = 0;
  let handling = 0;
  for (let c = 0; c < CLIENTS; c++) {
    for (let p = 0; p < PORTS; p++) {
      const at = n * SLOT;
      writeClientPacket(rx.buffer, at, round, c, 10_000 + p); // 2001:db8:1:<round>::<c>: new clients every run
      rx.lengths[n] = CLIENT_PACKET_BYTES;
      if (handoff.evictedFlows.recall(17, rx.buffer, at + 8, 10_000 + p, SERVER, 9) >= 0) maybes++;
      if (++n === BATCH) {
        const t0 = performance.now();
        parts.engine.handleBatch(rx, n);
        handling += performance.now() - t0;
        n = 0;
      }
    }
  }
  const sessions = parts.table.sessionCount;
  // The lookup alone, over flows never held: what a new flow pays for the memory.
  const probe = new Uint8Array(16);
  probe.set([0x20, 0x01, 0x0d, 0xb8, 0, 3]);
  const t0 = performance.now();
  for (let i = 0; i < LOOKUPS; i++) {
    probe[13] = i >>> 16;
    probe[14] = (i >>> 8) & 0xff;
    probe[15] = i & 0xff;
    if (handoff.evictedFlows.recall(17, probe, 0, 40_000, SERVER, 9) >= 0) maybes++;
  }
  const lookupNs = ((performance.now() - t0) * 1e6) / LOOKUPS;
  handoff.stop();
  return {
    sessionsPerSecond: sessions / (handling / 1000),
    usPerSession: (handling * 1000) / sessions,
    maybes,
    lookups: CLIENTS * PORTS + LOOKUPS,
    lookupNs,
    rememberNs,
    bytes: handoff.evictedFlows.byteLength,
  };
}

function main(): void {
  const results: Record<
    string,
    { lookupNs: Spread; sessionsPerSecond: Spread; usPerSession: Spread; maybesPerMillion: number; rememberNs: number; bytes: number }
  > = {};
  const all: Record<number, Run[]> = {};
  let rememberNs: Record<number, number> = {};
  let bytes = 0;
  // Alternating order, so that drifting background load hits every fill alike.
  for (let round = 0; round < RUNS; round++) {
    for (const entries of round % 2 === 0 ? FILLS : [...FILLS].reverse()) {
      const r = run(entries, round + 1);
      all[entries] ??= [];
      all[entries].push(r);
      if (r.rememberNs > 0) rememberNs = { ...rememberNs, [entries]: r.rememberNs };
      bytes = r.bytes;
    }
  }
  for (const entries of FILLS) {
    const runs = all[entries]!;
    const maybes = runs.reduce((sum, r) => sum + r.maybes, 0);
    const lookups = runs.reduce((sum, r) => sum + r.lookups, 0);
    results[entries] = {
      lookupNs: spread(runs.map((r) => r.lookupNs)),
      sessionsPerSecond: spread(runs.map((r) => r.sessionsPerSecond)),
      usPerSession: spread(runs.map((r) => r.usPerSession)),
      maybesPerMillion: (maybes * 1e6) / lookups,
      rememberNs: rememberNs[entries] ?? 0,
      bytes,
    };
  }
  printTable(
    `nat64-gateway in process, handoff full, new UDP sessions through the engine (${CLIENTS * PORTS} per run, ${RUNS} runs), memory of evicted flows of capacity ${rate(CAPACITY)} (${(bytes / 1e6).toFixed(0)} MB), medians`,
    ['flows held', 'new sessions/s', 'CPU per new session', 'lookup of a new flow', 'maybes per million new flows', 'remember, ns per flow'],
    FILLS.map((entries) => {
      const r = results[entries]!;
      return [
        rate(entries),
        `${rate(r.sessionsPerSecond.median)}/s`,
        `${r.usPerSession.median.toFixed(2)} us`,
        `${r.lookupNs.median.toFixed(0)} ns`,
        r.maybesPerMillion.toFixed(2),
        r.rememberNs > 0 ? r.rememberNs.toFixed(0) : '-',
      ];
    }),
  );
  console.log(`written to ${writeResults('gateway-evicted', { runs: RUNS, capacity: CAPACITY, sessionsPerRun: CLIENTS * PORTS, results })}`);
}

main();
