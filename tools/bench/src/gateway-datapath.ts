// The gateway's datapath side by side with TAYGA, in one run, on the namespace topology
// (gateway-lab.ts): the translator pinned to one core, the load on the other. Systems: nat64-gateway
// with handoff off, announce and full (nat64-receiver on the server) and, where the gateway has the
// Geneve transport, full over Geneve, and NAT64 bypass (untranslated IPv6 through the receiver's tunnel, also
// with tun.offload and with tun.coalesce;
// its IPv4 -> IPv6 floods still go through the static mapping, so they are translated); then TAYGA (Debian's, userspace C over TUN) configured alike
// (dynamic pool, the same network-specific prefix, a static map for the IPv4 -> IPv6 direction).
// Figures per system: translated packets/s of 64- and 1400-byte UDP at saturation both ways
// (native/gateway-flood.c), TCP throughput with iperf3, CPU per packet (the process's own, and its
// core's busy time, which includes the kernel's forwarding of what it writes), and the ratio to TAYGA.
// Every system runs once per round and the rounds repeat, so drift hits all alike; each figure is
// reported as median (min-max). Not a test: run as root, `node tools/bench/dist/gateway-datapath.js`
// (BENCH_RUNS rounds, BENCH_SECONDS per run, BENCH_FLOWS=16,1024 the floods' flow counts, BENCH_DRAIN=1 queues each
// flood while the translator is stopped and measures the drain, BENCH_SYSTEMS=off,full,tayga picks systems, `unbatched` among
// them adds handoff full with batches of one packet, BENCH_SINK_RPS=0 leaves the far ends' receive on the
// translator's core, BENCH_RPS=1
// steers the TUN's received packets to the load core).

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitForLine } from '@nat64/netlab';
import {
  ADDRESSES,
  GATEWAY_CPU,
  GATEWAY_MAIN,
  LOAD_CPU,
  RUNS,
  SECONDS,
  SINK_PORT,
  compileNative,
  cpuBusySeconds,
  createBenchTopology,
  dropAtServer,
  processRunSeconds,
  rpsToLoad,
  rxPackets,
  startBenchGateway,
  startBenchReceiver,
  tunKernelCounters,
  type BenchTopology,
} from './gateway-lab.js';
import { ensureCommands } from './packages.js';
import { printTable, rate, spread, spreadCell, writeResults, type Spread } from './report.js';

/**
 * Flow counts of the UDP floods (BENCH_FLOWS, default 16,1024). 16 flows send bursts of 64 datagrams
 * per flow (one sendmmsg each), so a batch the translator reads is mostly one flow; more flows than
 * that are interleaved datagram by datagram, as many independent senders would be, which leaves
 * coalescing next to nothing to join.
 */
const FLOW_COUNTS = (process.env['BENCH_FLOWS'] ?? '16,1024').split(',').map(Number);
const burstFor = (flows: number) => (flows <= 16 ? 64 : 1);
/**
 * The floods' flows have fixed source ports, one range per flow count (below the ephemeral range), so
 * every flood of a flow count is the same flows: the warm-up makes their sessions (and hands them off),
 * and the measured floods find them, as TAYGA finds its address map entry. With a new ephemeral port
 * per socket and run, every flood of 1,024 flows made 1,024 sessions (each a CREATED entry, toward a
 * receiver stopped for the floods) that TAYGA does not make.
 */
const firstPortFor = (flows: number) => 20_000 + FLOW_COUNTS.slice(0, FLOW_COUNTS.indexOf(flows)).reduce((sum, n) => sum + n, 0);
const RPS = process.env['BENCH_RPS'] === '1';
/**
 * BENCH_SINK_RPS=0 turns it off: by default the far ends' receive (the server's for IPv6 -> IPv4, the
 * client's for IPv4 -> IPv6) is steered to the load's core, so that what a sink does with a packet is
 * not charged to the translator's core (see steerSinks).
 */
const SINK_RPS = process.env['BENCH_SINK_RPS'] !== '0';
/**
 * BENCH_DRAIN=1: each flood is queued in the translator's TUN device while the translator is stopped
 * (SIGSTOP), then drained: the figures are what the translator does with full batches, whatever the
 * load generator manages on a busy machine, and "process CPU per packet" is its cost per packet on one core.
 */
