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
// The machine has two cores, so the receiver shares the load's core: at saturation it takes CPU from
// the session generator, and handoff full is offered fewer sessions than off. So every session run
// reports what was offered beside what was made, and the gateway's own CPU per made session (until
// everything is acknowledged, which the benchmark learns from the receiver so that its waiting costs
// the gateway nothing); "sessions per gateway CPU-second" is the rate the gateway's core would
// make if it were offered enough, the figure to compare between modes at saturation.
// Each figure over several runs (min / median / max); a table with the relative cost is printed and
// the JSON written to bench-results/gateway-handoff.json. Not a test: run it as root with
// `node tools/bench/dist/gateway-handoff.js`. Environment: BENCH_RUNS, BENCH_SECONDS, BENCH_SESSION_RATE,
// BENCH_WARMUP_RUNS change the defaults; BENCH_STARTS (even, default 2) the gateway starts per system; BENCH_MODES=off,full,geneve picks modes; BENCH_PARTS=floods,sessions,idle picks the
// loads (idle: the gateway's CPU over 10 s without traffic, its own timers); BENCH_BASELINE=DIR runs every mode a second time with the gateway and the receiver built in checkout DIR (say, a
// worktree of main), interleaved, for a before/after in one run; BENCH_NAT_ADDRESSES the pool4 size
// (default 126); BENCH_NICE the niceness of gateway, receiver and load (gateway-lab.ts); BENCH_VERBOSE=1
// prints every session run; BENCH_PROFILE=DIR profiles the gateway.
// The far ends' receive is steered to the load's core (Receive Packet Steering on the server's and
// the client's links, as gateway-datapath does): a veth delivers what the gateway writes into its TUN
// device on the CPU that wrote it, inside the gateway's write(2), so without it the server side's
// routing, socket queueing and wake-ups, of the flood's and the sessions' datagrams in every mode and
// of the handoff datagrams to the receiver in mode full, are charged to the gateway's system time.
// On a real network that work is the server's. Every mode alike; BENCH_SINK_RPS=0 turns it off (as in gateway-datapath).
// BENCH_ACK_DELAY (a duration, e.g. 0 or 10ms) is this checkout's receiver's --ack-delay (default: its own, 4ms).
// BENCH_RECEIVER=ack runs ack-receiver.ts (acknowledges, stores nothing) in place of nat64-receiver, each
// build its own (BENCH_BASELINE: the baseline checkout's, so a change of the ACK policy compares too).
// BENCH_PERF=DIR records the gateway with `perf record -g` and counts its system calls and context switches
// with `perf stat` during every session run at the steady rate (warm-up included), one file pair per run;
// BENCH_GATEWAY_NODE_FLAGS=--perf-basic-prof (gateway-lab.ts) names its JavaScript frames.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor, waitForLine } from '@nat64/netlab';
import { callControl } from '@nat64/service';
import {
  ADDRESSES,
  GATEWAY_CPU,
  GATEWAY_MAIN,
  LOAD_CPU,
  NICE,
  RUNS,
  SECONDS,
  RECEIVER_MAIN,
  SINK_PORT,
  compileNative,
  createBenchTopology,
  mainThreadSleeps,
  pinned,
  processCpuSeconds,
  rpsToLoad,
  rxPackets,
  startBenchGateway,
  startBenchReceiver,
  type BenchTopology,
} from './gateway-lab.js';
import { printTable, rate, spread, writeResults, type Spread } from './report.js';

const FLOWS = 16;
/** 64-byte packets on the input side: IPv6 40 + UDP 8 + 16. */
const PAYLOAD_6 = 16;
/** Source addresses of the new-session load; each stays on one pool4 address (paired pooling, RFC 4787 REQ-2). */
const SOURCES = Array.from({ length: 32 }, (_, i) => `2001:db8:1::${(0x100 + i).toString(16)}`);
/** pool4: 198.51.100.1-126, so that no pool4 address serves more source addresses than its ports allow. */
const POOL4 = Array.from({ length: Math.min(126, Number(process.env['BENCH_NAT_ADDRESSES'] ?? 126)) }, (_, i) => `198.51.100.${i + 1}`);
const POOL4_ROUTE = '198.51.100.0/25';
/** Source ports each source address uses per session run: 32 x 2000 new sessions at most. */
const PORTS_PER_RUN = 2000;
/** The steady new-session rate at which CPU per session is compared (both modes sustain it here). */
const STEADY_PPS = Number(process.env['BENCH_SESSION_RATE'] ?? 20_000);
/**
 * Session runs at the steady rate before any is measured (BENCH_WARMUP_RUNS). Handoff's ACK path and
 * timers run once per tens of sessions, so V8 optimizes them only after tens of thousands of sessions:
 * with one warm-up run the first measured runs of mode full still paid for that compilation.
 */
