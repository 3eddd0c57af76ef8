// Retention benchmark: whether pruning the history keeps up with ingest, and what it does to commit
// latency. In process, on the receiver's store (SqliteStore on its writer thread, a real file, full
// durability) and its table, fed batches of 4096 creates the way the receiver commits them, up to
// four in flight. The table is full, so every create ends an older entry: each phase ends history
// rows as fast as it ingests, the steady state of a receiver whose history is past its retention.
// Retention runs on the receiver's schedule (a run per 1 s tick, which moves the bound the commits
// prune to); with a retention of 0 every row ended before a run is due for deletion, so the pruned
// rate must match the ingest rate, and what is left unpruned stays about one tick's worth.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnTable, Retention, SqliteStore, type ConnEntry, type ConnOperation, type ConnStore } from '@nat64/conntrack';
import { documentationClient, keyedEntry } from './receiver-entries.js';
import { percentile, printTable, rate, spread, writeResults, type Spread } from './report.js';

const BATCH = 4096;
const IN_FLIGHT = 4;
const CAPACITY = 100_000;
const TICK_MS = 1000;

interface Phase {
  name: string;
  /** Entries per second offered; 0 for as fast as the store takes them. */
  offered: number;
  entries: number;
  pruning: boolean;
}

export interface RetentionPhaseResult extends Phase {
  entriesPerSecond: number;
  endedPerSecond: number;
  prunedPerSecond: number;
  /** Rows ended and not yet pruned when the phase ended (pruning phases). */
  backlogAtEnd: number;
  commitLatencyMs: Spread & { p99: number };
}

export interface BacklogResult {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  chunks: number;
}

const clock = () => Date.now() * 1000;

class Ingest {
  private next = 0;
  constructor(private readonly table: ConnTable) {}

  entry(i: number): ConnEntry {
    return keyedEntry(i, documentationClient(i), 40_000 + (i % 20_000), clock());
  }

  /** Applies one batch of fresh creates; resolves with its latency in ms and how many entries it ended. */
  batch(): { durable: Promise<number>; ended: number } {
    const operations: ConnOperation[] = [];
    for (let k = 0; k < BATCH; k++) operations.push({ op: 'create', entry: this.entry(this.next++) });
    const start = performance.now();
    const { events, durable } = this.table.applyPipelined(operations);
    return { durable: durable.then(() => performance.now() - start), ended: events.length - BATCH };
  }
}

async function fill(ingest: Ingest, entries: number, offered: number, latencies: number[]): Promise<number> {
  const inFlight = new Set<Promise<number>>();
  const start = performance.now();
  let ended = 0;
  for (let done = 0; done < entries; done += BATCH) {
    if (offered > 0) {
      const due = start + (done / offered) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    while (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    const batch = ingest.batch();
    ended += batch.ended;
    const tracked: Promise<number> = batch.durable.then((ms) => {
      latencies.push(ms);
      inFlight.delete(tracked);
      return ms;
    });
    inFlight.add(tracked);
  }
  await Promise.all(inFlight);
  return ended;
}

function latencySpread(values: number[]): Spread & { p99: number } {
  return { ...spread(values), p99: percentile(values, 0.99) };
}

async function runPhase(store: ConnStore, table: ConnTable, ingest: Ingest, phase: Phase): Promise<RetentionPhaseResult> {
  const retention = new Retention(table, { retention: 0, clock });
  let pruned = 0;
  const tick = () => {
    if (!retention.running) void retention.run().then((run) => (pruned += run.pruned));
  };
  // The history the previous phases left is pruned first, so the phase measures its own rows only.
  await new Retention(table, { retention: 0, clock }).run();
  // Commits of the "alone" phases delete nothing: the bound lies before every row they end.
  table.retain(0);
  const prunedByCommits = store.prunedByCommits;
  const timer = phase.pruning ? setInterval(tick, TICK_MS) : undefined;
  const latencies: number[] = [];
  const start = performance.now();
  const ended = await fill(ingest, phase.entries, phase.offered, latencies);
  const seconds = (performance.now() - start) / 1000;
  clearInterval(timer);
  await retention.stop();
  pruned += store.prunedByCommits - prunedByCommits;
  return {
    ...phase,
    entriesPerSecond: phase.entries / seconds,
    endedPerSecond: ended / seconds,
    prunedPerSecond: pruned / seconds,
    backlogAtEnd: phase.pruning ? ended - pruned : ended,
    commitLatencyMs: latencySpread(latencies),
  };
}

/** Prunes a backlog of `rows` ended rows, alone. */
async function pruneBacklog(table: ConnTable, ingest: Ingest, rows: number): Promise<BacklogResult> {
  await fill(ingest, rows, 0, []);
  const start = performance.now();
  const run = await new Retention(table, { retention: 0, clock }).run();
  const seconds = (performance.now() - start) / 1000;
  return { rows: run.pruned, seconds, rowsPerSecond: run.pruned / seconds, chunks: run.chunks };
}

export async function runRetentionBenchmark(): Promise<{ phases: RetentionPhaseResult[]; backlog: BacklogResult }> {
  const dir = mkdtempSync(join(tmpdir(), 'nat64-bench-retention-'));
  try {
    const store = await SqliteStore.openInWorker(join(dir, 'c.db'), { durability: 'full' });
    const table = ConnTable.open(store, { capacity: CAPACITY, idleTimeout: Infinity, clock });
    const ingest = new Ingest(table);
    await fill(ingest, CAPACITY, 0, []);
    const phases: Phase[] = [
      { name: 'ingest alone', offered: 0, entries: 400_000, pruning: false },
      { name: 'ingest while pruning', offered: 0, entries: 400_000, pruning: true },
      { name: 'ingest alone', offered: 50_000, entries: 250_000, pruning: false },
      { name: 'ingest while pruning', offered: 50_000, entries: 250_000, pruning: true },
    ];
    const results: RetentionPhaseResult[] = [];
    for (const phase of phases) results.push(await runPhase(store, table, ingest, phase));
    const backlog = await pruneBacklog(table, ingest, 400_000);
    await table.closeAsync();
    return { phases: results, backlog };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { phases, backlog } = await runRetentionBenchmark();
  printTable(
    'Retention: ingest (4096 creates per commit, each ending an older entry, full durability) with and without pruning (retention 0, a run per 1 s tick)',
    ['phase', 'offered', 'ingested/s', 'ended/s', 'pruned/s', 'left unpruned', 'commit p50 ms', 'p99 ms', 'max ms'],
    phases.map((phase) => [
      phase.name,
      phase.offered === 0 ? 'saturation' : `${rate(phase.offered)}/s`,
      rate(phase.entriesPerSecond),
      rate(phase.endedPerSecond),
      phase.pruning ? rate(phase.prunedPerSecond) : '-',
      phase.pruning ? String(phase.backlogAtEnd) : '-',
      phase.commitLatencyMs.median.toFixed(1),
      phase.commitLatencyMs.p99.toFixed(1),
      phase.commitLatencyMs.max.toFixed(1),
    ]),
  );
  console.log(
    `\nbacklog of ${backlog.rows} ended rows pruned alone: ${rate(backlog.rowsPerSecond)} rows/s (${backlog.seconds.toFixed(2)} s, ${backlog.chunks} transactions)`,
  );
  console.log(`\nwrote ${writeResults('receiver-retention', { phases, backlog })}`);
}

await main();
