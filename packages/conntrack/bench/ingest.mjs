// Ingest and memory figures for the connection table. Runs against the build:
//   pnpm --filter @nat64/conntrack build
//   node --expose-gc packages/conntrack/bench/ingest.mjs [directory for the database files] [--only-pipeline]
// Prints durable created entries per second on SqliteStore for batches of 100/1000/5000 at
// durability full and normal (fresh file, and the last 200k of a 1M-entry file); then, for batches
// of 1000 creates of which 5% replace a held entry, the synchronous path (apply on SqliteStore)
// against the pipelined one (applyPipelined on SqliteStore.openInWorker): entries per second and
// the main thread's cost per entry. First of all, the memory one entry costs in the in-memory table.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnTable, SqliteStore } from '../dist/index.js';

const args = process.argv.slice(2);
const onlyPipeline = args.includes('--only-pipeline');
const baseDir = mkdtempSync(join(args.find((arg) => !arg.startsWith('--')) ?? tmpdir(), 'conntrack-bench-'));
const T0 = Date.UTC(2019, 2, 18, 10, 6, 28) * 1000;
let now = T0;
const clock = () => now;

/** Entry i; with `keyOf`, it takes the key (protocol, NAT address and port) of entry keyOf instead. */
function entry(i, keyOf = i) {
  const clientAddress = new Uint8Array(16);
  clientAddress.set([0x20, 0x01, 0x0d, 0xb8]);
  clientAddress[12] = i >>> 24;
  clientAddress[13] = i >>> 16;
  clientAddress[14] = i >>> 8;
  clientAddress[15] = i;
  return {
    protocol: keyOf % 3 === 0 ? 17 : 6,
    natAddress: 0xc000_0200 + Math.floor(keyOf / 65_536),
    natPort: keyOf % 65_536,
    clientAddress,
    clientPort: 1024 + (i % 60_000),
    serverAddress: 0xc633_6401,
    serverPort: 443,
    createdAt: T0 + i,
  };
}

/**
 * Creates entries [from, to) in batches, one apply (one transaction) per batch. Returns entries per
 * second of wall time and of CPU time (the machine is shared, so CPU time shows our own cost).
 */
function ingest(table, from, to, batchSize) {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (let i = from; i < to; i += batchSize) {
    const operations = [];
    for (let j = i; j < Math.min(to, i + batchSize); j++) operations.push({ op: 'create', entry: entry(j) });
    now += 1000;
    table.apply(operations, [['window/192.0.2.1', new Uint8Array(132)]]);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return `${String(Math.round((to - from) / seconds)).padStart(9)}  ${String(Math.round((to - from) / cpuSeconds)).padStart(9)}`;
}

const nullStore = {
  loadCurrent: () => [],
  commit() {},
  getSide: () => null,
  listSide: () => [],
  history: () => [],
  prune: () => 0,
  close() {},
};

function fresh(name, durability) {
  const path = join(baseDir, `${name}.db`);
  return { path, table: ConnTable.open(SqliteStore.open(path, { durability }), { capacity: 2_000_000, idleTimeout: Infinity, clock }) };
}

/** Operations of batch [from, to): creates, every 20th replacing the entry created 1000 earlier (held by another client). */
function mixedBatch(from, to) {
  const operations = [];
  for (let i = from; i < to; i++) {
    operations.push({ op: 'create', entry: i % 20 === 19 && i >= 1000 ? entry(i, i - 1000) : entry(i) });
  }
  return operations;
}

/** CPU seconds of the main thread alone and of all other threads of this process (Linux, clock ticks of 10 ms). */
function threadCpu() {
  let main = 0;
  let others = 0;
  for (const task of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
    if (Number(task) === process.pid) main += seconds;
    else others += seconds;
  }
  return { main, others };
}

/**
 * Ingests `count` entries in batches of 1000 (5% replacing) through apply() or applyPipelined(),
 * keeping at most `inFlight` pipelined batches unacknowledged, as a receiver waiting for durability
 * before it acknowledges would. Returns entries/s of wall time, µs per entry inside the table call,
 * and µs per entry of main-thread and other-thread CPU.
 */
async function ingestMixed(table, count, pipelined, inFlight = 4) {
  const side = [['window/192.0.2.1', new Uint8Array(132)]];
  const pending = [];
  let inCall = 0n;
  const cpu = threadCpu();
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1000) {
    const operations = mixedBatch(i, i + 1000);
    now += 1000;
    const before = process.hrtime.bigint();
    if (pipelined) pending.push(table.applyPipelined(operations, side).durable);
    else table.apply(operations, side);
    inCall += process.hrtime.bigint() - before;
    if (pending.length >= inFlight) await pending.shift();
  }
  await Promise.all(pending);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = threadCpu();
  return {
    rate: count / seconds,
    inCall: Number(inCall) / 1e3 / count,
    mainCpu: ((used.main - cpu.main) * 1e6) / count,
    otherCpu: ((used.others - cpu.others) * 1e6) / count,
  };
}