const WARMUP_SESSION_RUNS = Math.max(1, Number(process.env['BENCH_WARMUP_RUNS'] ?? 3));
const PARTS = new Set((process.env['BENCH_PARTS'] ?? 'floods,sessions,idle').split(','));
const IDLE_SECONDS = 10;
const BASELINE = process.env['BENCH_BASELINE'];
const SINK_RPS = process.env['BENCH_SINK_RPS'] !== '0';
const ACK_DELAY = process.env['BENCH_ACK_DELAY'];
/**
 * BENCH_RECEIVER=ack: ack-receiver.ts instead of nat64-receiver, each build its own. It acknowledges as
 * nat64-receiver does and stores nothing, so at saturation it leaves the generator its core and both
 * modes are offered alike; what the gateway does is the same, its receiver being another machine's.
 */
const ACK_RECEIVER = process.env['BENCH_RECEIVER'] === 'ack';
const ACK_RECEIVER_MAIN = join(import.meta.dirname, 'ack-receiver.js');

/** off: plain NAT64; full: handoff messages (transport handoff); geneve: handoff full over Geneve (transport geneve). */
type Mode = 'off' | 'full' | 'geneve';
const MODES: readonly Mode[] = (process.env['BENCH_MODES'] ?? 'off,full,geneve')
  .split(',')
  .filter((m): m is Mode => m === 'off' || m === 'full' || m === 'geneve');
/** Bytes of IPv6 payload for the large-packet flood: 1400-byte IPv6 packets (1380 IPv4, within the Geneve MTU). */
const PAYLOAD_6_LARGE = 1400 - 48;

/** A mode run by one build of the gateway: this checkout's, or the baseline's (BENCH_BASELINE). */
interface System {
  key: string;
  mode: Mode;
  label: string;
  main: string;
  /** The nat64-receiver build this system runs against (with BENCH_RECEIVER=ack, that build's ack-receiver). */
  receiverMain: string;
}

const SYSTEMS: readonly System[] = MODES.flatMap((mode) => {
  const label = mode === 'full' ? 'full (messages)' : mode === 'geneve' ? 'full (geneve)' : 'off';
  const own: System = { key: mode, mode, label, main: GATEWAY_MAIN, receiverMain: ACK_RECEIVER ? ACK_RECEIVER_MAIN : RECEIVER_MAIN };
  if (BASELINE === undefined) return [own];
  const baseline: System = {
    key: `${mode}-baseline`,
    mode,
    label: `${label}, baseline`,
    main: join(BASELINE, 'apps/gateway/dist/main.js'),
    receiverMain: join(BASELINE, ACK_RECEIVER ? 'tools/bench/dist/ack-receiver.js' : 'apps/receiver/dist/main.js'),
  };
  return [baseline, own];
});

const PERF_DIR = process.env['BENCH_PERF'];
let perfRun = 0;
/** BENCH_PERF=DIR: perf record -g and perf stat of the gateway during every steady session run; returns a stop. */
function startPerf(pid: number, key: string): () => Promise<void> {
  const n = perfRun++;
  const record = spawn('perf', ['record', '-q', '-g', '-F', '2000', '-p', String(pid), '-o', join(PERF_DIR!, `${key}-${n}.data`)], { stdio: 'ignore' });
  const stat = spawn(
    'perf',
    ['stat', '-x', ',', '-o', join(PERF_DIR!, `${key}-${n}.stat`), '-e', 'raw_syscalls:sys_enter,context-switches,task-clock', '-p', String(pid)],
    { stdio: 'ignore' },
  );
  return async () => {
    const done = Promise.all([record, stat].map((c) => new Promise((resolve) => c.once('exit', resolve))));
    record.kill('SIGINT');
    stat.kill('SIGINT');
    await done;
  };
}

