// What handoff costs a new session in process, without a kernel: the gateway's engine with handoff off
// and with handoff full over handoff messages, new UDP sessions in batches of 64 through
// Engine.handleBatch, and in full an in-process receiver that answers the HELLO and acknowledges every
// CREATED at once, its ACKs arriving in the next batch as IPv4 packets, as they do on a device. The
// output goes nowhere (a sink that counts). Both modes alternate in one process, so the difference is
// the hand-off's own JavaScript: the entries, the datagrams, the ACKs and the timer work at batch ends.
// Not a test: node tools/bench/dist/handoff-engine.js (BENCH_RUNS, default 5; BENCH_SESSIONS per run;
// BENCH_MODES=off,full; BENCH_BATCH_SESSIONS=N: batches of N sessions, each the last of its burst, as
// at a moderate rate on a device, where the default is bursts of full batches; BENCH_ARMED=1: the memory
// of evicted flows holds a flow, as on a busy gateway in mode full whose cache evicts, so that every new
// flow is offered to the client-miss handler before the table makes it; BENCH_BASELINE=DIR adds
// mode full with the engine and handoff built in checkout DIR, say a worktree of main, in the same
// process and rounds, for a before/after).

import { join } from 'node:path';
import * as ownEngine from '@nat64/gateway-engine';
import * as ownHandoff from '@nat64/gateway-handoff';
import { Capability, HANDOFF_PORT, HANDOFF_VERSION, MessageType, ReceiverFlag, datagram, type HandoffMessage } from '@nat64/handoff-codec';
import { silentLogger } from '@nat64/service';
import { finishUdpChecksum, internetChecksum, sumWords } from '@nat64/wire';
import type { RxBatch } from '@nat64/tun';
import { CLIENT_PACKET_BYTES, writeClientPacket } from './client-packet.js';
import { engineSettings, handoffSettings } from './engine-settings.js';
import { printTable, rate, spread, writeResults } from './report.js';

const BATCH = 64;
const SLOT = 1536;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const SESSIONS = Number(process.env['BENCH_SESSIONS'] ?? 400_000);
/** Batches in a burst: the last one is short (the queue read empty), as a device's would be. */
const BURST = 4;
/** BENCH_BATCH_SESSIONS=N: every batch holds N new sessions and reads the queue empty, as at a moderate rate (about 12 at 20 k/s on the device). */
const BATCH_SESSIONS = Number(process.env['BENCH_BATCH_SESSIONS'] ?? 0);
/** BENCH_ARMED=1: the memory of evicted flows is not empty (ClientMissHandler.armed). */
const ARMED = process.env['BENCH_ARMED'] === '1';
const SERVER = (203 << 24) | (0 << 16) | (113 << 8) | 99;
const COOKIE = 0x8899aabbccddeeffn;

/** `payload` as an IPv4 UDP packet from the server's port 62863 to natAddress:62863, written at `at` in `out`; returns its length. */
function reply4(out: Uint8Array, at: number, natAddress: number, payload: Uint8Array, length: number): number {
  const total = 28 + length;
  out.fill(0, at, at + 28);
  out[at] = 0x45;
  out[at + 2] = total >> 8;
  out[at + 3] = total & 0xff;
  out[at + 8] = 64;
  out[at + 9] = 17;
  const w32 = (o: number, v: number) => {
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
  };
  w32(at + 12, SERVER >>> 0);
  w32(at + 16, natAddress);
  const ip = internetChecksum(out, at, at + 20);
  out[at + 10] = ip >> 8;
  out[at + 11] = ip & 0xff;
  out[at + 20] = HANDOFF_PORT >> 8;
  out[at + 21] = HANDOFF_PORT & 0xff;
  out[at + 22] = HANDOFF_PORT >> 8;
  out[at + 23] = HANDOFF_PORT & 0xff;
  out[at + 24] = (8 + length) >> 8;
  out[at + 25] = (8 + length) & 0xff;
  out.set(payload.subarray(0, length), at + 28);
  let sum = 17 + 8 + length;
  for (let i = at + 12; i < at + 20; i += 2) sum += (out[i]! << 8) | out[i + 1]!;
  const udp = finishUdpChecksum(sumWords(out, at + 20, at + total, sum));
  out[at + 26] = udp >> 8;
  out[at + 27] = udp & 0xff;
  return total;
}