async function comparePaths() {
  const count = 300_000;
  const nullTable = ConnTable.open(nullStore, { capacity: 2_000_000, idleTimeout: Infinity, clock });
  const bare = await ingestMixed(nullTable, count, false);
  nullTable.close();
  console.log(`\nbatches of 1000 creates, 5% replacing; ${count} entries per run; µs per entry`);
  console.log(`table alone (null store): ${bare.inCall.toFixed(2)} µs in apply()`);
  console.log('durability  path      entries/s  in call  main CPU  other threads CPU');
  for (const durability of ['full', 'normal']) {
    for (const path of ['sync', 'worker']) {
      const file = join(baseDir, `mixed-${durability}-${path}.db`);
      const store = path === 'sync' ? SqliteStore.open(file, { durability }) : await SqliteStore.openInWorker(file, { durability });
      const table = ConnTable.open(store, { capacity: 2_000_000, idleTimeout: Infinity, clock });
      const result = await ingestMixed(table, count, path === 'worker');
      await table.closeAsync();
      console.log(
        `${durability.padEnd(10)}  ${path.padEnd(6)}  ${String(Math.round(result.rate)).padStart(11)}  ${result.inCall.toFixed(2).padStart(7)}` +
          `  ${result.mainCpu.toFixed(2).padStart(8)}  ${result.otherCpu.toFixed(2).padStart(17)}`,
      );
    }
  }
}

/** Memory: the table alone, over a store that keeps nothing. Runs before anything else is left for the collector. */
function measureMemory() {
  const gc = globalThis.gc;
  if (!gc) {
    console.log('memory: run with node --expose-gc for the memory figure');
  } else {
    gc();
    const before = process.memoryUsage();
    const table = ConnTable.open(nullStore, { capacity: 1_000_000, idleTimeout: Infinity, clock });
    const count = 1_000_000;
    const ingestRate = ingest(table, 0, count, 1000);
    gc();
    const after = process.memoryUsage();
    const heap = after.heapUsed - before.heapUsed;
    const buffers = after.arrayBuffers - before.arrayBuffers;
    console.log(`in-memory table, ${table.size} entries (null store, created/s wall and per CPU-s: ${ingestRate.trim().replace(/ +/, ' / ')})`);
    console.log(
      `  typed arrays ${(buffers / count).toFixed(1)} B/entry, JS heap ${(heap / count).toFixed(1)} B/entry, total ${((heap + buffers) / count).toFixed(1)} B/entry`,
    );
    console.log(`  capacity held by the columns and index: ${(table.byteLength / count).toFixed(1)} B/entry`);
    table.close();
  }
}

console.log(`node ${process.version}, database files in ${baseDir}`);
if (!onlyPipeline) measureMemory();
if (!onlyPipeline) {
  console.log('durability  batch  entries  created/s  per CPU-s');
  for (const durability of ['full', 'normal']) {
    for (const batch of [100, 1000, 5000]) {
      // Fewer entries for small durable batches: each costs one fsync.
      const count = durability === 'full' && batch === 100 ? 50_000 : 200_000;
      const { table } = fresh(`${durability}-${batch}`, durability);
      const rate = ingest(table, 0, count, batch);
      table.close();
      console.log(`${durability.padEnd(10)}  ${String(batch).padStart(5)}  ${String(count).padStart(7)}  ${rate}`);
    }
  }
  for (const durability of ['full', 'normal']) {
    const { table } = fresh(`large-${durability}`, durability);
    ingest(table, 0, 800_000, 1000);
    const rate = ingest(table, 800_000, 1_000_000, 1000);
    table.close();
    console.log(`${durability.padEnd(10)}   1000  800k→1M  ${rate}  (file already holding 800k rows)`);
  }
}
await comparePaths();
rmSync(baseDir, { recursive: true, force: true });
