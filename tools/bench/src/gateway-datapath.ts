// Benchmark of the gateway's datapath on the namespace topology (gateway-lab.ts), with the real
// nat64-gateway pinned to one core and the load on the other:
//   - forwarded packets per second of 64-byte UDP packets at saturation, IPv6 -> IPv4 and IPv4 -> IPv6,
//     sent by a small sendmmsg flooder (native/gateway-flood.c, compiled with gcc into a temp dir);
//   - CPU per forwarded packet: the gateway process's own CPU time, and its core's busy time (which
//     includes the kernel's forwarding of what the gateway writes);
//   - TCP throughput with iperf3.
// Each figure is measured over several runs (min / median / max); a table is printed and the JSON is
// written to bench-results/. Not a test: run it as root with `node tools/bench/dist/gateway-datapath.js`.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitForLine } from '@nat64/netlab';
import {
  ADDRESSES,
  GATEWAY_MAIN,
  REPO,
  compileNative,
  cpuBusySeconds,
  createBenchTopology,
  processCpuSeconds,
  rxPackets,
  startBenchGateway,
  tunKernelCounters,
  type BenchTopology,
} from './gateway-lab.js';

const GATEWAY_CPU = 1;
const LOAD_CPU = 0;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const FLOWS = 16;
/** 64-byte packets on the input side: IPv6 40 + UDP 8 + 16, IPv4 20 + UDP 8 + 36. */
const PAYLOAD_6 = 16;
const PAYLOAD_4 = 36;
const SINK_PORT = 9;
/**
 * BENCH_RPS=1: let the load's core do the kernel's forwarding of what the gateway writes (Receive
 * Packet Steering on the TUN device), as an operator can on a multi-core box. Off by default.
 */
const RPS = process.env['BENCH_RPS'] === '1';

interface Stat {
  min: number;
  median: number;
  max: number;
  runs: number[];
}

function stat(values: number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)!, runs: values };
}

interface FloodRun {
  /** Packets per read batch the gateway saw (its TUN counters). */
  packetsPerBatch: number;
  offeredPps: number;
  forwardedPps: number;
  tunDroppedPps: number;
  processNsPerPacket: number;
  coreNsPerPacket: number;
}


/** The gateway's TUN read counters, through its control socket; zeros for TAYGA. */
function readCounters(control: string | undefined): { packets: number; batches: number } {
  if (control === undefined) return { packets: 0, batches: 0 };
  const lines = JSON.parse(execFileSync('node', [GATEWAY_MAIN, 'stats', '--control', control, '--json', '--all'], { encoding: 'utf8' })) as {
    group: string;
    name: string;
    value: number;
  }[];
  const value = (name: string) => lines.find((l) => l.group === 'tun' && l.name === name)?.value ?? 0;
  return { packets: value('rxPackets'), batches: value('rxBatches') };
}

async function flood(
  t: BenchTopology,
  gatewayPid: number,
  flooder: string,
  direction: '6to4' | '4to6',
  tun = 'nat64',
  control?: string,
): Promise<FloodRun> {
  const reads0 = readCounters(control);
  const from = direction === '6to4' ? t.client : t.server;
  const sink = direction === '6to4' ? { ns: t.server, device: t.serverLink[1] } : { ns: t.client, device: t.clientLink[0] };
  const target = direction === '6to4' ? ADDRESSES.serverSinkSix : ADDRESSES.pool4;
  const payload = direction === '6to4' ? PAYLOAD_6 : PAYLOAD_4;
  const rx0 = rxPackets(sink.ns, sink.device);
  const tun0 = tunKernelCounters(t.gateway, tun);
  const cpu0 = processCpuSeconds(gatewayPid);
  const core0 = cpuBusySeconds(GATEWAY_CPU);
  const result = await from.run('taskset', ['-c', String(LOAD_CPU), flooder, target, String(SINK_PORT), String(payload), String(SECONDS), String(FLOWS)], {
    timeoutMs: (SECONDS + 10) * 1000,
  });
  // Let the last batches drain before reading the counters.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const rx = rxPackets(sink.ns, sink.device) - rx0;
  const tunAfter = tunKernelCounters(t.gateway, tun);
  const cpu = processCpuSeconds(gatewayPid) - cpu0;
  const core = cpuBusySeconds(GATEWAY_CPU) - core0;
  const sent = JSON.parse(result.stdout) as { sent: number; seconds: number };
  const reads = readCounters(control);
  return {
    packetsPerBatch: (reads.packets - reads0.packets) / Math.max(1, reads.batches - reads0.batches),
    offeredPps: sent.sent / sent.seconds,
    forwardedPps: rx / sent.seconds,
    tunDroppedPps: (tunAfter.txDropped - tun0.txDropped) / sent.seconds,
    processNsPerPacket: (cpu * 1e9) / Math.max(1, rx),
    coreNsPerPacket: (core * 1e9) / Math.max(1, rx),
  };
}