/** One session run, as measured. */
interface SessionRun {
  offeredPerSecond: number;
  madePerSecond: number;
  /** The gateway's CPU while the generator ran, over the generator's seconds. */
  busyShare: number;
  /** The gateway's CPU (user + system) per made session, until everything was acknowledged. */
  usPerSession: number;
  userUsPerSession: number;
  systemUsPerSession: number;
  /** Offered datagrams the kernel dropped because the TUN device's queue was full (the gateway read too slowly). */
  queueDropShare: number;
  /** Made sessions per second of the gateway's CPU: what its core makes when offered enough. */
  perCpuSecond: number;
  /** Per 1000 made sessions: the TUN device's wake-ups, handoff datagrams sent, ACKs received, retransmissions. */
  wakeupsPerThousand: number;
  /** Per 1000 made sessions: the gateway's main thread went to sleep (a wake-up of any cause followed). */
  sleepsPerThousand: number;
  datagramsPerThousand: number;
  acksPerThousand: number;
  retransmissions: number;
  /** The receiver's CPU while the generator ran, over its seconds (it shares the generator's core). */
  receiverShare: number;
  handedOffPerSession: number;
  drainMs: number;
}

/** Every run of one system, as measured. */
interface SystemRuns {
  forwardedPps: number[];
  /** 1400-byte packets (IPv6 size) forwarded per second. */
  forwardedPpsLarge: number[];
  processNsPerPacket: number[];
  saturated: SessionRun[];
  steady: SessionRun[];
  /** The gateway's CPU per second of wall time with nothing to forward (handoff peers up, everything acknowledged). */
  idleCpuShare: number[];
  queueOverflow: number;
}

function emptyRuns(): SystemRuns {
  return { forwardedPps: [], forwardedPpsLarge: [], processNsPerPacket: [], saturated: [], steady: [], idleCpuShare: [], queueOverflow: 0 };
}

/**
 * Gateway starts per system (BENCH_STARTS, even, default 2), in rounds of A B B A so that drifting
 * background load hits all alike. A fresh process differs from the last by more than its runs differ
 * from each other (code placement, the optimizing compiler's choices), so more starts narrow a median.
 */
const STARTS = Math.max(2, 2 * Math.round(Number(process.env['BENCH_STARTS'] ?? 2) / 2));
/** Runs per gateway start, BENCH_RUNS spread over the starts. */
const RUNS_PER_START = Math.max(1, Math.ceil(RUNS / STARTS));
/** Source ports a gateway start uses: every session run takes a fresh range above 1023. */
const PORTS_PER_START = PORTS_PER_RUN * (WARMUP_SESSION_RUNS + 2 * RUNS_PER_START);

interface Counters {
  [name: string]: number;
}

/** The gateway's counters, through its control socket in process (no `nat64-gateway stats` process to start). */
async function counters(control: string): Promise<Counters> {
  const lines = (await callControl(control, 'stats')) as { group: string; name: string; value: number }[];
  return Object.fromEntries(lines.map((l) => [`${l.group}.${l.name}`, l.value]));
}

async function peer(control: string): Promise<Record<string, unknown> | undefined> {
  const answer = (await callControl(control, 'hosts')) as { hosts: Record<string, unknown>[] };
  return answer.hosts.find((row) => row['host'] === ADDRESSES.server);
}

/** User and system CPU seconds of a process. */
function cpuSplit(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** Entries the receiver has created (stored, logged and acknowledged), through its control socket. */
async function receiverCreated(control: string): Promise<number> {
  const answer = (await callControl(control, 'stats', { all: true })) as { counters: { name: string; value: number }[] };
  return answer.counters.find((c) => c.name === 'created')?.value ?? 0;
}

/**
 * Until the receiver has created `target` entries: asked of the receiver, so that waiting costs the
 * measured gateway nothing (each `hosts` answer costs it a few hundred microseconds, dozens of times
 * per drain on a loaded machine).
 */
async function receiverReached(control: string, target: number, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    'the receiver to create every entry',
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 25));
      return (await receiverCreated(control)) >= target;
    },
    timeoutMs,
  );
}

