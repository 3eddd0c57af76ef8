// Lookup benchmark: who held a NAT address and port, at scale. Builds a store of `--rows` history
// rows (default 10 million: 1,048,576 keys on 16 NAT addresses, each taken over by a new client
// `rows / keys` times, so that most rows have ended and each key has a few incarnations), then
// reads the file through (the page cache) and answers three rounds of 1000 random lookups in process
// (half "now", half at a random past moment, as an abuse report asks; also split by whether a
// lookup read from the disk, a page of the file out of the page cache, or was served from it) and
// runs the `nat64-receiver lookup` command end to end, beside what any Node
// process pays to start (`node -e 0`) and to open the database (better-sqlite3 alone, one query),
// the three interleaved so that the machine's load falls on each alike.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { SqliteReader, SqliteStore, type ConnEntry, type ConnEvent } from '@nat64/conntrack';
import { NAT_BASE, documentationClient, keyedEntry } from './receiver-entries.js';
import { REPOSITORY_ROOT, percentile, percentiles, printTable, writeResults, type Percentiles } from './report.js';

const RECEIVER = join(REPOSITORY_ROOT, 'apps/receiver/dist/main.js');
const BETTER_SQLITE3 = createRequire(join(REPOSITORY_ROOT, 'packages/conntrack/package.json')).resolve('better-sqlite3');
/** Reports the user and system CPU time of the command it runs; absent on some systems. */
const GNU_TIME = '/usr/bin/time';
const KEYS = 16 * 65_536;
const COMMIT_KEYS = 65_536;
const T0 = Date.UTC(2026, 0, 1) * 1000;
const STEP_US = 1_000_000;
const LOOKUPS = 1000;
/** Rounds of LOOKUPS lookups, each reported on its own too (one round is 1000 lookups, as issue 15 asks). */
const LOOKUP_ROUNDS = 3;

/** Wall time of each run of a process, ms, and its CPU time (user + system, 10 ms resolution) where GNU time is there. */
interface ProcessTimes {
  wallMs: { p50: number; p90: number; max: number };
  cpuMs: { p50: number; p90: number } | undefined;
}

export interface LookupResult {
  rows: number;
  fillSeconds: number | undefined;
  /** Wall time of each lookup, and the CPU time of the process for it (what is left without waiting for a core); and each round's. */
  inProcessMs: { now: Percentiles; past: Percentiles; all: Percentiles; allCpu: Percentiles; rounds: Percentiles[] };
  /**
   * The same lookups split by whether the process read from the disk during it (its file-system
   * input count grew: a page of the file had left the page cache), with how many did.
   */
  byDiskReads: Record<'now' | 'past', { fromCache: Percentiles; fromDisk: Percentiles; fromDiskCount: number }>;
  /** Per process, in the same interleaved runs. */
  processes: Record<string, ProcessTimes>;
}

const START_NAMES = ['node -e 0', 'node + better-sqlite3, open, one query', 'nat64-receiver lookup --at', 'nat64-receiver lookup (now)'] as const;
const BASELINE_NAME = 'baseline: nat64-receiver lookup --at';

function entry(key: number, round: number): ConnEntry {
  return keyedEntry(key, documentationClient(key, round), 40_000 + round, T0);
}

/** Time of the commit that gave `key` its incarnation of `round`. */
function startOf(key: number, round: number): number {
  return T0 + (round * (KEYS / COMMIT_KEYS) + Math.floor(key / COMMIT_KEYS)) * STEP_US;
}

/** Fills `path` with `rounds` incarnations of every key. */
function fill(path: string, rounds: number): void {
  const store = SqliteStore.open(path, { durability: 'normal' });
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
}

/** Rounds in a store this benchmark filled: the incarnations of its last key. */
function roundsIn(path: string): number {
  const store = SqliteStore.openReadOnly(path);
  try {
    const last = KEYS - 1;
    return store.history({ natAddress: NAT_BASE + (last >>> 16), natPort: last & 0xffff, limit: 1_000_000 }).length;
  } finally {
    store.close();
  }
}