async function iperfTcp(t: BenchTopology, gatewayPid: number): Promise<{ gbps: number; processNsPerPacket: number; coreCpuShare: number }> {
  const cpu0 = processCpuSeconds(gatewayPid);
  const core0 = cpuBusySeconds(GATEWAY_CPU);
  const client = await t.client.run('taskset', ['-c', String(LOAD_CPU), 'iperf3', '-c', ADDRESSES.serverSix, '-t', String(SECONDS), '-J'], {
    timeoutMs: (SECONDS + 15) * 1000,
  });
  const report = JSON.parse(client.stdout) as { end: { sum_received: { bytes: number; seconds: number } } };
  const received = report.end.sum_received;
  const cpu = processCpuSeconds(gatewayPid) - cpu0;
  const core = cpuBusySeconds(GATEWAY_CPU) - core0;
  // Roughly one 1500-byte packet per 1448 bytes of payload, plus the ACKs going back.
  const packets = received.bytes / 1448;
  return { gbps: (received.bytes * 8) / received.seconds / 1e9, processNsPerPacket: (cpu * 1e9) / packets, coreCpuShare: core / received.seconds };
}

/**
 * The same IPv6 -> IPv4 flood through TAYGA (stateless NAT64 over TUN, the usual reference) on the same
 * topology and core, when it is installed: the figure to compare with. The client gets a dynamic IPv4
 * address from 198.51.100.0/24.
 */