/** Until the receiver has acknowledged everything the gateway queued toward the server, asked of the gateway every 50 ms. */
async function drained(control: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    'the handoff queue to drain',
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const p = await peer(control);
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
  const result = await t.client.run(...pinned(LOAD_CPU, flooder, [ADDRESSES.serverSix, String(SINK_PORT), String(payload), String(SECONDS), String(FLOWS)]), {
    timeoutMs: (SECONDS + 10) * 1000,
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const rx = rxPackets(t.server, t.serverLink[1]) - rx0;
  const cpu = processCpuSeconds(pid) - cpu0;
  const sent = JSON.parse(result.stdout) as { seconds: number };
  return { pps: rx / sent.seconds, nsPerPacket: (cpu * 1e9) / Math.max(1, rx) };
}

interface Lab {
  t: BenchTopology;
  generator: string;
  receiverPid: number;
  receiverControl: string;
  /** Runs the receiver built at `main` on the server, restarting it if another build runs. */
  useReceiver(main: string): Promise<void>;
}

async function sessionRun(lab: Lab, pid: number, control: string, system: System, firstPort: number, pps: number): Promise<SessionRun> {
  const { t, generator } = lab;
  const before = await counters(control);
  const created0 = system.mode === 'full' ? await receiverCreated(lab.receiverControl) : 0;
  const cpu0 = cpuSplit(pid);
  const sleeps0 = mainThreadSleeps(pid);
  const receiver0 = processCpuSeconds(lab.receiverPid);
  const args = [
    ADDRESSES.serverSix,
    String(SINK_PORT),
    String(PAYLOAD_6),
    String(SECONDS),
    String(firstPort),
    String(firstPort + PORTS_PER_RUN - 1),
    String(pps),
    ...SOURCES,
  ];
  const perf = PERF_DIR !== undefined && pps !== 0 ? startPerf(pid, system.key) : undefined;
  const result = await t.client.run(...pinned(LOAD_CPU, generator, args), { timeoutMs: (SECONDS + 10) * 1000 });
  await perf?.();
  // Before any control call, which would wake it too.
  const sleeps1 = mainThreadSleeps(pid);
  const cpuLoad = processCpuSeconds(pid) - cpu0.user - cpu0.system;
  const receiverLoad = processCpuSeconds(lab.receiverPid) - receiver0;
  const sent = JSON.parse(result.stdout) as { sent: number; seconds: number };
  const stopped = performance.now();
  // The gateway is asked once here in every mode (what it made), then left alone until its CPU is read.
  const madeSoFar = (await counters(control))['table.sessionsCreated']! - before['table.sessionsCreated']!;
  // Should entries have been lost on the way (a full queue), the gateway's own view below decides.
  if (system.mode === 'full') await receiverReached(lab.receiverControl, created0 + madeSoFar, 30_000).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, system.mode === 'off' ? 300 : 50));
  const drainMs = performance.now() - stopped;
  let cpu1 = cpuSplit(pid);
  if (system.mode !== 'off') {
    const p = await peer(control);
    if (!(p !== undefined && p['state'] === 'authoritative' && p['inFlight'] === 0 && p['queued'] === 0)) {
      await drained(control);
      cpu1 = cpuSplit(pid);
    }
  }
  const user = cpu1.user - cpu0.user;
  const sys = cpu1.system - cpu0.system;
  const after = await counters(control);
  const d = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
  const made = Math.max(1, d('table.sessionsCreated'));
  const handedOff = system.mode === 'full' ? d('agent.entriesHandedOff') : system.mode === 'geneve' ? d('geneve.handedOffByGeneve') : 0;
  const run: SessionRun = {
    offeredPerSecond: sent.sent / sent.seconds,
    madePerSecond: made / sent.seconds,
    busyShare: cpuLoad / sent.seconds,
    usPerSession: ((user + sys) * 1e6) / made,
    userUsPerSession: (user * 1e6) / made,
    systemUsPerSession: (sys * 1e6) / made,
    queueDropShare: d('device.txDropped') / Math.max(1, sent.sent),
    perCpuSecond: made / Math.max(0.01, user + sys),
    wakeupsPerThousand: (d('tun.rxWakeups') * 1000) / made,
    sleepsPerThousand: ((sleeps1 - sleeps0) * 1000) / made,
    datagramsPerThousand: ((d('agent.reliableSent') + d('agent.retransmissions')) * 1000) / made,
    acksPerThousand: (d('agent.acksReceived') * 1000) / made,
    retransmissions: d('agent.retransmissions'),
    receiverShare: receiverLoad / sent.seconds,
    handedOffPerSession: handedOff / made,
    drainMs,
  };
  if (process.env['BENCH_VERBOSE']) {
    console.log(
      `${system.key} pps=${pps} offered=${rate(run.offeredPerSecond)}/s made=${rate(run.madePerSecond)}/s cpu=${(user + sys).toFixed(2)} (user ${user.toFixed(2)} sys ${sys.toFixed(2)}) ` +
        `${run.usPerSession.toFixed(2)} us/session busy=${(run.busyShare * 100).toFixed(0)} % queueDrops=${(run.queueDropShare * 100).toFixed(0)} % receiver=${(run.receiverShare * 100).toFixed(0)} % wakeups/k=${run.wakeupsPerThousand.toFixed(1)} sleeps/k=${run.sleepsPerThousand.toFixed(1)} ` +
        `datagrams/k=${run.datagramsPerThousand.toFixed(1)} acks/k=${run.acksPerThousand.toFixed(1)} rtx=${run.retransmissions} drain=${drainMs.toFixed(0)} ms`,
    );
  }
  return run;
}