/**
 * The receiver on the server: HELLO-ACK to every HELLO, an ACK of every CREATED, queued as IPv4 packets
 * for the next batch. The sink only notes what came (inside the measured batch, in both modes); the
 * answers are made between batches, outside the gateway's measured time.
 */
class InstantReceiver {
  readonly pending: { natAddress: number; payload: Uint8Array; length: number }[] = [];
  private readonly noted: { natAddress: number; type: number; sequence: number; epoch: bigint }[] = [];
  private readonly scratch = new Uint8Array(256);
  /** Receive cumulative number per NAT address and epoch (section 6.3). */
  private readonly cumulative = new Map<string, number>();

  sink(buffer: Uint8Array, offsets: Uint32Array, _lengths: Uint32Array, count: number): number {
    for (let i = 0; i < count; i++) {
      const at = offsets[i]!;
      if (buffer[at]! >>> 4 !== 4 || buffer[at + 9] !== 17 || ((buffer[at + 22]! << 8) | buffer[at + 23]!) !== HANDOFF_PORT) continue;
      const view = new DataView(buffer.buffer, buffer.byteOffset + at);
      this.noted.push({ natAddress: view.getUint32(12), type: buffer[at + 29]!, sequence: view.getUint32(28 + 24), epoch: view.getBigUint64(28 + 8) });
    }
    return count;
  }

  /** Answers what the gateway sent. */
  answer(): void {
    for (const { natAddress, type, sequence, epoch } of this.noted.splice(0)) {
      const header = { version: HANDOFF_VERSION, flags: 0, epoch, cookie: COOKIE } as const;
      if (type === MessageType.HELLO) {
        this.queue(natAddress, {
          ...header,
          type: MessageType.HELLO_ACK,
          sequence,
          receiverFlags: ReceiverFlag.AUTHORITATIVE,
          capabilities: Capability.HANDOFF_V1,
          window: 256,
        });
      } else if (type === MessageType.CREATED || type === MessageType.DELETED) {
        const key = `${natAddress}/${epoch}`;
        if (sequence === (this.cumulative.get(key) ?? 0) + 1) this.cumulative.set(key, sequence);
        this.queue(natAddress, { ...header, type: MessageType.ACK, sequence: 0, cumulative: this.cumulative.get(key) ?? 0, blocks: [] });
      }
    }
  }

  private queue(natAddress: number, message: HandoffMessage): void {
    const length = datagram.encode(message, this.scratch, 0);
    this.pending.push({ natAddress, payload: this.scratch.slice(0, length), length });
  }
}

interface Run {
  usPerSession: number;
  handedOff: number;
}

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

