// What handoff costs the gateway: the same loads through the real nat64-gateway on the namespace
// topology (gateway-lab.ts), with --handoff off, with --handoff full over handoff messages
// (--transport handoff) and with --handoff full over Geneve (--transport geneve: every packet toward
// the server encapsulated), nat64-receiver (--transport both) on the server, the gateway pinned to
// one core and the load on the other:
//   - forwarded packets per second of 64-byte UDP at saturation over established sessions
//     (native/gateway-flood.c), and the gateway's CPU per packet;
//   - new sessions per second at saturation, every datagram from a transport address not seen before
//     (native/gateway-sessions.c), and, at a steady rate both modes sustain, the gateway's CPU per
//     session, counted until the receiver has acknowledged the handoff of the last one.
// Each figure over several runs (min / median / max); a table with the relative cost is printed and
// the JSON written to bench-results/gateway-handoff.json. Not a test: run it as root with
// `node tools/bench/dist/gateway-handoff.js` (BENCH_RUNS, BENCH_SECONDS, BENCH_SESSION_RATE change the
// defaults; BENCH_MODES=off,full,geneve picks modes; BENCH_NAT_ADDRESSES the pool4 size (default 126); BENCH_VERBOSE=1 prints every session run;
// BENCH_PROFILE=DIR profiles the gateway).

import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor, waitForLine } from '@nat64/netlab';
import { ADDRESSES, GATEWAY_MAIN, compileNative, createBenchTopology, processCpuSeconds, rxPackets, startBenchGateway, startBenchReceiver, type BenchTopology } from './gateway-lab.js';
import { printTable, rate, spread, writeResults, type Spread } from './report.js';

const GATEWAY_CPU = 1;
const LOAD_CPU = 0;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const FLOWS = 16;
/** 64-byte packets on the input side: IPv6 40 + UDP 8 + 16. */
const PAYLOAD_6 = 16;
const SINK_PORT = 9;
/** Source addresses of the new-session load; each stays on one pool4 address (paired pooling, RFC 4787 REQ-2). */
const SOURCES = Array.from({ length: 32 }, (_, i) => `2001:db8:1::${(0x100 + i).toString(16)}`);
/** pool4: 198.51.100.1-126, so that no pool4 address serves more source addresses than its ports allow. */
const POOL4 = Array.from({ length: Math.min(126, Number(process.env['BENCH_NAT_ADDRESSES'] ?? 126)) }, (_, i) => `198.51.100.${i + 1}`);
const POOL4_ROUTE = '198.51.100.0/25';
/** Source ports each source address uses per session run: 32 x 2000 new sessions at most. */
const PORTS_PER_RUN = 2000;
/** The steady new-session rate at which CPU per session is compared (both modes sustain it here). */
const STEADY_PPS = Number(process.env['BENCH_SESSION_RATE'] ?? 20_000);

/** off: plain NAT64; full: handoff messages (transport handoff); geneve: handoff full over Geneve (transport geneve). */
type Mode = 'off' | 'full' | 'geneve';
const MODES: readonly Mode[] = (process.env['BENCH_MODES'] ?? 'off,full,geneve').split(',').filter((m): m is Mode => m === 'off' || m === 'full' || m === 'geneve');
/** Bytes of IPv6 payload for the large-packet flood: 1400-byte IPv6 packets (1380 IPv4, within the Geneve MTU). */
const PAYLOAD_6_LARGE = 1400 - 48;

/** Every run of one mode, as measured. */
interface ModeRuns {
  forwardedPps: number[];
  /** 1400-byte packets (IPv6 size) forwarded per second. */
  forwardedPpsLarge: number[];
  processNsPerPacket: number[];
  sessionsPerSecond: number[];
  /** Offered by the generator during the saturation runs (the receiver shares its core in mode full). */
  offeredSessionsPerSecond: number[];
  processUsPerSession: number[];
  /** Full only: entries acknowledged by the receiver per session created, and how long the queue took to drain. */
  handedOffPerSession: number[];
  drainMs: number[];
  queueOverflow: number;
}

function emptyRuns(): ModeRuns {
  return { forwardedPps: [], forwardedPpsLarge: [], processNsPerPacket: [], sessionsPerSecond: [], offeredSessionsPerSecond: [], processUsPerSession: [], handedOffPerSession: [], drainMs: [], queueOverflow: 0 };
}

/** Runs per gateway start: each mode is started twice, alternating, so drifting background load hits both alike. */
const RUNS_PER_START = Math.max(1, Math.ceil(RUNS / 2));

interface Counters {
  [name: string]: number;
}