/**
 * `pause(true)` stops the receiver (SIGSTOP) during the floods: over Geneve it would otherwise decapsulate
 * every flood packet on the load's core and slow the generator, so the figure would measure the
 * receiver. The floods are counted on the server's link, before any receiver.
 */
async function measure(lab: Lab, dir: string, flooder: string, system: System, into: SystemRuns, pause: (on: boolean) => void): Promise<void> {
  const { t } = lab;
  const mode = system.mode;
  const settings = {
    pool4: POOL4,
    limits: { maxSessionsPerClient: 100_000 },
    handoff: mode === 'off' ? { mode, transport: 'handoff' } : { mode: 'full', transport: mode === 'geneve' ? 'geneve' : 'handoff' },
  };
  await lab.useReceiver(system.receiverMain);
  const gateway = await startBenchGateway(t, GATEWAY_CPU, dir, system.key, settings, system.main);
  const control = gateway.control;
  try {
    // Warm-up: the flows' sessions exist (and are handed off), the JIT has settled.
    await floodRun(t, gateway.pid, flooder);
    if (mode !== 'off') await drained(control);
    if (mode === 'geneve' && (await peer(control))?.['transport'] !== 'geneve') throw new Error('the server is not reached through Geneve');
    if (PARTS.has('floods')) {
      const floods: { pps: number; nsPerPacket: number }[] = [];
      pause(true);
      try {
        for (let i = 0; i < RUNS_PER_START; i++) floods.push(await floodRun(t, gateway.pid, flooder));
        for (let i = 0; i < RUNS_PER_START; i++) into.forwardedPpsLarge.push((await floodRun(t, gateway.pid, flooder, PAYLOAD_6_LARGE)).pps);
      } finally {
        pause(false);
      }
      into.forwardedPps.push(...floods.map((f) => f.pps));
      into.processNsPerPacket.push(...floods.map((f) => f.nsPerPacket));
    }
    if (PARTS.has('sessions')) {
      // A fresh range of source ports per run, so every datagram makes a new session. The runs at the
      // steady rate come before those at saturation: paced, they make the same sessions in every mode, so
      // each mode measures them on tables of the same size. Saturation drops different shares at the TUN
      // queue per mode, and after it the tables' indexes would be at different points of their doubling
      // (incremental, a few buckets moved per insertion), which costs up to a µs per session while it runs.
      let runs = 0;
      const run = (pps: number) => sessionRun(lab, gateway.pid, control, system, 1024 + PORTS_PER_RUN * runs++, pps);
      for (let i = 0; i < WARMUP_SESSION_RUNS; i++) await run(STEADY_PPS);
      for (let i = 0; i < RUNS_PER_START; i++) into.steady.push(await run(STEADY_PPS));
      for (let i = 0; i < RUNS_PER_START; i++) into.saturated.push(await run(0));
    }
    if (PARTS.has('idle')) {
      // Idle: what the gateway's own timers cost once the load is gone (10 s, CPU read in ticks of 10 ms).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const cpu0 = processCpuSeconds(gateway.pid);
      await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
      into.idleCpuShare.push((processCpuSeconds(gateway.pid) - cpu0) / IDLE_SECONDS);
    }
    into.queueOverflow += (await counters(control))['agent.queueOverflow'] ?? 0;
  } finally {
    await gateway.stop();
  }
}