const DRAIN = process.env['BENCH_DRAIN'] === '1';
/**
 * Packets queued per drained flood (the flooder stops at that count, so every system and flow count
 * drains the same number: sent one per system call, 1,024 interleaved flows fell short of it in the
 * 0.5 s the flooder used to have), and the TUN queue that holds them.
 */
const DRAIN_PACKETS = 60_000;
/** The longest a drained flood may take to queue its packets. */
const DRAIN_QUEUE_SECONDS = 10;
const DRAIN_QUEUE = 200_000;
/** TAYGA's own address, and its dynamic pool for the IPv6 clients (198.51.100.1 stays the static map). */
const TAYGA_ADDRESS = '198.51.100.254';
const TAYGA_POOL = '198.51.100.64/26';
const TAYGA_ROUTE = '198.51.100.0/25';

interface Flood {
  readonly name: string;
  readonly direction: '6to4' | '4to6';
  /** Size of the packet the translator reads. */
  readonly bytes: number;
  readonly flows: number;
}

const FLOODS: Flood[] = FLOW_COUNTS.flatMap((flows) => [
  { name: `UDP 64 B IPv6->IPv4, ${flows} flows`, direction: '6to4' as const, bytes: 64, flows },
  { name: `UDP 64 B IPv4->IPv6, ${flows} flows`, direction: '4to6' as const, bytes: 64, flows },
  { name: `UDP 1400 B IPv6->IPv4, ${flows} flows`, direction: '6to4' as const, bytes: 1400, flows },
  { name: `UDP 1400 B IPv4->IPv6, ${flows} flows`, direction: '4to6' as const, bytes: 1400, flows },
]);

interface Running {
  readonly pid: number;
  readonly tun: string;
  /** Ours: the control socket, for the coalescing counters. */
  readonly control?: string;
  stop(): Promise<void>;
}

interface System {
  readonly key: string;
  readonly label: string;
  start(t: BenchTopology, dir: string): Promise<Running>;
}

function ours(key: string, label: string, handoff: Record<string, unknown>, tun: Record<string, unknown> = {}): System {
  return {
    key,
    label,
    async start(t, dir) {
      const bypass = handoff['transport'] === 'bypass';
      const gateway = await startBenchGateway(t, GATEWAY_CPU, dir, key, {
        tun: { name: 'nat64', ...(DRAIN ? { txQueueLength: DRAIN_QUEUE } : {}), ...tun },
        // The IPv4 -> IPv6 floods reach the client-side sink through this mapping.
        staticBib: [{ protocol: 'udp', ipv6: `[${ADDRESSES.clientSink}]:${SINK_PORT}`, ipv4: `${ADDRESSES.pool4}:${SINK_PORT}` }],
        handoff: bypass ? { ...handoff, bypass: { secretFile: join(dir, 'bypass-secret'), offerInterval: '1s', reachableTime: '10m' } } : handoff,
      });
      if (RPS) steer(t, 'nat64');
      // Bypass: one datagram makes the offer; the floods start once the host accepted, so that their
      // flows have no session and go through the tunnel (flows with a session stay translated).
      if (bypass) await acceptedByServer(t, gateway.control);
      return { pid: gateway.pid, tun: 'nat64', control: gateway.control, stop: () => gateway.stop() };
    },
  };
}

