// Connection setup rate and table capacity of the real nat64-gateway, in the manner of RFC 9693
// (benchmarking stateful NATxy gateways): a generator (native/gateway-sessions.c) sends UDP datagrams
// each from a transport address not seen before, as fast as it can, until the gateway holds a million
// sessions. Reported per handoff mode (off; full with nat64-receiver on the server): sessions created
// per second while the table fills (with the datagrams lost on the way, since the generator offers
// more than the gateway takes), and memory per session at one million sessions (the tables' own
// bytes, and the process's resident memory over its size before the load). Not a test: run as root,
// `node tools/bench/dist/gateway-capacity.js` (BENCH_SESSIONS changes the million).

import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason } from '@nat64/netlab';
import { callControl } from '@nat64/service';
import {
  ADDRESSES,
  GATEWAY_CPU,
  GATEWAY_MAIN,
  LOAD_CPU,
  SINK_PORT,
  compileNative,
  createBenchTopology,
  dropAtServer,
  startBenchGateway,
  startBenchReceiver,
  type BenchTopology,
} from './gateway-lab.js';
import { ensureCommands } from './packages.js';
import { printTable, rate, writeResults } from './report.js';

const SESSIONS = Number(process.env['BENCH_SESSIONS'] ?? 1_000_000);
const PAYLOAD_6 = 16;
/** 64 source addresses x 64,000 source ports: room for four million new sessions. */
const SOURCES = Array.from({ length: 64 }, (_, i) => `2001:db8:1::${(0x100 + i).toString(16)}`);
const FIRST_PORT = 1024;
/** Enough pool4 addresses that no source address runs out of NAT ports (paired pooling, RFC 4787 REQ-2). */
const POOL4 = Array.from({ length: 126 }, (_, i) => `198.51.100.${i + 1}`);
const POOL4_ROUTE = '198.51.100.0/25';

type Mode = 'off' | 'full';

/** The gateway's counters, straight from its control socket (cheap enough to sample often). */
async function stats(control: string): Promise<Record<string, number>> {
  const lines = (await callControl(control, 'stats')) as { group: string; name: string; value: number }[];
  return Object.fromEntries(lines.map((l) => [`${l.group}.${l.name}`, l.value]));
}

function residentBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(/(\d+)/.exec(line)![1]) * 1024;
}

interface Fill {
  mode: Mode;
  sessions: number;
  seconds: number;
  sessionsPerSecond: number;
  /** Sessions created per second in each quarter second of the fill. */
  perSecond: number[];
  offered: number;
  lostShare: number;
  tableBytesPerSession: number;
  residentBytesPerSession: number;
  residentBytes: number;
  handedOff: number;
}

async function fill(t: BenchTopology, dir: string, generator: string, mode: Mode): Promise<Fill> {
  const settings = { pool4: POOL4, limits: { maxSessions: SESSIONS, maxSessionsPerClient: 100_000 }, handoff: { mode } };
  const gateway = await startBenchGateway(t, GATEWAY_CPU, dir, mode, settings);
  const control = gateway.control;
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rss0 = residentBytes(gateway.pid);
    const before = await stats(control);
    const args = [generator, ADDRESSES.serverSix, String(SINK_PORT), String(PAYLOAD_6), '120', String(FIRST_PORT), '65535', '0', ...SOURCES];
    const load = t.client.run('taskset', ['-c', String(LOAD_CPU), ...args], { timeoutMs: 150_000 });
    const started = performance.now();
    const perSecond: number[] = [];
    let created = 0;
    let fullAt = 0;
    let last = { at: started, created: 0 };
    // Sample four times a second until the table is full (then stop the generator) or it gave up.
    let done = false;
    void load.then(() => (done = true));
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const now = await stats(control);
      const at = performance.now();
      created = now['table.sessionsCreated']! - before['table.sessionsCreated']!;
      if (created > 0) perSecond.push(((created - last.created) * 1000) / (at - last.at));
      last = { at, created };
      if (created >= SESSIONS) {
        fullAt = (at - started) / 1000;
        break;
      }
    }
    if (!done) await t.client.run('pkill', ['-f', 'gateway-sessions']);
    const result = await load;
    if (fullAt === 0) console.log(`  the generator stopped at ${rate(created)} sessions: ${result.stdout.trim()} ${result.stderr.trim()}`);
    const sent = (JSON.parse(result.stdout || '{"sent":0}') as { sent: number }).sent;
    // Handoff full: memory is measured once the receiver has taken the table (it shared its core
    // with the generator, so it catches up now), as it is at steady state.
    let after = await stats(control);
    for (let waited = 0; mode === 'full' && waited < 120 && after['table.sessionsHandedOff']! < 0.99 * after['table.sessionsUdp']!; waited++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      after = await stats(control);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    after = await stats(control);
    if (process.env['BENCH_VERBOSE']) {
      console.log(execFileSync('node', [GATEWAY_MAIN, 'hosts', '--control', control], { encoding: 'utf8' }));
      console.log(
        Object.entries(after)
          .filter(([k, v]) => v !== 0 && /^(handoff|agent)\./.test(k))
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      );
    }
    const sessions = after['table.sessionsUdp']!;
    const seconds = fullAt > 0 ? fullAt : (performance.now() - started) / 1000;
    const rss = residentBytes(gateway.pid);
    return {
      mode,
      sessions,
      seconds,
      sessionsPerSecond: created / seconds,
      perSecond,
      offered: sent,
      lostShare: sent > 0 ? 1 - created / sent : 0,
      tableBytesPerSession: after['table.bytesAllocated']! / Math.max(1, sessions),
      residentBytesPerSession: (rss - rss0) / Math.max(1, sessions),
      residentBytes: rss,
      handedOff: after['table.sessionsHandedOff'] ?? 0,
    };
  } finally {
    await gateway.stop();
  }
}