/** Starts ack-receiver on the server, pinned to the load's CPU, its control socket in `dir`. */
async function startAckReceiver(t: BenchTopology, dir: string, main: string): Promise<ChildProcess> {
  const child = t.server.spawn(...pinned(LOAD_CPU, 'node', [main, '--listen', ADDRESSES.server, '--control', join(dir, 'receiver.sock')]));
  await waitForLine(child.stderr!, /ack-receiver listening/, 20_000);
  child.stderr!.resume();
  return child;
}

/** Stops a receiver and waits for it to exit (its socket and database free for the next). */
async function stopReceiver(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  await exited;
}

/** Relative cost against `off`: positive when the other is slower or uses more CPU. */
function cost(off: number, other: number, higherIsBetter: boolean): string {
  if (off === 0) return '-';
  const change = higherIsBetter ? (off - other) / off : (other - off) / off;
  return `${(change * 100).toFixed(1)} %`;
}

function sessionSpreads(runs: SessionRun[]): Record<keyof SessionRun, Spread> {
  const keys = Object.keys(runs[0] ?? {}) as (keyof SessionRun)[];
  return Object.fromEntries(keys.map((key) => [key, spread(runs.map((run) => run[key]))])) as Record<keyof SessionRun, Spread>;
}

function summary(r: SystemRuns) {
  return {
    forwardedPps: spread(r.forwardedPps),
    forwardedPpsLarge: spread(r.forwardedPpsLarge),
    processNsPerPacket: spread(r.processNsPerPacket),
    saturated: sessionSpreads(r.saturated),
    steady: sessionSpreads(r.steady),
    idleCpuShare: spread(r.idleCpuShare),
    queueOverflow: r.queueOverflow,
    runs: r,
  };
}

type Summary = ReturnType<typeof summary>;