const TAYGA: System = {
  key: 'tayga',
  label: 'TAYGA',
  async start(t, dir) {
    const config = join(dir, 'tayga.conf');
    mkdirSync(join(dir, 'tayga'), { recursive: true });
    writeFileSync(
      config,
      [
        'tun-device tayga64',
        `ipv4-addr ${TAYGA_ADDRESS}`,
        `prefix ${ADDRESSES.prefix}`,
        `dynamic-pool ${TAYGA_POOL}`,
        `map ${ADDRESSES.pool4} ${ADDRESSES.clientSink}`,
        `data-dir ${join(dir, 'tayga')}`,
        '',
      ].join('\n'),
    );
    t.gateway.exec('tayga', ['--config', config, '--mktun']);
    t.gateway.ip('link', 'set', 'tayga64', 'up');
    if (DRAIN) t.gateway.ip('link', 'set', 'tayga64', 'txqueuelen', String(DRAIN_QUEUE));
    if (RPS) steer(t, 'tayga64');
    t.gateway.ip('-6', 'route', 'add', ADDRESSES.prefix, 'dev', 'tayga64');
    t.gateway.ip('route', 'add', TAYGA_ROUTE, 'dev', 'tayga64');
    t.server.ip('route', 'replace', TAYGA_ROUTE, 'via', ADDRESSES.gatewayFour);
    const child = t.gateway.spawn('taskset', ['-c', String(GATEWAY_CPU), 'tayga', '--config', config, '--nodetach']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    return {
      pid: child.pid!,
      tun: 'tayga64',
      async stop() {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
        // Its routes go with the device, so the next system can route the prefix into its own.
        t.gateway.exec('ip', ['tuntap', 'del', 'dev', 'tayga64', 'mode', 'tun']);
      },
    };
  },
};

/** Waits until the gateway's `hosts` shows the server in bypass (one datagram to port 7 makes the offer). */
async function acceptedByServer(t: BenchTopology, control: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    t.client.exec('bash', ['-c', `echo offer > /dev/udp/${ADDRESSES.serverSix}/7`]);
    const hosts = spawnSync('node', [GATEWAY_MAIN, 'hosts', '--control', control, '--json'], { encoding: 'utf8' });
    if (hosts.stdout.includes('"transport":"bypass"')) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the server never accepted bypass (is its receiver running with --transport ...,bypass?)');
}

/** Does this build of the gateway know handoff.transport (the Geneve transport, issue 5)? */
function gatewayHasGeneve(dir: string): boolean {
  const config = join(dir, 'probe.json');
  writeFileSync(config, JSON.stringify({ pool4: [ADDRESSES.pool4], handoff: { mode: 'full', transport: 'geneve' } }));
  return spawnSync('node', [GATEWAY_MAIN, 'run', '--config', config, '--check'], { stdio: 'ignore' }).status === 0;
}

/** Does this build of the gateway know handoff.transport bypass (issue 11)? */
function gatewayHasBypass(dir: string): boolean {
  const config = join(dir, 'probe-bypass.json');
  writeFileSync(config, JSON.stringify({ pool4: [ADDRESSES.pool4], handoff: { mode: 'full', transport: 'bypass' } }));
  return spawnSync('node', [GATEWAY_MAIN, 'run', '--config', config, '--check'], { stdio: 'ignore' }).status === 0;
}

function systems(dir: string): System[] {
  const all = [
    ours('off', 'handoff off', { mode: 'off' }),
    ours('announce', 'announce', { mode: 'announce' }),
    ours('full', 'handoff full', { mode: 'full' }),
    ours('offload', 'full, offload', { mode: 'full' }, { offload: true }),
    ours('coalesce', 'full, coalesce', { mode: 'full' }, { offload: true, coalesce: true }),
    ...(gatewayHasGeneve(dir) ? [ours('geneve', 'full, Geneve', { mode: 'full', transport: 'geneve' })] : []),
    ...(gatewayHasBypass(dir)
      ? [
          ours('bypass', 'bypass', { mode: 'full', transport: 'bypass' }),
          ours('bypass-offload', 'bypass, offload', { mode: 'full', transport: 'bypass' }, { offload: true }),
          ours('bypass-coalesce', 'bypass, coalesce', { mode: 'full', transport: 'bypass' }, { offload: true, coalesce: true }),
        ]
      : []),
    TAYGA,
  ];
  const wanted = process.env['BENCH_SYSTEMS']?.split(',');
  if (wanted === undefined) return all;
  // Only on request: handoff full with one packet per wake-up and per call into JavaScript, what the batches buy.
  const unbatched = ours('unbatched', 'full, batch 1', { mode: 'full' }, { batchSize: 1 });
  return [...all, unbatched].filter((s) => wanted.includes(s.key));
}

/** The gateway's links split UDP GSO packets themselves (software GSO) instead of passing them whole to the peer. */
function noUdpSegmentationOut(t: BenchTopology): void {
  for (const device of [t.clientLink[1], t.serverLink[0]]) t.gateway.exec('ethtool', ['-K', device, 'tx-udp-segmentation', 'off']);
}

/** Receive Packet Steering of a TUN device's received packets (what the translator writes) to the load's core. */
function steer(t: BenchTopology, device: string): void {
  rpsToLoad(t.gateway, device);
}

/**
 * Receive Packet Steering of the server's and the client's links to the load's core. A veth delivers what
 * the gateway forwards into it on the CPU that forwarded it, inside the translator's write(2), so
 * without this the far end's receive (routing, a socket's queue, a wake-up) is charged to the
 * translator: little for a datagram that dies at a routing rule, more for one delivered to a socket
 * (bypass's tunnel packets to the receiver's UDP 6081), and all of the server's TCP receive. On a real
 * network that work is another machine's. With it, the translator's core pays up to the hand-over to
 * the far end's backlog queue, as it would pay up to a NIC's queue; every system alike.
 */
function steerSinks(t: BenchTopology): void {
  rpsToLoad(t.server, t.serverLink[1]);
  rpsToLoad(t.client, t.clientLink[0]);
}

/** Our gateway's coalescing counters (packets that joined a train, trains), zeros for TAYGA. */
function coalesced(running: Running): { joined: number; trains: number } {
  if (running.control === undefined) return { joined: 0, trains: 0 };
  const stats = JSON.parse(spawnSync('node', [GATEWAY_MAIN, 'stats', '--control', running.control, '--json', '--all'], { encoding: 'utf8' }).stdout) as {
    counters: { name: string; value: number }[];
  };
  const value = (name: string) => stats.counters.find((c) => c.name === name)?.value ?? 0;
  return { joined: value('coalescedPackets'), trains: value('coalescedTrains') };
}

interface FloodRun {
  /** Forwarded packets per write(2) the translator made (1 without coalescing). */
  packetsPerWrite?: number;
  offeredPps: number;
  forwardedPps: number;
  tunDroppedPps: number;
  processNsPerPacket: number;
  coreNsPerPacket: number;
}

async function flood(t: BenchTopology, running: Running, flooder: string, f: Flood): Promise<FloodRun> {
  const before = coalesced(running);
  const run = await floodOnce(t, running, flooder, f);
  const after = coalesced(running);
  // Every packet written is one the translator made; joined ones rode in another's write.
  const joined = after.joined - before.joined;
  return { ...run, packetsPerWrite: run.forwardedTotal / Math.max(1, run.forwardedTotal - joined) };
}

async function floodOnce(t: BenchTopology, running: Running, flooder: string, f: Flood): Promise<FloodRun & { forwardedTotal: number }> {
  const from = f.direction === '6to4' ? t.client : t.server;
  const sink = f.direction === '6to4' ? { ns: t.server, device: t.serverLink[1] } : { ns: t.client, device: t.clientLink[0] };
  // IPv6 -> IPv4 goes to the server itself (its receiver sees the handoff; a routing rule drops the
  // datagrams on arrival); IPv4 -> IPv6 to the static mapping, whose client-side address is a blackhole.
  const target = f.direction === '6to4' ? ADDRESSES.serverSix : ADDRESSES.pool4;
  const payload = f.bytes - (f.direction === '6to4' ? 48 : 28);
  const rx0 = rxPackets(sink.ns, sink.device);
  const tun0 = tunKernelCounters(t.gateway, running.tun);
  if (DRAIN) return drained(t, running, flooder, f, from, sink, target, payload, rx0, tun0);
  const cpu0 = processRunSeconds(running.pid);
  const core0 = cpuBusySeconds(GATEWAY_CPU);
  const args = [target, String(SINK_PORT), String(payload), String(SECONDS), String(f.flows), '0', String(burstFor(f.flows)), String(firstPortFor(f.flows))];
  const result = await from.run('taskset', ['-c', String(LOAD_CPU), flooder, ...args], {
    timeoutMs: (SECONDS + 10) * 1000,
  });
  if (result.code !== 0) throw new Error(`flooder failed: ${result.stderr}`);
  // Let the last batches drain before reading the counters.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const rx = rxPackets(sink.ns, sink.device) - rx0;
  const tun = tunKernelCounters(t.gateway, running.tun);
  const cpu = processRunSeconds(running.pid) - cpu0;
  const core = cpuBusySeconds(GATEWAY_CPU) - core0;
  const sent = JSON.parse(result.stdout) as { sent: number; seconds: number };
  return {
    forwardedTotal: rx,
    offeredPps: sent.sent / sent.seconds,
    forwardedPps: rx / sent.seconds,
    tunDroppedPps: (tun.txDropped - tun0.txDropped) / sent.seconds,
    processNsPerPacket: (cpu * 1e9) / Math.max(1, rx),
    coreNsPerPacket: (core * 1e9) / Math.max(1, rx),
  };
}

/** BENCH_DRAIN: the flood queued while the translator is stopped, then drained; "pps" is per second of its CPU. */
async function drained(
  t: BenchTopology,
  running: Running,
  flooder: string,
  f: Flood,
  from: BenchTopology['client'],
  sink: { ns: BenchTopology['client']; device: string },
  target: string,
  payload: number,
  rx0: number,
  tun0: { txDropped: number },
): Promise<FloodRun & { forwardedTotal: number }> {
  process.kill(running.pid, 'SIGSTOP');
  let sent: { sent: number; seconds: number };
  try {
    const args = [
      target,
      String(SINK_PORT),
      String(payload),
      String(DRAIN_QUEUE_SECONDS),
      String(f.flows),
      '0',
      String(burstFor(f.flows)),
      String(firstPortFor(f.flows)),
      String(DRAIN_PACKETS),
    ];
    const result = await from.run('taskset', ['-c', String(LOAD_CPU), flooder, ...args], { timeoutMs: (DRAIN_QUEUE_SECONDS + 10) * 1000 });
    if (result.code !== 0) throw new Error(`flooder failed: ${result.stderr}`);
    sent = JSON.parse(result.stdout) as { sent: number; seconds: number };
  } finally {
    process.kill(running.pid, 'SIGCONT');
  }
  const cpu0 = processRunSeconds(running.pid);
  const core0 = cpuBusySeconds(GATEWAY_CPU);
  // Drained when the sink's counter stops moving.
  let rx = rxPackets(sink.ns, sink.device);
  for (let still = 0; still < 3; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = rxPackets(sink.ns, sink.device);
    still = now === rx ? still + 1 : 0;
    rx = now;
  }
  const forwarded = rx - rx0;
  const cpu = processRunSeconds(running.pid) - cpu0;
  const core = cpuBusySeconds(GATEWAY_CPU) - core0;
  const tun = tunKernelCounters(t.gateway, running.tun);
  return {
    forwardedTotal: forwarded,
    offeredPps: sent.sent,
    forwardedPps: forwarded / Math.max(cpu, 0.01),
    tunDroppedPps: tun.txDropped - tun0.txDropped,
    processNsPerPacket: (cpu * 1e9) / Math.max(1, forwarded),
    coreNsPerPacket: (core * 1e9) / Math.max(1, forwarded),
  };
}

interface TcpRun {
  gbps: number;
  coreBusyShare: number;
}

/** TCP segmentation offload of the client's link on or off: off, the client's stack sends segments of one MSS each. */
function clientTso(t: BenchTopology, on: boolean): void {
  t.client.exec('ethtool', ['-K', t.clientLink[0], 'tso', on ? 'on' : 'off']);
}

async function iperfTcpWithoutClientTso(t: BenchTopology): Promise<TcpRun> {
  clientTso(t, false);
  try {
    return await iperfTcp(t);
  } finally {
    clientTso(t, true);
  }
}

async function iperfTcp(t: BenchTopology): Promise<TcpRun> {
  const core0 = cpuBusySeconds(GATEWAY_CPU);
  const client = await t.client.run('taskset', ['-c', String(LOAD_CPU), 'iperf3', '-c', ADDRESSES.serverSix, '-t', String(SECONDS), '-J'], {
    timeoutMs: (SECONDS + 15) * 1000,
  });
  if (client.code !== 0) throw new Error(`iperf3 failed: ${client.stdout.slice(0, 500)} ${client.stderr}`);
  const received = (JSON.parse(client.stdout) as { end: { sum_received: { bytes: number; seconds: number } } }).end.sum_received;
  const core = cpuBusySeconds(GATEWAY_CPU) - core0;
  return { gbps: (received.bytes * 8) / received.seconds / 1e9, coreBusyShare: core / received.seconds };
}

interface SystemRuns {
  floods: FloodRun[][];
  tcp: TcpRun[];
  tcpNoTso: TcpRun[];
}

/**
 * One round of one system. The receiver is stopped (SIGSTOP) during the floods, once the warm-up has
 * handed the flows off: it shares the load's core, and over Geneve it would decapsulate every flood
 * packet there and slow the flooder, so the figure would measure the server. The floods are counted
 * on the server's link, before any receiver. TCP needs it running: over Geneve the server's stack
 * gets its packets through the receiver.
 */
async function round(t: BenchTopology, dir: string, flooder: string, system: System, into: SystemRuns, pauseReceiver: (on: boolean) => void): Promise<void> {
  const running = await system.start(t, dir);
  try {
    // Warm-up: the flows' sessions exist both ways (and are handed off), the JIT has settled.
    for (const f of FLOODS) if (f.bytes === 64) await flood(t, running, flooder, f);
    await new Promise((resolve) => setTimeout(resolve, 300));
    pauseReceiver(true);
    try {
      for (const [i, f] of FLOODS.entries()) into.floods[i]!.push(await flood(t, running, flooder, f));
    } finally {
      pauseReceiver(false);
    }
    into.tcp.push(await iperfTcp(t));
    into.tcpNoTso.push(await iperfTcpWithoutClientTso(t));
  } finally {
    await running.stop();
  }
}

function summarize(runs: SystemRuns) {
  return {
    floods: FLOODS.map((f, i) => {
      const r = runs.floods[i]!;
      return {
        ...f,
        offeredPps: spread(r.map((x) => x.offeredPps)),
        forwardedPps: spread(r.map((x) => x.forwardedPps)),
        tunDroppedPps: spread(r.map((x) => x.tunDroppedPps)),
        processNsPerPacket: spread(r.map((x) => x.processNsPerPacket)),
        coreNsPerPacket: spread(r.map((x) => x.coreNsPerPacket)),
        packetsPerWrite: spread(r.map((x) => x.packetsPerWrite ?? 1)),
        runs: r,
      };
    }),
    tcp: { gbps: spread(runs.tcp.map((x) => x.gbps)), coreBusyShare: spread(runs.tcp.map((x) => x.coreBusyShare)), runs: runs.tcp },
    tcpWithoutClientTso: {
      gbps: spread(runs.tcpNoTso.map((x) => x.gbps)),
      coreBusyShare: spread(runs.tcpNoTso.map((x) => x.coreBusyShare)),
      runs: runs.tcpNoTso,
    },
  };
}

async function main(): Promise<void> {
  const missing = ensureCommands({ gcc: 'gcc', iperf3: 'iperf3', taskset: 'util-linux', tayga: 'tayga', ethtool: 'ethtool' });
  const unavailable = labUnavailableReason([]) ?? (missing.some((c) => c !== 'tayga') ? `missing ${missing.join(', ')}` : undefined);
  if (unavailable !== undefined) {
    console.log(`gateway datapath benchmark skipped: ${unavailable}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'n64-gw-bench-'));
  const t = createBenchTopology();
  const children: { kill(): boolean }[] = [];
  try {
    const flooder = compileNative(dir, 'gateway-flood');
    const chosen = systems(dir).filter((s) => s !== TAYGA || !missing.includes('tayga'));
    // The server drops the IPv6 -> IPv4 floods as they arrive, after its interface counted them.
    dropAtServer(t, SINK_PORT);
    // UDP GSO packets (tun.coalesce) are split on leaving the gateway, on its core, so the sinks count
    // datagrams as they would arrive from a NIC without USO.
    noUdpSegmentationOut(t);
    if (SINK_RPS) steerSinks(t);
    // On every address: translated clients arrive over IPv4, bypassed ones over IPv6 (the receiver's tunnel).
    const iperfServer = t.server.spawn('taskset', ['-c', String(LOAD_CPU), 'iperf3', '-s', '--forceflush']);
    children.push(iperfServer);
    await waitForLine(iperfServer.stdout!, /Server listening/);
    // With bypass among its transports, for the gateway's bypass system; the others do not offer it.
    const receiver = await startBenchReceiver(t, LOAD_CPU, dir, [
      '--transport',
      'handoff,geneve,bypass',
      '--bypass-prefix',
      ADDRESSES.prefix,
      '--allow',
      `${ADDRESSES.pool4}/32`,
    ]);
    children.push(receiver);

    const runs = new Map<System, SystemRuns>(chosen.map((s) => [s, { floods: FLOODS.map(() => []), tcp: [], tcpNoTso: [] }]));
    for (let i = 0; i < RUNS; i++) {
      for (const system of chosen) {
        console.log(`round ${i + 1}/${RUNS}: ${system.label}`);
        await round(t, dir, flooder, system, runs.get(system)!, (on) => receiver.kill(on ? 'SIGSTOP' : 'SIGCONT'));
      }
    }
    const summaries = new Map([...runs].map(([s, r]) => [s, summarize(r)]));
    const reference = chosen.includes(TAYGA) ? summaries.get(TAYGA) : undefined;
    // Ratios to TAYGA for handoff full, with and without offload.
    const compared = reference === undefined ? [] : chosen.filter((s) => s.key === 'full' || s.key === 'offload' || s.key === 'coalesce');
    const ratios = (get: (s: ReturnType<typeof summarize>) => number) => compared.map((s) => (get(summaries.get(s)!) / get(reference!)).toFixed(2));
    /** One row: the figure `pick` chooses of each system, then its ratios to TAYGA (blank without `compare`). */
    const row = (label: string, pick: (s: ReturnType<typeof summarize>) => Spread, format: (v: number) => string, compare = true): string[] => [
      label,
      ...chosen.map((s) => spreadCell(pick(summaries.get(s)!), format)),
      ...(compare ? ratios((x) => pick(x).median) : compared.map(() => '')),
    ];
    const header = ['figure, median (min-max)', ...chosen.map((s) => s.label), ...compared.map((s) => `${s.label} / TAYGA`)];
    const rows: string[][] = [];
    const fixed = (digits: number) => (v: number) => v.toFixed(digits);
    for (const [i, f] of FLOODS.entries()) {
      rows.push(row(`${f.name}, pkt/s`, (x) => x.floods[i]!.forwardedPps, rate));
      rows.push(row('  process CPU per packet, ns', (x) => x.floods[i]!.processNsPerPacket, fixed(0)));
      rows.push(row('  packets per write (coalescing)', (x) => x.floods[i]!.packetsPerWrite, fixed(1), false));
      rows.push(row('  core busy per packet, ns', (x) => x.floods[i]!.coreNsPerPacket, fixed(0)));
    }
    rows.push(row('TCP iperf3 IPv6->IPv4, Gbit/s', (x) => x.tcp.gbps, fixed(2)));
    rows.push(row('  translator core busy share', (x) => x.tcp.coreBusyShare, fixed(2), false));
    rows.push(row('TCP IPv6->IPv4, client without TSO, Gbit/s', (x) => x.tcpWithoutClientTso.gbps, fixed(2)));
    rows.push(row('  translator core busy share', (x) => x.tcpWithoutClientTso.coreBusyShare, fixed(2), false));
    printTable(
      `NAT64 datapath side by side, ${RUNS} rounds of ${DRAIN ? `${DRAIN_PACKETS} packets queued and drained (pkt/s: per second of the translator's CPU)` : `${SECONDS} s`} per figure, translator on CPU ${GATEWAY_CPU}, load on CPU ${LOAD_CPU}${RPS ? ', RPS of the TUN to the load CPU' : ''}${SINK_RPS ? ", the far ends' receive steered to the load CPU" : ''}, ${process.version}`,
      header,
      rows,
    );
    const results = {
      rounds: RUNS,
      secondsPerRun: SECONDS,
      cpus: { translator: GATEWAY_CPU, load: LOAD_CPU },
      receivePacketSteering: RPS,
      sinkReceiveSteering: SINK_RPS,
      drained: DRAIN ? { packetsQueued: DRAIN_PACKETS, tunQueue: DRAIN_QUEUE } : false,
      systems: Object.fromEntries([...summaries].map(([s, summary]) => [s.key, { label: s.label, ...summary }])),
    };
    console.log(`written to ${writeResults('gateway-datapath', results)}`);
  } finally {
    for (const child of children) child.kill();
    t.lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