async function main(): Promise<void> {
  const missing = ensureCommands({ gcc: 'gcc', taskset: 'util-linux' });
  const unavailable = labUnavailableReason([]) ?? (missing.length > 0 ? `missing ${missing.join(', ')}` : undefined);
  if (unavailable !== undefined) {
    console.log(`gateway capacity benchmark skipped: ${unavailable}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'n64-gw-capacity-'));
  const t = createBenchTopology();
  let receiver: ChildProcess | undefined;
  try {
    const generator = compileNative(dir, 'gateway-sessions');
    for (const source of SOURCES) t.client.ip('-6', 'address', 'add', `${source}/64`, 'dev', t.clientLink[0], 'nodad');
    t.server.ip('route', 'add', POOL4_ROUTE, 'via', ADDRESSES.gatewayFour);
    // The datagrams die as they arrive at the server, after its interface counted them.
    dropAtServer(t, SINK_PORT);
    receiver = await startBenchReceiver(t, LOAD_CPU, dir);
    const fills: Fill[] = [];
    for (const mode of ['off', 'full'] as const) {
      console.log(`filling the table to ${rate(SESSIONS)} sessions, handoff ${mode}`);
      fills.push(await fill(t, dir, generator, mode));
    }
    const col = (get: (f: Fill) => string) => fills.map(get);
    printTable(
      `nat64-gateway connection setup and capacity: new UDP sessions at saturation until ${rate(SESSIONS)} sessions, gateway on CPU ${GATEWAY_CPU}, generator and receiver on CPU ${LOAD_CPU}`,
      ['figure', ...fills.map((f) => `handoff ${f.mode}`)],
      [
        ['sessions created per second while filling', ...col((f) => `${rate(f.sessionsPerSecond)}/s`)],
        [
          '  slowest / fastest quarter second (first and last left out)',
          ...col((f) => `${rate(Math.min(...f.perSecond.slice(1, -1)))} / ${rate(Math.max(...f.perSecond.slice(1, -1)))}`),
        ],
        ['  datagrams offered that made no session (lost)', ...col((f) => `${(f.lostShare * 100).toFixed(1)} %`)],
        ['sessions in the table at the end', ...col((f) => rate(f.sessions))],
        ['  of them handed off to the receiver', ...col((f) => rate(f.handedOff))],
        ['table memory per session', ...col((f) => `${f.tableBytesPerSession.toFixed(0)} B`)],
        ['process memory (RSS) growth per session', ...col((f) => `${f.residentBytesPerSession.toFixed(0)} B`)],
        ['process RSS at the end', ...col((f) => `${(f.residentBytes / 2 ** 20).toFixed(0)} MiB`)],
      ],
    );
    console.log(`written to ${writeResults('gateway-capacity', { sessions: SESSIONS, fills })}`);
  } finally {
    receiver?.kill();
    t.lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