function report(summaries: Map<System, Summary>): void {
  const systems = [...summaries.keys()];
  const baseOf = (system: System) => systems.find((s) => s.mode === 'off' && (s.main === system.main || BASELINE === undefined));
  const m = (s: Spread | undefined) => s?.median ?? NaN;
  const cells = (pick: (r: Summary) => Spread | undefined, unit: (x: number) => string) =>
    systems.map((system) => {
      const s = pick(summaries.get(system)!);
      return s === undefined || Number.isNaN(m(s)) || (s.min === 0 && s.max === 0 && s.median === 0) ? '-' : unit(m(s));
    });
  const range = (pick: (r: Summary) => Spread | undefined, unit: (x: number) => string) =>
    systems.map((system) => {
      const s = pick(summaries.get(system)!);
      return s === undefined || s.max === 0 ? '-' : `${unit(m(s))} (${unit(s.min)}-${unit(s.max)})`;
    });
  const costs = (pick: (r: Summary) => Spread | undefined, higherIsBetter: boolean) =>
    systems
      .filter((system) => system.mode !== 'off')
      .map((system) => {
        const base = baseOf(system);
        const a = base === undefined ? undefined : pick(summaries.get(base)!);
        const b = pick(summaries.get(system)!);
        return a === undefined || b === undefined ? '-' : cost(m(a), m(b), higherIsBetter);
      })
      .join(' / ');
  const pps = (x: number) => `${rate(x)}/s`;
  const us = (x: number) => `${x.toFixed(2)} us`;
  const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
  const per = (x: number) => x.toFixed(1);
  const rows: string[][] = [];
  if (PARTS.has('floods')) {
    rows.push(
      ['64 B UDP IPv6->IPv4 forwarded, established flows', ...cells((r) => r.forwardedPps, pps), costs((r) => r.forwardedPps, true)],
      ['1400 B UDP IPv6->IPv4 forwarded, established flows', ...cells((r) => r.forwardedPpsLarge, pps), costs((r) => r.forwardedPpsLarge, true)],
      [
        '  gateway CPU per 64 B packet',
        ...cells(
          (r) => r.processNsPerPacket,
          (x) => `${x.toFixed(0)} ns`,
        ),
        costs((r) => r.processNsPerPacket, false),
      ],
    );
  }
  if (PARTS.has('sessions')) {
    rows.push(
      ['new UDP sessions per second, saturation: made', ...range((r) => r.saturated.madePerSecond, pps), costs((r) => r.saturated.madePerSecond, true)],
      ['  offered by the generator (shares its core with the receiver)', ...cells((r) => r.saturated.offeredPerSecond, pps), ''],
      ['  gateway core busy (its process)', ...cells((r) => r.saturated.busyShare, pct), ''],
      ['  offered datagrams dropped at the TUN queue', ...cells((r) => r.saturated.queueDropShare, pct), ''],
      ['  receiver, share of the load core', ...cells((r) => r.saturated.receiverShare, pct), ''],
      ['  sessions per gateway CPU-second', ...range((r) => r.saturated.perCpuSecond, pps), costs((r) => r.saturated.perCpuSecond, true)],
      ['  gateway CPU per made session', ...cells((r) => r.saturated.usPerSession, us), costs((r) => r.saturated.usPerSession, false)],
      [`gateway CPU per new session at ${rate(STEADY_PPS)}/s`, ...range((r) => r.steady.usPerSession, us), costs((r) => r.steady.usPerSession, false)],
      ['  offered datagrams dropped at the TUN queue', ...cells((r) => r.steady.queueDropShare, pct), ''],
      [
        '  of which user / system',
        ...systems.map((system) => `${us(m(summaries.get(system)!.steady.userUsPerSession))} / ${us(m(summaries.get(system)!.steady.systemUsPerSession))}`),
        '',
      ],
      ['  TUN wake-ups per 1000 sessions', ...cells((r) => r.steady.wakeupsPerThousand, per), ''],
      ["  the gateway's main thread went to sleep, per 1000 sessions", ...cells((r) => r.steady.sleepsPerThousand, per), ''],
      [
        '  handoff datagrams sent / ACKs received per 1000 sessions',
        ...systems.map((system) =>
          system.mode === 'off'
            ? '-'
            : `${per(m(summaries.get(system)!.steady.datagramsPerThousand))} / ${per(m(summaries.get(system)!.steady.acksPerThousand))}`,
        ),
        '',
      ],
      [
        '  retransmissions (all runs)',
        ...systems.map((system) =>
          system.mode === 'off'
            ? '-'
            : String(
                summaries
                  .get(system)!
                  .runs.steady.concat(summaries.get(system)!.runs.saturated)
                  .reduce((sum, run) => sum + run.retransmissions, 0),
              ),
        ),
        '',
      ],
      [
        '  entries handed off per session',
        ...systems.map((system) => (system.mode === 'off' ? '-' : m(summaries.get(system)!.steady.handedOffPerSession).toFixed(3))),
        '',
      ],
      [
        '  drain after the load stopped',
        ...systems.map((system) => (system.mode === 'off' ? '-' : `${m(summaries.get(system)!.steady.drainMs).toFixed(0)} ms`)),
        '',
      ],
    );
  }
  if (PARTS.has('idle')) {
    rows.push([
      'gateway CPU while idle (peers up, nothing to forward)',
      ...range(
        (r) => r.idleCpuShare,
        (x) => `${(x * 1000).toFixed(1)} ms/s`,
      ),
      costs((r) => r.idleCpuShare, false),
    ]);
  }
  printTable(
    `nat64-gateway, handoff off against full over handoff messages and over Geneve (${ACK_RECEIVER ? 'ack-receiver' : 'nat64-receiver --transport both'} on the server), ${STARTS * RUNS_PER_START} runs of ${SECONDS} s per figure and system (${STARTS} starts each, A B B A), gateway on CPU ${GATEWAY_CPU}, load and receiver on CPU ${LOAD_CPU}${SINK_RPS ? ", the far ends' receive steered there too" : ''}, medians (min-max)`,
    ['figure', ...systems.map((system) => system.label), 'cost vs off'],
    rows,
  );
}

