// Store benchmark: the receiver's SQLite writes alone, in process, on one thread. Commits of 4096
// events the way the receiver's pipeline makes them (full durability, a real file), from 4
// gateways that walk their NAT ports in turn as handoff-sim does, 5 % of them taking over a port
// another client holds (a `replaced` delete before the create). Reports entries stored per second
// and the CPU per entry (user + system of this thread, which is all SQLite and binding), which
// moves far less than the rate on a shared machine. `--baseline DIR` runs the store of another
// checkout (its built packages/conntrack) in the same run, alternating rounds, for before/after.
// `--gateway-deletes` has every entry ended by its gateway (a DELETED, reason `gateway`) once
// 20,000 are open, oldest first, as a receiver in a steady state sees: a delete per create.
// `--group N` adds this checkout committing N batches per transaction, as its writer thread does
// when N pipelined commits wait for it together (group commit); it encodes the batches as commit()
// does, inside the measurement, so that both count the same work.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import type { ConnEntry, ConnEvent } from '@nat64/conntrack';
import { SERVER_ADDRESS, documentationClient } from './receiver-entries.js';
import { printTable, rate, REPOSITORY_ROOT, spread, writeResults, type Spread } from './report.js';

const BATCH = 4096;
const GATEWAYS = [0xcb007107, 0xcb007108, 0xcb007109, 0xcb00710a];
const REUSE = 0.05;
/** Entries open before `--gateway-deletes` starts ending the oldest. */
const STEADY_OPEN = 20_000;

interface Store {
  commit(events: readonly ConnEvent[], side: ReadonlyArray<readonly [string, Uint8Array | null]>): void;
  /** This checkout's writer-thread entry point (not public API). */
  commitEncodedGroup?(batches: readonly Uint8Array[], pruned: number[]): void;
  close(): void;
}
interface BatchCodec {
  encodingLength(batch: { events: readonly ConnEvent[]; side: ReadonlyArray<readonly [string, Uint8Array | null]> }): number;
  encode(batch: { events: readonly ConnEvent[]; side: ReadonlyArray<readonly [string, Uint8Array | null]> }, buf: Uint8Array, offset: number): number;
}
interface StoreModule {
  SqliteStore: { open(path: string, options: { durability: 'full' | 'normal' }): Store };
}

export interface StoreRound {
  entriesPerSecond: number;
  cpuMicrosPerEntry: number;
}

export interface StoreResult {
  code: string;
  durability: 'full' | 'normal';
  entries: number;
  rounds: StoreRound[];
  entriesPerSecond: Spread;
  cpuMicrosPerEntry: Spread;
}

/** The batches of one run, built before the clock starts. */
function batches(entries: number, gatewayDeletes: boolean): ConnEvent[][] {
  const ports = GATEWAYS.map(() => 1024);
  const held = GATEWAYS.map(() => new Map<number, ConnEntry>());
  const used: number[][] = GATEWAYS.map(() => []);
  const all: ConnEvent[][] = [];
  let events: ConnEvent[] = [];
  let at = Date.UTC(2026, 0, 1) * 1000;
  const open: Array<[gateway: number, entry: ConnEntry]> = [];
  let oldest = 0;
  for (let i = 0; i < entries; i++) {
    const g = i % GATEWAYS.length;
    const reusing = used[g]!.length > 0 && Math.random() < REUSE;
    const natPort = reusing ? used[g]![Math.floor(Math.random() * used[g]!.length)]! : ports[g]!;
    if (!reusing) {
      used[g]!.push(natPort);
      if (used[g]!.length > 4096) used[g]!.shift();
      ports[g] = natPort >= 65535 ? 1024 : natPort + 1;
    }
    const entry: ConnEntry = {
      protocol: 6,
      natAddress: GATEWAYS[g]!,
      natPort,
      clientAddress: documentationClient(i % 10_000),
      clientPort: 32768 + (i % 28_000),
      serverAddress: SERVER_ADDRESS,
      serverPort: 443,
      createdAt: at,
    };
    const previous = held[g]!.get(natPort);
    if (previous !== undefined) events.push({ kind: 'deleted', entry: previous, at, reason: 'replaced' });
    events.push({ kind: 'created', entry, at });
    held[g]!.set(natPort, entry);
    if (gatewayDeletes) {
      open.push([g, entry]);
      for (; open.length - oldest > STEADY_OPEN; oldest++) {
        const [gateway, ended] = open[oldest]!;
        if (held[gateway]!.get(ended.natPort) !== ended) continue;
        held[gateway]!.delete(ended.natPort);
        events.push({ kind: 'deleted', entry: ended, at, reason: 'gateway' });
      }
    }
    if (events.length >= BATCH) {
      all.push(events);
      events = [];
      at += 1000;
    }
  }
  if (events.length > 0) all.push(events);
  return all;
}

const SIDE: ReadonlyArray<readonly [string, Uint8Array]> = [['gateway/progress', new Uint8Array(16)]];