/** Reads the file through once, so that the lookups find it in the page cache as a receiver's own reads keep it. */
function warm(path: string): void {
  const buffer = Buffer.alloc(1 << 20);
  const fd = openSync(path, 'r');
  try {
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}

/** Runs `argv` once; its wall time and, where GNU time is there, its CPU time. Throws when it fails. */
function timeProcess(argv: string[], cpuFile: string): { wallMs: number; cpuMs: number | undefined } {
  const withTime = existsSync(GNU_TIME);
  const [file, ...args] = withTime ? [GNU_TIME, '-f', '%U %S', '-o', cpuFile, ...argv] : argv;
  const start = performance.now();
  const result = spawnSync(file!, args, { encoding: 'utf8' });
  const wallMs = performance.now() - start;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited with ${result.status}: ${result.stderr}`);
  if (!withTime) return { wallMs, cpuMs: undefined };
  const [user, system] = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number) as [number, number];
  return { wallMs, cpuMs: (user + system) * 1000 };
}

export function runLookupBenchmark(options: { rows: number; db?: string; runs: number; baseline?: string }): LookupResult {
  const dir = mkdtempSync(join(tmpdir(), 'nat64-bench-lookup-'));
  try {
    const path = options.db ?? join(dir, 'c.db');
    const wantedRounds = Math.max(1, Math.round(options.rows / KEYS));
    let fillSeconds: number | undefined;
    let rounds: number;
    if (existsSync(path)) {
      rounds = roundsIn(path);
      if (rounds !== wantedRounds)
        throw new Error(`${path} holds ${rounds} rounds of ${KEYS} keys, not ${wantedRounds}: remove it or give --rows ${rounds * KEYS}`);
    } else {
      const fillStart = performance.now();
      fill(path, wantedRounds);
      fillSeconds = (performance.now() - fillStart) / 1000;
      rounds = wantedRounds;
    }
    const end = startOf(KEYS - 1, rounds - 1) + STEP_US;
    const randomKey = () => Math.floor(Math.random() * KEYS);
    /** A moment at which `key` was held: between its first start and the end of the fill. */
    const heldAt = (key: number) => startOf(key, 0) + Math.floor(Math.random() * (end - startOf(key, 0)));
    warm(path);
    const store = SqliteReader.open(path);
    const now: number[] = [];
    const past: number[] = [];
    const cpu: number[] = [];
    const fromDisk = { now: [] as number[], past: [] as number[] };
    const fromCache = { now: [] as number[], past: [] as number[] };
    const roundPercentiles: Percentiles[] = [];
    try {
      for (let round = 0; round < LOOKUP_ROUNDS; round++) {
        const all: number[] = [];
        for (let i = 0; i < LOOKUPS; i++) {
          const key = randomKey();
          const query = { natAddress: NAT_BASE + (key >>> 16), natPort: key & 0xffff, limit: 20 };
          const at = i % 2 === 0 ? undefined : heldAt(key);
          const readsBefore = process.resourceUsage().fsRead;
          const cpuStart = process.cpuUsage();
          const start = performance.now();
          const found = at === undefined ? store.history(query) : store.history({ ...query, at });
          const elapsed = performance.now() - start;
          const cpuUsed = process.cpuUsage(cpuStart);
          const readFromDisk = process.resourceUsage().fsRead > readsBefore;
          if (found.length === 0) throw new Error(`no entry for key ${key}`);
          (at === undefined ? now : past).push(elapsed);
          (readFromDisk ? fromDisk : fromCache)[at === undefined ? 'now' : 'past'].push(elapsed);
          all.push(elapsed);
          cpu.push((cpuUsed.user + cpuUsed.system) / 1000);
        }
        roundPercentiles.push(percentiles(all));
      }
    } finally {
      store.close();
    }
    const names: string[] = [...START_NAMES, ...(options.baseline === undefined ? [] : [BASELINE_NAME])];
    const times: Record<string, { wall: number[]; cpu: number[] }> = Object.fromEntries(names.map((name) => [name, { wall: [], cpu: [] }]));
    const cpuFile = join(dir, 'cpu');
    const openAndQuery = [
      `import Database from ${JSON.stringify(BETTER_SQLITE3)};`,
      `const db = new Database(${JSON.stringify(path)}, { readonly: true, fileMustExist: true });`,
      `db.prepare('SELECT * FROM conn_history WHERE nat_key = ? AND started_at <= ? ORDER BY started_at DESC LIMIT 1').get(0, 0);`,
      'db.close();',
    ].join(' ');
    for (let run = 0; run < options.runs; run++) {
      const key = randomKey();
      const at = new Date(Math.floor(heldAt(key) / 1000)).toISOString().replace('T', ' ').replace('Z', '');
      const endpoint = `203.0.113.${key >>> 16}:${key & 0xffff}`;
      const argvs: Record<string, string[]> = {
        'node -e 0': [process.execPath, '-e', '0'],
        'node + better-sqlite3, open, one query': [process.execPath, '--input-type=module', '-e', openAndQuery],
        'nat64-receiver lookup --at': [process.execPath, RECEIVER, 'lookup', endpoint, '--db', path, '--at', at],
        'nat64-receiver lookup (now)': [process.execPath, RECEIVER, 'lookup', endpoint, '--db', path],
        ...(options.baseline === undefined
          ? {}
          : { [BASELINE_NAME]: [process.execPath, join(options.baseline, 'apps/receiver/dist/main.js'), 'lookup', endpoint, '--db', path, '--at', at] }),
      };
      for (const name of names) {
        const { wallMs, cpuMs } = timeProcess(argvs[name]!, cpuFile);
        times[name]!.wall.push(wallMs);
        if (cpuMs !== undefined) times[name]!.cpu.push(cpuMs);
      }
    }
    const processes = Object.fromEntries(
      names.map((name) => {
        const { wall, cpu: cpuTimes } = times[name]!;
        const processTimes: ProcessTimes = {
          wallMs: { p50: percentile(wall, 0.5), p90: percentile(wall, 0.9), max: percentile(wall, 1) },
          cpuMs: cpuTimes.length === 0 ? undefined : { p50: percentile(cpuTimes, 0.5), p90: percentile(cpuTimes, 0.9) },
        };
        return [name, processTimes];
      }),
    );
    return {
      rows: rounds * KEYS,
      fillSeconds,
      inProcessMs: { now: percentiles(now), past: percentiles(past), all: percentiles([...now, ...past]), allCpu: percentiles(cpu), rounds: roundPercentiles },
      byDiskReads: {
        now: { fromCache: percentiles(fromCache.now), fromDisk: percentiles(fromDisk.now), fromDiskCount: fromDisk.now.length },
        past: { fromCache: percentiles(fromCache.past), fromDisk: percentiles(fromDisk.past), fromDiskCount: fromDisk.past.length },
      },
      processes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const options = new Command()
    .option('--rows <count>', 'history rows to build (rounded to whole rounds of 1,048,576 keys)', Number, 10_000_000)
    .option('--db <file>', 'keep the history in this file, and reuse it when it exists (it must hold --rows)')
    .option('--runs <count>', 'runs of each process', Number, 20)
    .option('--baseline <dir>', "another checkout's built receiver: its lookup --at runs in the same rounds, for a before/after")
    .parse()
    .opts<{ rows: number; db?: string; runs: number; baseline?: string }>();
  const result = runLookupBenchmark(options);
  const ms = (value: number) => value.toFixed(3);
  const built = result.fillSeconds === undefined ? 'reused' : `built in ${result.fillSeconds.toFixed(0)} s`;
  printTable(
    `Lookups in process at ${(result.rows / 1e6).toFixed(1)} M history rows (${KEYS} keys; ${built}; file read through first)`,
    ['lookup', 'count', 'p50 ms', 'p99 ms', 'max ms'],
    [
      ...result.inProcessMs.rounds.map((round, index) => [`round ${index + 1}, all`, String(LOOKUPS), ms(round.p50), ms(round.p99), ms(round.max)]),
      [
        'now (newest 20)',
        String((LOOKUPS / 2) * LOOKUP_ROUNDS),
        ms(result.inProcessMs.now.p50),
        ms(result.inProcessMs.now.p99),
        ms(result.inProcessMs.now.max),
      ],
      [
        'at a past time',
        String((LOOKUPS / 2) * LOOKUP_ROUNDS),
        ms(result.inProcessMs.past.p50),
        ms(result.inProcessMs.past.p99),
        ms(result.inProcessMs.past.max),
      ],
      ['all', String(LOOKUPS * LOOKUP_ROUNDS), ms(result.inProcessMs.all.p50), ms(result.inProcessMs.all.p99), ms(result.inProcessMs.all.max)],
      [
        'all, CPU time of the process',
        String(LOOKUPS * LOOKUP_ROUNDS),
        ms(result.inProcessMs.allCpu.p50),
        ms(result.inProcessMs.allCpu.p99),
        ms(result.inProcessMs.allCpu.max),
      ],
    ],
  );
  printTable(
    'The same lookups by whether they read from the disk (a page of the file out of the page cache)',
    ['lookup', 'from cache: count', 'p50 ms', 'p99 ms', 'max ms', 'read from disk: count', 'p50 ms', 'p99 ms', 'max ms'],
    (['now', 'past'] as const).map((kind) => {
      const { fromCache, fromDisk, fromDiskCount } = result.byDiskReads[kind];
      const total = (LOOKUPS / 2) * LOOKUP_ROUNDS;
      return [
        kind === 'now' ? 'now (newest 20)' : 'at a past time',
        String(total - fromDiskCount),
        ms(fromCache.p50),
        ms(fromCache.p99),
        ms(fromCache.max),
        String(fromDiskCount),
        ms(fromDisk.p50),
        ms(fromDisk.p99),
        ms(fromDisk.max),
      ];
    }),
  );
  const whole = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(0));
  printTable(
    `Processes end to end, ${options.runs} interleaved runs each (CPU = user + system)`,
    ['process', 'wall p50 ms', 'wall p90 ms', 'wall max ms', 'CPU p50 ms', 'CPU p90 ms'],
    Object.entries(result.processes).map(([name, { wallMs, cpuMs }]) => {
      return [name, whole(wallMs.p50), whole(wallMs.p90), whole(wallMs.max), whole(cpuMs?.p50), whole(cpuMs?.p90)];
    }),
  );
  console.log(`\nwrote ${writeResults('receiver-lookup', result)}`);
}

main();