async function main(): Promise<void> {
  const unavailable = labUnavailableReason(['gcc', 'taskset', 'python3']);
  if (unavailable !== undefined) {
    console.log(`gateway handoff benchmark skipped: ${unavailable}`);
    return;
  }
  if (1024 + PORTS_PER_START > 65_536) {
    console.log(`gateway handoff benchmark: BENCH_RUNS and BENCH_WARMUP_RUNS ask for ${PORTS_PER_START} source ports per gateway start, more than 64,512`);
    process.exitCode = 64;
    return;
  }
  if (ACK_RECEIVER && MODES.includes('geneve')) {
    console.log('gateway handoff benchmark: BENCH_RECEIVER=ack answers handoff messages only; set BENCH_MODES=off,full');
    process.exitCode = 64;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'n64-gw-handoff-bench-'));
  const t = createBenchTopology();
  try {
    const flooder = compileNative(dir, 'gateway-flood');
    const generator = compileNative(dir, 'gateway-sessions');
    for (const source of SOURCES) t.client.ip('-6', 'address', 'add', `${source}/64`, 'dev', t.clientLink[0], 'nodad');
    t.server.ip('route', 'add', POOL4_ROUTE, 'via', ADDRESSES.gatewayFour);
    if (SINK_RPS) {
      rpsToLoad(t.server, t.serverLink[1]);
      rpsToLoad(t.client, t.clientLink[0]);
    }
    const sink = await startSink(t);
    let receiver: ChildProcess | undefined;
    let receiverMain = '';
    const lab: Lab = {
      t,
      generator,
      receiverPid: 0,
      receiverControl: '',
      async useReceiver(main) {
        if (main === receiverMain) return;
        if (receiver) await stopReceiver(receiver);
        // Each build its own database: the baseline's may not read what this one writes.
        const files = join(dir, main === RECEIVER_MAIN || main === ACK_RECEIVER_MAIN ? 'receiver' : 'receiver-baseline');
        mkdirSync(files, { recursive: true });
        const own = main === RECEIVER_MAIN && ACK_DELAY !== undefined ? ['--ack-delay', ACK_DELAY] : [];
        receiver = ACK_RECEIVER ? await startAckReceiver(t, files, main) : await startBenchReceiver(t, LOAD_CPU, files, own, main);
        receiverMain = main;
        lab.receiverPid = receiver.pid!;
        lab.receiverControl = join(files, 'receiver.sock');
      },
    };
    const runs = new Map(SYSTEMS.map((system) => [system, emptyRuns()]));
    const pause = (on: boolean) => receiver?.kill(on ? 'SIGSTOP' : 'SIGCONT');
    for (let round = 0; round < STARTS / 2; round++) {
      for (const system of [...SYSTEMS, ...[...SYSTEMS].reverse()]) await measure(lab, dir, flooder, system, runs.get(system)!, pause);
    }
    if (receiver) await stopReceiver(receiver);
    sink.kill();
    const summaries = new Map([...runs].map(([system, r]) => [system, summary(r)]));
    report(summaries);
    const results = {
      runs: STARTS * RUNS_PER_START,
      starts: STARTS,
      secondsPerRun: SECONDS,
      steadySessionRate: STEADY_PPS,
      parts: [...PARTS],
      baseline: BASELINE ?? null,
      cpus: { gateway: GATEWAY_CPU, load: LOAD_CPU, receiver: LOAD_CPU },
      steered: SINK_RPS,
      ackDelay: ACK_DELAY ?? null,
      receiver: ACK_RECEIVER ? 'ack-receiver' : 'nat64-receiver',
      nice: NICE,
      ...Object.fromEntries([...summaries].map(([system, s]) => [system.key, s])),
    };
    console.log(`written to ${writeResults('gateway-handoff', results)}`);
  } finally {
    t.lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