/** A round of `work`, committed batch by batch, or (`group` given) `group.size` encoded batches per transaction. */
function round(
  module: StoreModule,
  durability: 'full' | 'normal',
  work: ConnEvent[][],
  entries: number,
  group?: { size: number; codec: BatchCodec },
): StoreRound {
  const dir = mkdtempSync(join(tmpdir(), 'nat64-bench-store-'));
  try {
    const store = module.SqliteStore.open(join(dir, 'c.db'), { durability });
    try {
      const pruned: number[] = [];
      const cpu = process.cpuUsage();
      const start = performance.now();
      if (group === undefined) for (const events of work) store.commit(events, SIDE);
      else {
        for (let i = 0; i < work.length; i += group.size) {
          const encoded = work.slice(i, i + group.size).map((events) => encodeBatch(group.codec, events));
          store.commitEncodedGroup!(encoded, pruned);
        }
      }
      const seconds = (performance.now() - start) / 1000;
      const used = process.cpuUsage(cpu);
      return { entriesPerSecond: entries / seconds, cpuMicrosPerEntry: (used.user + used.system) / entries };
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function encodeBatch(codec: BatchCodec, events: readonly ConnEvent[]): Uint8Array {
  const batch = { events, side: SIDE };
  const bytes = new Uint8Array(codec.encodingLength(batch));
  codec.encode(batch, bytes, 0);
  return bytes;
}

export async function runStoreBenchmark(options: {
  entries: number;
  rounds: number;
  baseline: string | undefined;
  group: number;
  gatewayDeletes: boolean;
}): Promise<StoreResult[]> {
  const module = (await import('@nat64/conntrack')) as unknown as StoreModule;
  type Run = (durability: 'full' | 'normal', work: ConnEvent[][]) => StoreRound;
  const codes: Array<[string, Run]> = [['this checkout', (durability, work) => round(module, durability, work, options.entries)]];
  if (options.baseline !== undefined) {
    const url = pathToFileURL(join(resolve(options.baseline), 'packages/conntrack/dist/index.js')).href;
    const baseline = (await import(url)) as StoreModule;
    codes.unshift([`baseline (${options.baseline})`, (durability, work) => round(baseline, durability, work, options.entries)]);
  }
  if (options.group > 1) {
    const codec = (await import(pathToFileURL(join(REPOSITORY_ROOT, 'packages/conntrack/dist/sqlite/batch-codec.js')).href)) as BatchCodec;
    const group = { size: options.group, codec };
    codes.push([`this checkout, groups of ${options.group}`, (durability, work) => round(module, durability, work, options.entries, group)]);
  }
  const work = batches(options.entries, options.gatewayDeletes);
  const results: StoreResult[] = [];
  for (const durability of ['full', 'normal'] as const) {
    const rounds = codes.map((): StoreRound[] => []);
    for (let r = 0; r < options.rounds; r++) {
      for (const [i, [, run]] of codes.entries()) rounds[i]!.push(run(durability, work));
    }
    for (const [i, [code]] of codes.entries()) {
      results.push({
        code,
        durability,
        entries: options.entries,
        rounds: rounds[i]!,
        entriesPerSecond: spread(rounds[i]!.map((r) => r.entriesPerSecond)),
        cpuMicrosPerEntry: spread(rounds[i]!.map((r) => r.cpuMicrosPerEntry)),
      });
    }
  }
  return results;
}

async function main(): Promise<void> {
  const options = new Command()
    .option('--entries <count>', 'created entries per round', Number, 300_000)
    .option('--rounds <count>', 'rounds per store and durability', Number, 3)
    .option('--baseline <dir>', `another checkout, built, whose store runs beside this one (e.g. a worktree of main); paths from ${REPOSITORY_ROOT}`)
    .option('--group <count>', 'also commit this many batches per transaction, as the writer thread groups waiting commits', Number, 1)
    .option('--gateway-deletes', `end every entry by its gateway once ${STEADY_OPEN} are open (a delete per create, as in a steady state)`, false)
    .parse()
    .opts<{ entries: number; rounds: number; baseline?: string; group: number; gatewayDeletes: boolean }>();
  const results = await runStoreBenchmark({ ...options, baseline: options.baseline });
  printTable(
    `Receiver store alone: commits of ${BATCH} events (4 gateways, 5% port reuse${options.gatewayDeletes ? ', a gateway delete per create' : ''}), ${options.rounds} rounds of ${rate(options.entries)} entries; median (min-max)`,
    ['store', 'durability', 'entries/s', 'CPU µs/entry'],
    results.map((result) => [
      result.code,
      result.durability,
      `${rate(result.entriesPerSecond.median)} (${rate(result.entriesPerSecond.min)}-${rate(result.entriesPerSecond.max)})`,
      `${result.cpuMicrosPerEntry.median.toFixed(2)} (${result.cpuMicrosPerEntry.min.toFixed(2)}-${result.cpuMicrosPerEntry.max.toFixed(2)})`,
    ]),
  );
  console.log(`\nwrote ${writeResults('receiver-store', results)}`);
}

await main();