function run(build: Build, mode: 'off' | 'full', round: number): Run {
  const { buildEngine, Handoff } = build;
  const parts = buildEngine(engineSettings(16, { maxSessions: 4_000_000, maxSessionsPerClient: 100_000 }), { maxInputSize: SLOT, inputBatchSize: BATCH });
  const receiver = new InstantReceiver();
  parts.engine.setSink({ writeBatch: (b, o, l, c) => receiver.sink(b, o, l, c) });
  const handoff = mode === 'off' ? null : new Handoff(parts, handoffSettings({ mode: 'full', transport: 'handoff' }), { logger: silentLogger() });
  handoff?.start(0);
  // A flow of a client no run uses, evicted earlier.
  if (ARMED) handoff?.evictedFlows.remember(17, new Uint8Array(16).fill(0xfe), 0, 1, SERVER >>> 0, 53, engineSettings(1).pool4[0]!.address);
  const rx: RxBatch = { buffer: Buffer.alloc(BATCH * SLOT), slotSize: SLOT, batchSize: BATCH, lengths: new Uint32Array(BATCH), vnet: null };
  let n = 0;
  let sessionsInBatch = 0;
  let batches = 0;
  let cpu = 0;
  const clients = Math.ceil(SESSIONS / 1000);
  const handle = (count: number) => {
    batches++;
    const t0 = process.cpuUsage();
    parts.engine.handleBatch(rx, count);
    const d = process.cpuUsage(t0);
    cpu += d.user + d.system;
    receiver.answer();
  };
  for (let c = 0; c < clients; c++) {
    for (let p = 0; p < 1000; p++) {
      // ACKs queued by the receiver arrive first in the batch, as IPv4 packets.
      if (n === 0) {
        while (receiver.pending.length > 0 && n < BATCH / 2) {
          const r = receiver.pending.shift()!;
          rx.lengths[n] = reply4(rx.buffer, n * SLOT, r.natAddress, r.payload, r.length);
          n++;
        }
      }
      const at = n * SLOT;
      writeClientPacket(rx.buffer, at, round, c, 10_000 + p); // 2001:db8:1:<round>::<c>: new clients every run
      rx.lengths[n] = CLIENT_PACKET_BYTES;
      n++;
      sessionsInBatch++;
      // Every BURST-th batch is short: it read the queue empty, so the datapath goes idle after it.
      const limit = batches % BURST === BURST - 1 ? BATCH - 8 : BATCH;
      if (BATCH_SESSIONS > 0 ? sessionsInBatch >= BATCH_SESSIONS : n >= limit) {
        handle(n);
        n = 0;
        sessionsInBatch = 0;
      }
    }
  }
  if (n > 0) handle(n);
  // What is still unacknowledged: the last ACKs.
  while (receiver.pending.length > 0) {
    n = 0;
    while (receiver.pending.length > 0 && n < BATCH) {
      const r = receiver.pending.shift()!;
      rx.lengths[n] = reply4(rx.buffer, n * SLOT, r.natAddress, r.payload, r.length);
      n++;
    }
    handle(n);
  }
  const sessions = parts.table.sessionCount;
  const handedOff = handoff === null ? 0 : handoff.agent.counters.get('entriesHandedOff');
  handoff?.stop();
  return { usPerSession: cpu / sessions, handedOff: handedOff / sessions };
}

async function main(): Promise<void> {
  const own: Build = { buildEngine: ownEngine.buildEngine, Handoff: ownHandoff.Handoff };
  // BENCH_MODES=full (or off) runs one mode alone, e.g. to profile it.
  const modes = (process.env['BENCH_MODES'] ?? 'off,full').split(',').filter((m) => m === 'off' || m === 'full');
  const systems: { key: string; build: Build; mode: 'off' | 'full' }[] = modes.map((mode) => ({ key: mode, build: own, mode: mode as 'off' | 'full' }));
  if (BASELINE !== undefined) systems.push({ key: 'full, baseline', build: await baselineBuild(BASELINE), mode: 'full' });
  const all = new Map(systems.map((system) => [system.key, [] as Run[]]));
  for (let round = 0; round < RUNS; round++) {
    for (const system of round % 2 === 0 ? systems : [...systems].reverse()) all.get(system.key)!.push(run(system.build, system.mode, (round % 200) + 1));
  }
  const us = (runs: Run[]) => spread(runs.map((r) => r.usPerSession));
  const off = all.has('off') ? us(all.get('off')!) : undefined;
  const cell = (key: string) => {
    const s = us(all.get(key)!);
    return `${s.median.toFixed(3)} us (${s.min.toFixed(3)}-${s.max.toFixed(3)})`;
  };
  const more = (key: string) => {
    if (off === undefined || key === 'off') return '-';
    const m = us(all.get(key)!).median;
    return `+${(m - off.median).toFixed(3)} us (${(((m - off.median) / off.median) * 100).toFixed(0)} %)`;
  };
  printTable(
    `nat64-gateway in process, new UDP sessions through the engine (${rate(SESSIONS)} per run, ${RUNS} runs per system, alternating), handoff full acknowledged at once by an in-process receiver, medians (min-max)`,
    ['system', 'CPU per new session', 'more than off', 'entries handed off per session'],
    systems.map((system) => [
      system.key,
      cell(system.key),
      more(system.key),
      system.mode === 'off' ? '-' : spread(all.get(system.key)!.map((r) => r.handedOff)).median.toFixed(3),
    ]),
  );
  const results = Object.fromEntries(systems.map((system) => [system.key, { usPerSession: us(all.get(system.key)!), runs: all.get(system.key) }]));
  console.log(`written to ${writeResults('handoff-engine', { runs: RUNS, sessionsPerRun: SESSIONS, baseline: BASELINE ?? null, ...results })}`);
}

await main();
