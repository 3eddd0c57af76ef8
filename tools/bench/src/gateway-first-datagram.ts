// The first datagram of a UDP flow through the real nat64-gateway on the namespace topology
// (gateway-lab.ts), in one run: with --handoff off, with --handoff full and handoff.evictedFlows 0,
// and with --handoff full and the default memory (nat64-receiver,
// authoritative, on the server; the gateway's memory of evicted flows holding the flows of a warm-up
// that the 2 s UDP cache evicted, so that every new flow is looked up in it). Figures: the round trip
// of a new flow's first datagram to a UDP echo on the server (new socket, new source port each time),
// and in mode full the round trip of the first datagram of an evicted flow when its client speaks
// first (held while CLIENT-QUERY asks the receiver, then restored on its NAT port). Not a test: run as
// root, node tools/bench/dist/gateway-first-datagram.js (BENCH_RUNS, default 2 starts per mode;
// BENCH_FLOWS, default 300 new flows per start).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitForLine } from '@nat64/netlab';
import { ADDRESSES, GATEWAY_CPU, LOAD_CPU, createBenchTopology, startBenchGateway, startBenchReceiver, type BenchTopology } from './gateway-lab.js';
import { percentile, printTable, spread, writeResults, type Spread } from './report.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 2);
const FLOWS = Number(process.env['BENCH_FLOWS'] ?? 300);
const ECHO_PORT = 9997;
/** Flows of the warm-up, evicted before the measurement, and measured again in mode full. */
const EVICTED = 200;

/** full-nomemory: handoff full with handoff.evictedFlows 0 (no client-first lookups at all). */
type Mode = 'off' | 'full-nomemory' | 'full';
const MODES: readonly Mode[] = ['off', 'full-nomemory', 'full'];

/** Round trips in microseconds, one per line of the script's output, of datagrams sent from `ports` (0: a new port each). */
const CLIENT_SCRIPT = `
import socket, sys, time
server, port, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for i in range(count):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::", first + i if first > 0 else 0))
    s.settimeout(3)
    t = time.perf_counter()
    s.sendto(b"x", (server, port))
    try:
        s.recvfrom(64)
        print(int((time.perf_counter() - t) * 1e6), flush=True)
    except socket.timeout:
        print(-1, flush=True)
    s.close()
`;

async function roundTrips(t: BenchTopology, firstPort: number, count: number): Promise<number[]> {
  const result = await t.client.run(
    'taskset',
    ['-c', String(LOAD_CPU), 'python3', '-c', CLIENT_SCRIPT, ADDRESSES.serverSix, String(ECHO_PORT), String(firstPort), String(count)],
    {
      timeoutMs: (count * 3 + 30) * 1000,
    },
  );
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

interface Runs {
  newFlowUs: number[];
  returningUs: number[];
  lost: number;
}

async function measure(t: BenchTopology, dir: string, mode: Mode, start: number, into: Runs): Promise<void> {
  const handoff = mode === 'off' ? { mode: 'off' } : { mode: 'full', transport: 'handoff', ...(mode === 'full-nomemory' ? { evictedFlows: 0 } : {}) };
  const settings = { timeouts: { udp: '2s', allowBelowMinimum: true }, handoff };
  const gateway = await startBenchGateway(t, GATEWAY_CPU, dir, `first-${mode}-${start}`, settings);
  try {
    // Warm-up flows from known ports: handed off (mode full), then evicted by the 2 s cache.
    const warmPort = 20_000 + start * 1000;
    await roundTrips(t, warmPort, EVICTED);
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const fresh = await roundTrips(t, 0, FLOWS);
    into.newFlowUs.push(...fresh.filter((us) => us >= 0));
    into.lost += fresh.filter((us) => us < 0).length;
    if (mode === 'full') {
      const back = await roundTrips(t, warmPort, EVICTED);
      into.returningUs.push(...back.filter((us) => us >= 0));
      into.lost += back.filter((us) => us < 0).length;
    }
  } finally {
    await gateway.stop();
  }
}

async function main(): Promise<void> {
  const unavailable = labUnavailableReason(['taskset', 'python3']);
  if (unavailable !== undefined) {
    console.log(`first-datagram benchmark skipped: ${unavailable}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'n64-first-datagram-'));
  const t = createBenchTopology();
  try {
    const echo = t.server.spawn('python3', [
      '-c',
      `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(("${ADDRESSES.server}", ${ECHO_PORT}))\nprint("echoing", flush=True)\nwhile True:\n    d, a = s.recvfrom(64)\n    s.sendto(d, a)`,
    ]);
    await waitForLine(echo.stdout!, /^echoing$/);
    const receiver = await startBenchReceiver(t, LOAD_CPU, dir);
    const runs = Object.fromEntries(MODES.map((mode) => [mode, { newFlowUs: [], returningUs: [], lost: 0 }])) as unknown as Record<Mode, Runs>;
    // Alternating, so that drifting background load hits both modes alike.
    for (let start = 0; start < RUNS; start++) {
      for (const mode of start % 2 === 0 ? MODES : [...MODES].reverse()) await measure(t, dir, mode, start, runs[mode]);
    }
    receiver.kill('SIGTERM');
    echo.kill();
    const summary = (values: number[]): Spread & { p90: number; count: number } => ({ ...spread(values), p90: percentile(values, 0.9), count: values.length });
    const off = summary(runs.off.newFlowUs);
    const full = summary(runs.full.newFlowUs);
    const noMemory = summary(runs['full-nomemory'].newFlowUs);
    const back = summary(runs.full.returningUs);
    const us = (x: number) => `${x.toFixed(0)} us`;
    printTable(
      `first datagram of a UDP flow, round trip to an echo on the server through nat64-gateway (gateway on CPU ${GATEWAY_CPU}, client and receiver on CPU ${LOAD_CPU}), ${RUNS} starts per mode`,
      ['flow', 'count', 'min', 'median', 'p90', 'max'],
      [
        ['new flow, handoff off', String(off.count), us(off.min), us(off.median), us(off.p90), us(off.max)],
        [
          'new flow, handoff full, evictedFlows 0 (no memory)',
          String(noMemory.count),
          us(noMemory.min),
          us(noMemory.median),
          us(noMemory.p90),
          us(noMemory.max),
        ],
        ['new flow, handoff full (memory holding evicted flows)', String(full.count), us(full.min), us(full.median), us(full.p90), us(full.max)],
        ['evicted flow whose client speaks first, full (CLIENT-QUERY)', String(back.count), us(back.min), us(back.median), us(back.p90), us(back.max)],
      ],
    );
    console.log(`lost: off ${runs.off.lost}, full without memory ${runs['full-nomemory'].lost}, full ${runs.full.lost}`);
    console.log(
      `written to ${writeResults('gateway-first-datagram', { runs: RUNS, flows: FLOWS, evicted: EVICTED, off, fullWithoutMemory: noMemory, full, returning: back, lost: Object.fromEntries(MODES.map((mode) => [mode, runs[mode].lost])) })}`,
    );
  } finally {
    t.lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