function counters(control: string): Counters {
  const lines = (
    JSON.parse(execFileSync('node', [GATEWAY_MAIN, 'stats', '--control', control, '--json', '--all'], { encoding: 'utf8' })) as {
      counters: { group: string; name: string; value: number }[];
    }
  ).counters;
  return Object.fromEntries(lines.map((l) => [`${l.group}.${l.name}`, l.value]));
}

function peer(control: string): Record<string, unknown> | undefined {
  const answer = JSON.parse(execFileSync('node', [GATEWAY_MAIN, 'hosts', '--control', control, '--json'], { encoding: 'utf8' })) as { hosts: Record<string, unknown>[] };
  return answer.hosts.find((row) => row['host'] === ADDRESSES.server);
}

/** User and system CPU seconds of a process. */
function cpuSplit(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** Until the receiver has acknowledged everything the gateway queued toward the server. */
async function drained(control: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    'the handoff queue to drain',
    () => {
      const p = peer(control);
      return p !== undefined && p['state'] === 'authoritative' && p['inFlight'] === 0 && p['queued'] === 0;
    },
    timeoutMs,
  );
}

/** A UDP socket on the server that takes the floods and drops them (a one-byte receive buffer, never read). */
async function startSink(t: BenchTopology): Promise<ChildProcess> {
  const script = [
    'import socket, sys, time',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    's.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)',
    `s.bind(("${ADDRESSES.server}", ${SINK_PORT}))`,
    'print("sinking", flush=True)',
    'time.sleep(86400)',
  ].join('\n');
  const child = t.server.spawn('python3', ['-c', script]);
  await waitForLine(child.stdout!, /^sinking$/);
  return child;
}

