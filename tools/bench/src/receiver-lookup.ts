// Lookup benchmark: who held a NAT address and port, at scale. Builds a store of `--rows` history
// rows (default 10 million: 1,048,576 keys on 16 NAT addresses, each taken over by a new client
// `rows / keys` times, so that most rows have ended and each key has a few incarnations), then
// answers 1000 random lookups in process (half "now", half at a random past moment, as an abuse
// report asks) and runs the `nat64-receiver lookup` command end to end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { SqliteStore, type ConnEntry, type ConnEvent } from '@nat64/conntrack';
import { NAT_BASE, documentationClient, keyedEntry } from './receiver-entries.js';
import { REPOSITORY_ROOT, printTable, writeResults } from './report.js';

const RECEIVER = join(REPOSITORY_ROOT, 'apps/receiver/dist/main.js');
const KEYS = 16 * 65_536;
const COMMIT_KEYS = 65_536;
const T0 = Date.UTC(2026, 0, 1) * 1000;
const STEP_US = 1_000_000;
const LOOKUPS = 1000;
const COMMAND_RUNS = 20;

interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface LookupResult {
  rows: number;
  fillSeconds: number;
  inProcessMs: { now: Percentiles; past: Percentiles; all: Percentiles };
  commandMs: { p50: number; p90: number; max: number };
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

function entry(key: number, round: number): ConnEntry {
  return keyedEntry(key, documentationClient(key, round), 40_000 + round, T0);
}

/** Time of the commit that gave `key` its incarnation of `round`. */
function startOf(key: number, round: number): number {
  return T0 + (round * (KEYS / COMMIT_KEYS) + Math.floor(key / COMMIT_KEYS)) * STEP_US;
}

/** Fills `path` with `rows` history rows; returns the number of rounds (incarnations per key). */
function fill(path: string, rows: number): number {
  const store = SqliteStore.open(path, { durability: 'normal' });
  const rounds = Math.max(1, Math.round(rows / KEYS));
  try {
    for (let round = 0; round < rounds; round++) {
      for (let first = 0; first < KEYS; first += COMMIT_KEYS) {
        const at = startOf(first, round);
        const events: ConnEvent[] = [];
        for (let key = first; key < first + COMMIT_KEYS; key++) {
          if (round > 0) events.push({ kind: 'deleted', entry: entry(key, round - 1), at, reason: 'replaced' });
          events.push({ kind: 'created', entry: entry(key, round), at });
        }
        store.commit(events, []);
      }
    }
  } finally {
    store.close();
  }
  return rounds;
}

export function runLookupBenchmark(rows: number): LookupResult {
  const dir = mkdtempSync(join(tmpdir(), 'nat64-bench-lookup-'));
  try {
    const path = join(dir, 'c.db');
    const fillStart = performance.now();
    const rounds = fill(path, rows);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const end = startOf(KEYS - 1, rounds - 1) + STEP_US;
    const randomKey = () => Math.floor(Math.random() * KEYS);
    /** A moment at which `key` was held: between its first start and the end of the fill. */
    const heldAt = (key: number) => startOf(key, 0) + Math.floor(Math.random() * (end - startOf(key, 0)));
    const store = SqliteStore.openReadOnly(path);
    const now: number[] = [];
    const past: number[] = [];
    try {
      for (let i = 0; i < LOOKUPS; i++) {
        const key = randomKey();
        const query = { natAddress: NAT_BASE + (key >>> 16), natPort: key & 0xffff, limit: 20 };
        const start = performance.now();
        if (i % 2 === 0) store.history(query);
        else store.history({ ...query, at: heldAt(key) });
        (i % 2 === 0 ? now : past).push(performance.now() - start);
      }
    } finally {
      store.close();
    }
    const command: number[] = [];
    for (let i = 0; i < COMMAND_RUNS; i++) {
      const key = randomKey();
      const at = new Date(Math.floor(heldAt(key) / 1000)).toISOString().replace('T', ' ').replace('Z', '');
      const endpoint = `203.0.113.${key >>> 16}:${key & 0xffff}`;
      const start = performance.now();
      const result = spawnSync(process.execPath, [RECEIVER, 'lookup', endpoint, '--db', path, '--at', at], { encoding: 'utf8' });
      command.push(performance.now() - start);
      if (result.status !== 0) throw new Error(`lookup ${endpoint} --at "${at}" exited with ${result.status}: ${result.stderr}`);
    }
    const commandPercentiles = percentiles(command);
    return {
      rows: rounds * KEYS,
      fillSeconds,
      inProcessMs: { now: percentiles(now), past: percentiles(past), all: percentiles([...now, ...past]) },
      commandMs: { p50: commandPercentiles.p50, p90: [...command].sort((a, b) => a - b)[Math.floor(COMMAND_RUNS * 0.9)]!, max: commandPercentiles.max },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const options = new Command()
    .option('--rows <count>', 'history rows to build (rounded to whole rounds of 1,048,576 keys)', Number, 10_000_000)
    .parse()
    .opts<{ rows: number }>();
  const result = runLookupBenchmark(options.rows);
  const ms = (value: number) => value.toFixed(3);
  printTable(
    `Lookups at ${(result.rows / 1e6).toFixed(1)} M history rows (${KEYS} keys; built in ${result.fillSeconds.toFixed(0)} s)`,
    ['lookup', 'count', 'p50 ms', 'p99 ms', 'max ms'],
    [
      ['in process, now (newest 20)', String(LOOKUPS / 2), ms(result.inProcessMs.now.p50), ms(result.inProcessMs.now.p99), ms(result.inProcessMs.now.max)],
      ['in process, at a past time', String(LOOKUPS / 2), ms(result.inProcessMs.past.p50), ms(result.inProcessMs.past.p99), ms(result.inProcessMs.past.max)],
      ['in process, all', String(LOOKUPS), ms(result.inProcessMs.all.p50), ms(result.inProcessMs.all.p99), ms(result.inProcessMs.all.max)],
      [
        'nat64-receiver lookup --at (end to end)',
        String(COMMAND_RUNS),
        result.commandMs.p50.toFixed(0),
        `${result.commandMs.p90.toFixed(0)} (p90)`,
        result.commandMs.max.toFixed(0),
      ],
    ],
  );
  console.log(`\nwrote ${writeResults('receiver-lookup', result)}`);
}

main();