async function tayga(t: BenchTopology, dir: string, flooder: string): Promise<FloodRun[] | undefined> {
  try {
    execFileSync('sh', ['-c', 'command -v tayga'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const config = join(dir, 'tayga.conf');
  mkdirSync(join(dir, 'tayga'), { recursive: true });
  writeFileSync(
    config,
    [`tun-device tayga64`, `ipv4-addr 198.51.100.254`, `prefix ${ADDRESSES.prefix}`, `dynamic-pool 198.51.100.0/25`, `data-dir ${join(dir, 'tayga')}`, ''].join('\n'),
  );
  t.gateway.exec('tayga', ['--config', config, '--mktun']);
  t.gateway.ip('link', 'set', 'tayga64', 'up');
  if (RPS) steer(t, 'tayga64');
  t.gateway.ip('-6', 'route', 'replace', ADDRESSES.prefix, 'dev', 'tayga64');
  t.gateway.ip('route', 'replace', '198.51.100.0/25', 'dev', 'tayga64');
  t.server.ip('route', 'replace', '198.51.100.0/25', 'via', ADDRESSES.gatewayFour);
  const child = t.gateway.spawn('taskset', ['-c', String(GATEWAY_CPU), 'tayga', '--config', config, '--nodetach']);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const runs: FloodRun[] = [];
  try {
    await flood(t, child.pid!, flooder, '6to4', 'tayga64');
    for (let i = 0; i < RUNS; i++) runs.push(await flood(t, child.pid!, flooder, '6to4', 'tayga64'));
  } finally {
    child.kill('SIGTERM');
  }
  return runs;
}

/** Receive Packet Steering of a TUN device's received packets (what the translator writes) to the load's core. */
function steer(t: BenchTopology, device: string): void {
  t.gateway.exec('sh', ['-c', `echo ${(1 << LOAD_CPU).toString(16)} > /sys/class/net/${device}/queues/rx-0/rps_cpus`]);
}

function pad(text: string, width: number): string {
  return text.padEnd(width);
}

function row(name: string, s: Stat, unit: string, digits = 0): string {
  const f = (v: number) => v.toFixed(digits);
  return `${pad(name, 44)} ${pad(f(s.min), 10)} ${pad(f(s.median), 10)} ${pad(f(s.max), 10)} ${unit}`;
}

async function main(): Promise<void> {
  const unavailable = labUnavailableReason(['gcc', 'iperf3', 'taskset']);
  if (unavailable !== undefined) {
    console.log(`gateway benchmark skipped: ${unavailable}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'n64-gw-bench-'));
  const t = createBenchTopology();
  try {
    const flooder = compileNative(dir, 'gateway-flood');
    const config = join(dir, 'gateway.json');
    writeFileSync(
      config,
      JSON.stringify({
        tun: { name: 'nat64' },
        prefix: ADDRESSES.prefix,
        pool4: [ADDRESSES.pool4],
        // The IPv4 -> IPv6 flood reaches the client-side sink through this mapping.
        staticBib: [{ protocol: 'udp', ipv6: `[${ADDRESSES.clientSink}]:${SINK_PORT}`, ipv4: `${ADDRESSES.pool4}:${SINK_PORT}` }],
        // The plain NAT64, comparable with TAYGA; gateway-handoff.ts measures what handoff adds.
        handoff: { mode: 'off' },
        logLevel: 'info',
        statsInterval: '0s',
      }),
    );
    const gateway = await startBenchGateway(t, GATEWAY_CPU, config, join(dir, 'control.sock'));
    if (RPS) steer(t, 'nat64');
    const iperfServer = t.server.spawn('taskset', ['-c', String(LOAD_CPU), 'iperf3', '-s', '-B', ADDRESSES.server, '--forceflush']);
    await waitForLine(iperfServer.stdout!, /Server listening/);

    // Warm-up: sessions exist and the JIT has settled before anything is measured.
    const control = join(dir, 'control.sock');
    await flood(t, gateway.pid, flooder, '6to4', 'nat64', control);
    const runs64: FloodRun[] = [];
    const runs46: FloodRun[] = [];
    const tcp: Awaited<ReturnType<typeof iperfTcp>>[] = [];
    for (let i = 0; i < RUNS; i++) runs64.push(await flood(t, gateway.pid, flooder, '6to4', 'nat64', control));
    for (let i = 0; i < RUNS; i++) runs46.push(await flood(t, gateway.pid, flooder, '4to6', 'nat64', control));
    for (let i = 0; i < RUNS; i++) tcp.push(await iperfTcp(t, gateway.pid));
    iperfServer.kill();
    await gateway.stop();
    const taygaRuns = await tayga(t, dir, flooder);

    const results = {
      date: new Date().toISOString(),
      node: process.version,
      runs: RUNS,
      secondsPerRun: SECONDS,
      cpus: { gateway: GATEWAY_CPU, load: LOAD_CPU },
      receivePacketSteering: RPS,
      udp64: {
        packetsPerBatch: stat(runs64.map((r) => r.packetsPerBatch)),
        offeredPps: stat(runs64.map((r) => r.offeredPps)),
        forwardedPps: stat(runs64.map((r) => r.forwardedPps)),
        tunDroppedPps: stat(runs64.map((r) => r.tunDroppedPps)),
        processNsPerPacket: stat(runs64.map((r) => r.processNsPerPacket)),
        coreNsPerPacket: stat(runs64.map((r) => r.coreNsPerPacket)),
      },
      udp46: {
        packetsPerBatch: stat(runs46.map((r) => r.packetsPerBatch)),
        offeredPps: stat(runs46.map((r) => r.offeredPps)),
        forwardedPps: stat(runs46.map((r) => r.forwardedPps)),
        tunDroppedPps: stat(runs46.map((r) => r.tunDroppedPps)),
        processNsPerPacket: stat(runs46.map((r) => r.processNsPerPacket)),
        coreNsPerPacket: stat(runs46.map((r) => r.coreNsPerPacket)),
      },
      tayga:
        taygaRuns === undefined
          ? null
          : {
              offeredPps: stat(taygaRuns.map((r) => r.offeredPps)),
              forwardedPps: stat(taygaRuns.map((r) => r.forwardedPps)),
              processNsPerPacket: stat(taygaRuns.map((r) => r.processNsPerPacket)),
              coreNsPerPacket: stat(taygaRuns.map((r) => r.coreNsPerPacket)),
            },
      tcp: {
        gbps: stat(tcp.map((r) => r.gbps)),
        processNsPerPacket: stat(tcp.map((r) => r.processNsPerPacket)),
        gatewayCoreBusyShare: stat(tcp.map((r) => r.coreCpuShare)),
      },
    };
    const lines = [
      `nat64-gateway datapath, ${RUNS} runs of ${SECONDS} s, gateway on CPU ${GATEWAY_CPU}, load on CPU ${LOAD_CPU}${RPS ? ', RPS of the TUN to the load CPU' : ''}, ${process.version}`,
      `${pad('', 44)} ${pad('min', 10)} ${pad('median', 10)} ${pad('max', 10)}`,
      row('UDP 64 B IPv6->IPv4 offered', results.udp64.offeredPps, 'pkt/s'),
      row('UDP 64 B IPv6->IPv4 forwarded', results.udp64.forwardedPps, 'pkt/s'),
      row('  dropped at the TUN queue (gateway too slow)', results.udp64.tunDroppedPps, 'pkt/s'),
      row('  gateway process CPU per packet', results.udp64.processNsPerPacket, 'ns'),
      row('  gateway core busy time per packet', results.udp64.coreNsPerPacket, 'ns'),
      row('  packets per read batch', results.udp64.packetsPerBatch, '', 1),
      row('UDP 64 B IPv4->IPv6 offered', results.udp46.offeredPps, 'pkt/s'),
      row('UDP 64 B IPv4->IPv6 forwarded', results.udp46.forwardedPps, 'pkt/s'),
      row('  dropped at the TUN queue (gateway too slow)', results.udp46.tunDroppedPps, 'pkt/s'),
      row('  gateway process CPU per packet', results.udp46.processNsPerPacket, 'ns'),
      row('  gateway core busy time per packet', results.udp46.coreNsPerPacket, 'ns'),
      row('  packets per read batch', results.udp46.packetsPerBatch, '', 1),
      ...(results.tayga === null
        ? ['TAYGA not installed: no reference figures']
        : [
            row('TAYGA UDP 64 B IPv6->IPv4 offered', results.tayga.offeredPps, 'pkt/s'),
            row('TAYGA UDP 64 B IPv6->IPv4 forwarded', results.tayga.forwardedPps, 'pkt/s'),
            row('  TAYGA process CPU per packet', results.tayga.processNsPerPacket, 'ns'),
            row('  TAYGA core busy time per packet', results.tayga.coreNsPerPacket, 'ns'),
          ]),
      row('TCP (iperf3, IPv6 client -> IPv4 server)', results.tcp.gbps, 'Gbit/s', 2),
      row('  gateway core busy share', results.tcp.gatewayCoreBusyShare, '', 2),
    ];
    console.log(lines.join('\n'));
    const out = join(REPO, 'bench-results');
    mkdirSync(out, { recursive: true });
    const file = join(out, `gateway-datapath-${results.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`written to ${file}`);
  } finally {
    t.lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