async function floodRun(t: BenchTopology, pid: number, flooder: string, payload = PAYLOAD_6): Promise<{ pps: number; nsPerPacket: number }> {
  const rx0 = rxPackets(t.server, t.serverLink[1]);
  const cpu0 = processCpuSeconds(pid);
  const result = await t.client.run('taskset', ['-c', String(LOAD_CPU), flooder, ADDRESSES.serverSix, String(SINK_PORT), String(payload), String(SECONDS), String(FLOWS)], {
    timeoutMs: (SECONDS + 10) * 1000,
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const rx = rxPackets(t.server, t.serverLink[1]) - rx0;
  const cpu = processCpuSeconds(pid) - cpu0;
  const sent = JSON.parse(result.stdout) as { seconds: number };
  return { pps: rx / sent.seconds, nsPerPacket: (cpu * 1e9) / Math.max(1, rx) };
}

async function sessionRun(
  t: BenchTopology,
  pid: number,
  generator: string,
  control: string,
  mode: Mode,
  firstPort: number,
  pps: number,
): Promise<{ perSecond: number; offered: number; usPerSession: number; handedOffPerSession: number; drainMs: number }> {
  const before = counters(control);
  const cpu0 = processCpuSeconds(pid);
  const split0 = cpuSplit(pid);
  const args = [generator, ADDRESSES.serverSix, String(SINK_PORT), String(PAYLOAD_6), String(SECONDS), String(firstPort), String(firstPort + PORTS_PER_RUN - 1), String(pps), ...SOURCES];
  const result = await t.client.run('taskset', ['-c', String(LOAD_CPU), ...args], { timeoutMs: (SECONDS + 10) * 1000 });
  const sent = JSON.parse(result.stdout) as { sent: number; seconds: number };
  const stopped = performance.now();
  if (mode !== 'off') await drained(control);
  else await new Promise((resolve) => setTimeout(resolve, 300));
  const drainMs = performance.now() - stopped;
  const cpu = processCpuSeconds(pid) - cpu0;
  const after = counters(control);
  const created = after['table.sessionsCreated']! - before['table.sessionsCreated']!;
  const handedOffCounter = mode === 'full' ? 'agent.entriesHandedOff' : 'geneve.handedOffByGeneve';
  const handedOff = mode === 'off' ? 0 : after[handedOffCounter]! - before[handedOffCounter]!;
  if (process.env['BENCH_VERBOSE']) {
    const d = (name: string) => after[name]! - before[name]!;
    const split1 = cpuSplit(pid);
    console.log(`${mode} pps=${pps} created=${created} cpu=${cpu.toFixed(3)} user=${(split1.user - split0.user).toFixed(2)} sys=${(split1.system - split0.system).toFixed(2)} rxBatches=${d('tun.rxBatches')} rxPackets=${d('tun.rxPackets')} rxWakeups=${d('tun.rxWakeups')} txPackets=${d('tun.txPackets')} drain=${drainMs.toFixed(0)}`);
  }
  return { perSecond: created / sent.seconds, offered: sent.sent / sent.seconds, usPerSession: (cpu * 1e6) / Math.max(1, created), handedOffPerSession: handedOff / Math.max(1, created), drainMs };
}

/**
 * `pause(true)` stops the receiver (SIGSTOP) during the floods: over Geneve it would otherwise decapsulate
 * every flood packet on the load's core and slow the generator, so the figure would measure the
 * receiver. The floods are counted on the server's link, before any receiver.
 */
async function measure(t: BenchTopology, dir: string, flooder: string, generator: string, mode: Mode, into: ModeRuns, pause: (on: boolean) => void): Promise<void> {
  const settings = {
    pool4: POOL4,
    limits: { maxSessionsPerClient: 100_000 },
    handoff: mode === 'off' ? { mode, transport: 'handoff' } : { mode: 'full', transport: mode === 'geneve' ? 'geneve' : 'handoff' },
  };
  const gateway = await startBenchGateway(t, GATEWAY_CPU, dir, mode, settings, POOL4_ROUTE);
  const control = gateway.control;
  try {
    // Warm-up: the flows' sessions exist (and are handed off), the JIT has settled.
    await floodRun(t, gateway.pid, flooder);
    if (mode !== 'off') await drained(control);
    if (mode === 'geneve' && peer(control)?.['transport'] !== 'geneve') throw new Error('the server is not reached through Geneve');
    const floods: { pps: number; nsPerPacket: number }[] = [];
    pause(true);
    try {
      for (let i = 0; i < RUNS_PER_START; i++) floods.push(await floodRun(t, gateway.pid, flooder));
      for (let i = 0; i < RUNS_PER_START; i++) into.forwardedPpsLarge.push((await floodRun(t, gateway.pid, flooder, PAYLOAD_6_LARGE)).pps);
    } finally {
      pause(false);
    }
    // Port ranges: a short warm-up, then a fresh range per run so every datagram makes a new session.
    let port = 1024;
    await sessionRun(t, gateway.pid, generator, control, mode, port, STEADY_PPS);
    const saturated: Awaited<ReturnType<typeof sessionRun>>[] = [];
    const steady: Awaited<ReturnType<typeof sessionRun>>[] = [];
    for (let i = 0; i < RUNS_PER_START; i++) {
      port += PORTS_PER_RUN;
      saturated.push(await sessionRun(t, gateway.pid, generator, control, mode, port, 0));
    }
    for (let i = 0; i < RUNS_PER_START; i++) {
      port += PORTS_PER_RUN;
      steady.push(await sessionRun(t, gateway.pid, generator, control, mode, port, STEADY_PPS));
    }
    into.forwardedPps.push(...floods.map((f) => f.pps));
    into.processNsPerPacket.push(...floods.map((f) => f.nsPerPacket));
    into.sessionsPerSecond.push(...saturated.map((r) => r.perSecond));
    into.offeredSessionsPerSecond.push(...saturated.map((r) => r.offered));
    into.processUsPerSession.push(...steady.map((r) => r.usPerSession));
    into.handedOffPerSession.push(...steady.map((r) => r.handedOffPerSession));
    into.drainMs.push(...steady.map((r) => r.drainMs));
    into.queueOverflow += counters(control)['agent.queueOverflow'] ?? 0;
  } finally {
    await gateway.stop();
  }
}

/** Relative cost of `full` against `off`: positive when handoff is slower or uses more CPU. */
function cost(off: number, full: number, higherIsBetter: boolean): string {
  const change = higherIsBetter ? (off - full) / off : (full - off) / off;
  return `${(change * 100).toFixed(1)} %`;
}

async function main(): Promise<void> {
  const unavailable = labUnavailableReason(['gcc', 'taskset', 'python3']);
  if (unavailable !== undefined) {
    console.log(`gateway handoff benchmark skipped: ${unavailable}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'n64-gw-handoff-bench-'));
  const t = createBenchTopology();
  try {
    const flooder = compileNative(dir, 'gateway-flood');
    const generator = compileNative(dir, 'gateway-sessions');
    for (const source of SOURCES) t.client.ip('-6', 'address', 'add', `${source}/64`, 'dev', t.clientLink[0], 'nodad');
    t.server.ip('route', 'add', POOL4_ROUTE, 'via', ADDRESSES.gatewayFour);
    const sink = await startSink(t);
    const receiver = await startBenchReceiver(t, LOAD_CPU, dir);
    const runs: Record<Mode, ModeRuns> = { off: emptyRuns(), full: emptyRuns(), geneve: emptyRuns() };
    const pause = (on: boolean) => receiver.kill(on ? 'SIGSTOP' : 'SIGCONT');
    for (const mode of [...MODES, ...[...MODES].reverse()]) await measure(t, dir, flooder, generator, mode, runs[mode], pause);
    const summary = (r: ModeRuns) => ({
      forwardedPps: spread(r.forwardedPps),
      forwardedPpsLarge: spread(r.forwardedPpsLarge),
      processNsPerPacket: spread(r.processNsPerPacket),
      sessionsPerSecond: spread(r.sessionsPerSecond),
      offeredSessionsPerSecond: spread(r.offeredSessionsPerSecond),
      processUsPerSession: spread(r.processUsPerSession),
      handedOffPerSession: spread(r.handedOffPerSession),
      drainMs: spread(r.drainMs),
      queueOverflow: r.queueOverflow,
      runs: r,
    });
    const summaries = Object.fromEntries(MODES.map((mode) => [mode, summary(runs[mode])])) as Partial<Record<Mode, ReturnType<typeof summary>>>;
    receiver.kill('SIGTERM');
    sink.kill();

    const m = (s: Spread | undefined) => s?.median ?? NaN;
    const off = summaries.off;
    const full = summaries.full;
    const geneve = summaries.geneve;
    const cell = (s: Spread | undefined, unit: (x: number) => string) => (s === undefined ? '-' : unit(m(s)));
    const pps = (x: number) => `${rate(x)}/s`;
    const costs = (pick: (r: ReturnType<typeof summary>) => Spread, higherIsBetter: boolean) =>
      [full, geneve].map((r) => (off === undefined || r === undefined ? '-' : cost(m(pick(off)), m(pick(r)), higherIsBetter))).join(' / ');
    printTable(
      `nat64-gateway, handoff off against full over handoff messages and over Geneve (receiver --transport both on the server), ${2 * RUNS_PER_START} runs of ${SECONDS} s per figure and mode (two starts each, alternating), gateway on CPU ${GATEWAY_CPU}, load on CPU ${LOAD_CPU}, medians`,
      ['figure', 'off', 'full (messages)', 'full (geneve)', 'cost vs off: messages / geneve'],
      [
        ['64 B UDP IPv6->IPv4 forwarded, established flows', cell(off?.forwardedPps, pps), cell(full?.forwardedPps, pps), cell(geneve?.forwardedPps, pps), costs((r) => r.forwardedPps, true)],
        ['1400 B UDP IPv6->IPv4 forwarded, established flows', cell(off?.forwardedPpsLarge, pps), cell(full?.forwardedPpsLarge, pps), cell(geneve?.forwardedPpsLarge, pps), costs((r) => r.forwardedPpsLarge, true)],
        ['  gateway CPU per 64 B packet', cell(off?.processNsPerPacket, (x) => `${x.toFixed(0)} ns`), cell(full?.processNsPerPacket, (x) => `${x.toFixed(0)} ns`), cell(geneve?.processNsPerPacket, (x) => `${x.toFixed(0)} ns`), costs((r) => r.processNsPerPacket, false)],
        ['new UDP sessions per second, saturation', cell(off?.sessionsPerSecond, pps), cell(full?.sessionsPerSecond, pps), cell(geneve?.sessionsPerSecond, pps), costs((r) => r.sessionsPerSecond, true)],
        ['  offered by the generator (shares its core with the receiver)', cell(off?.offeredSessionsPerSecond, pps), cell(full?.offeredSessionsPerSecond, pps), cell(geneve?.offeredSessionsPerSecond, pps), ''],
        [`gateway CPU per new session at ${rate(STEADY_PPS)}/s`, cell(off?.processUsPerSession, (x) => `${x.toFixed(2)} us`), cell(full?.processUsPerSession, (x) => `${x.toFixed(2)} us`), cell(geneve?.processUsPerSession, (x) => `${x.toFixed(2)} us`), costs((r) => r.processUsPerSession, false)],
        ['  entries handed off per session', '-', cell(full?.handedOffPerSession, (x) => x.toFixed(3)), cell(geneve?.handedOffPerSession, (x) => x.toFixed(3)), ''],
        ['  drain after the load stopped', '-', cell(full?.drainMs, (x) => `${x.toFixed(0)} ms`), cell(geneve?.drainMs, (x) => `${x.toFixed(0)} ms`), ''],
      ],
    );
    const results = { runs: 2 * RUNS_PER_START, secondsPerRun: SECONDS, steadySessionRate: STEADY_PPS, cpus: { gateway: GATEWAY_CPU, load: LOAD_CPU }, ...summaries };
    console.log(`written to ${writeResults('gateway-handoff', results)}`);
  } finally {
    t.lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
