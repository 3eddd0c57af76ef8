// Receiver benchmark: durable CREATED entries per second through the simulator, with the real
// receiver (a separate process, SQLite file, connection log file) on loopback, and ACK latency
// at saturation and at a fixed offered rate. Also the receiver's CPU time per entry.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type LoadReport } from '@nat64/handoff-sim';
import { printTable, rate, REPOSITORY_ROOT, writeResults } from './report.js';

const RECEIVER = join(REPOSITORY_ROOT, 'apps/receiver/dist/main.js');
const GATEWAYS = [0x7f000007, 0x7f000008, 0x7f000009, 0x7f00000a];
const TICKS_PER_SECOND = 100;

interface Case {
  durability: 'full' | 'normal';
  rate: number;
  count: number;
}

export interface ReceiverResult extends Case {
  report: LoadReport;
  receiverCpuMicrosPerEntry: number;
}

function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
}

async function runCase(testCase: Case): Promise<ReceiverResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nat64-bench-receiver-'));
  const child = spawn('node', [RECEIVER, 'run', '--listen', '127.0.0.1', '--port', '0', '--db', join(dir, 'c.db'), '--conn-log', join(dir, 'c.log'), '--control', join(dir, 'c.sock'), '--durability', testCase.durability], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    let stderr = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /"listen":\["127\.0\.0\.1:(\d+)"\]/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`receiver exited with ${code}: ${stderr}`)));
    });
    const cpuBefore = cpuMicros(child.pid!);
    const report = await runLoad({ receiverAddress: '127.0.0.1', receiverPort: port, localPort: 0, gateways: GATEWAYS, count: testCase.count, rate: testCase.rate, clients: 10_000, reuse: 0.05, serverAddress: 0xc633640a });
    const receiverCpuMicrosPerEntry = (cpuMicros(child.pid!) - cpuBefore) / testCase.count;
    return { ...testCase, report, receiverCpuMicrosPerEntry };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runReceiverBenchmark(): Promise<ReceiverResult[]> {
  const cases: Case[] = [
    { durability: 'full', rate: 0, count: 300_000 },
    { durability: 'normal', rate: 0, count: 300_000 },
    { durability: 'full', rate: 50_000, count: 150_000 },
    { durability: 'full', rate: 20_000, count: 60_000 },
  ];
  const results: ReceiverResult[] = [];
  for (const testCase of cases) results.push(await runCase(testCase));
  return results;
}

async function main(): Promise<void> {
  const results = await runReceiverBenchmark();
  printTable(
    'Receiver: durable CREATED entries through handoff-sim (4 gateways, 5% port reuse, SQLite, log file)',
    ['durability', 'offered', 'stored+acked/s', 'ACK p50 ms', 'ACK p99 ms', 'receiver CPU µs/entry', 'retransmissions'],
    results.map((result) => [
      result.durability,
      result.rate === 0 ? 'saturation' : `${rate(result.rate)}/s`,
      rate(result.report.entriesPerSecond),
      result.report.ackLatencyMs.p50.toFixed(1),
      result.report.ackLatencyMs.p99.toFixed(1),
      result.receiverCpuMicrosPerEntry.toFixed(2),
      String(result.report.retransmissions),
    ]),
  );
  console.log(`\nwrote ${writeResults('receiver', results)}`);
}

await main();
