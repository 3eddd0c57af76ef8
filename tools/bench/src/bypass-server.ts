// The server side of NAT64 bypass: TCP throughput and the receiver's CPU per frame through a
// tunnel, with iperf3 in both directions. The gateway end is tools/bypass-peer, also JavaScript
// per frame, so the figure bounds the pair, not the receiver alone; the receiver's CPU per frame
// is its own share.
//
//   client 2001:db8:1::2 ---veth--- gateway: bypass-peer (TAP bpgw <-> Geneve) ---veth--- server 203.0.113.2
//   iperf3 -c 2001:db8:64::cb00:7102                                                      nat64-receiver --transport bypass
//                                                                                          iperf3 -s on ::
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NAT64_ADDRESSES, createNat64Topology, waitFor, waitForLine } from '@nat64/netlab';
import { processCpuSeconds, REPO, RECEIVER_MAIN } from './gateway-lab.js';
import { machine, printTable, writeResults } from './report.js';

const PEER_MAIN = join(REPO, 'tools/bypass-peer/dist/main.js');
const SECONDS = 5;
const a = NAT64_ADDRESSES;

interface Run {
  direction: string;
  mbps: number;
  frames: number;
  receiverCpuSeconds: number;
  microsecondsPerFrame: number;
  /** Frames from the gateway that entered the TAP device inside a larger segment (receive coalescing). */
  framesCoalesced: number;
}

async function main(): Promise<void> {
  const t = createNat64Topology('bpbench');
  const dir = mkdtempSync(join(tmpdir(), 'n64-bypass-bench-'));
  try {
    const control = join(dir, 'receiver.sock');
    const receiver = t.server.spawn('node', [
      RECEIVER_MAIN,
      'run',
      '--listen',
      a.server,
      '--transport',
      'bypass',
      '--bypass-prefix',
      a.prefix,
      '--allow',
      a.gatewayFour,
      '--db',
      join(dir, 'receiver.db'),
      '--conn-log',
      '/dev/null',
      '--control',
      control,
      '--log-level',
      'warn',
    ]);
    receiver.stderr!.resume();
    await waitFor('the receiver', () => t.server.run('test', ['-S', control]).then((result) => result.code === 0));
    const peer = t.gateway.spawn('node', [
      PEER_MAIN,
      'bridge',
      '--server',
      a.server,
      '--local',
      a.gatewayFour,
      '--prefix',
      a.prefix,
      '--persistent-secret',
      '00'.repeat(32),
      '--transient-secret',
      '11'.repeat(32),
      '--message',
      'bench',
    ]);
    await waitForLine(peer.stdout!, /"icmpv6Type":136/, 10_000);
    peer.stdout!.resume();
    const iperf = t.server.spawn('iperf3', ['-s', '-B', '::', '--forceflush']);
    await waitForLine(iperf.stdout!, /Server listening/, 10_000);
    iperf.stdout!.resume();
    const frames = async () => {
      const stats = JSON.parse((await t.server.run('node', [RECEIVER_MAIN, 'stats', '--control', control, '--json', '--all'])).stdout) as {
        counters: { name: string; value: number }[];
      };
      // 0 for a counter a receiver build does not have (bypassFramesCoalesced before receive coalescing).
      const value = (name: string) => stats.counters.find((counter) => counter.name === name)?.value ?? 0;
      return { total: value('bypassFramesIn') + value('bypassFramesOut'), coalesced: value('bypassFramesCoalesced') };
    };
    const runs: Run[] = [];
    for (const [direction, extra] of [
      ['client to server', []],
      ['server to client', ['-R']],
    ] as const) {
      const framesBefore = await frames();
      const cpuBefore = processCpuSeconds(receiver.pid!);
      const result = await t.client.run('iperf3', ['-c', a.serverSix, '-t', String(SECONDS), '-J', ...extra], { timeoutMs: (SECONDS + 30) * 1000 });
      if (result.code !== 0) throw new Error(`iperf3 failed: ${result.stdout.slice(0, 500)} ${result.stderr}`);
      const report = JSON.parse(result.stdout) as { end: { sum_received: { bits_per_second: number } } };
      const cpu = processCpuSeconds(receiver.pid!) - cpuBefore;
      const framesAfter = await frames();
      const count = framesAfter.total - framesBefore.total;
      runs.push({
        direction,
        mbps: report.end.sum_received.bits_per_second / 1e6,
        frames: count,
        receiverCpuSeconds: cpu,
        microsecondsPerFrame: (cpu / count) * 1e6,
        framesCoalesced: framesAfter.coalesced - framesBefore.coalesced,
      });
    }
    printTable(
      `NAT64 bypass, server side: TCP through nat64-receiver --transport bypass and bypass-peer, iperf3 ${SECONDS} s each way`,
      ['direction', 'Mbit/s', 'frames (both ways)', 'coalesced', 'receiver CPU s', 'receiver µs/frame'],
      runs.map((run) => [
        run.direction,
        run.mbps.toFixed(0),
        String(run.frames),
        String(run.framesCoalesced),
        run.receiverCpuSeconds.toFixed(2),
        run.microsecondsPerFrame.toFixed(1),
      ]),
    );
    writeResults('bypass-server', { machine: machine(), seconds: SECONDS, runs });
  } finally {
    t.lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
