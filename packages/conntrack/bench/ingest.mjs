// Ingest and memory figures for the connection table. Runs against the build:
//   pnpm --filter @nat64/conntrack build
//   node --expose-gc packages/conntrack/bench/ingest.mjs [directory for the database files]
// Prints durable created entries per second on SqliteStore for batches of 100/1000/5000 at
// durability full and normal (fresh file, and the last 200k of a 1M-entry file), then the memory
// one entry costs in the in-memory table at one million entries.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnTable, SqliteStore } from '../dist/index.js';

const baseDir = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'conntrack-bench-'));
const T0 = Date.UTC(2019, 2, 18, 10, 6, 28) * 1000;
let now = T0;
const clock = () => now;

function entry(i) {
  const clientAddress = new Uint8Array(16);
  clientAddress.set([0x20, 0x01, 0x0d, 0xb8]);
  clientAddress[12] = i >>> 24;
  clientAddress[13] = i >>> 16;
  clientAddress[14] = i >>> 8;
  clientAddress[15] = i;
  return {
    protocol: i % 3 === 0 ? 17 : 6,
    natAddress: 0xc000_0200 + Math.floor(i / 65_536),
    natPort: i % 65_536,
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

function fresh(name, durability) {
  const path = join(baseDir, `${name}.db`);
  return { path, table: ConnTable.open(SqliteStore.open(path, { durability }), { capacity: 2_000_000, idleTimeout: Infinity, clock }) };
}

console.log(`node ${process.version}, database files in ${baseDir}`);
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
rmSync(baseDir, { recursive: true, force: true });

// Memory: the table alone, over a store that keeps nothing.
const nullStore = {
  loadCurrent: () => [],
  commit() {},
  getSide: () => null,
  listSide: () => [],
  history: () => [],
  prune: () => 0,
  close() {},
};
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
  console.log(`  typed arrays ${(buffers / count).toFixed(1)} B/entry, JS heap ${(heap / count).toFixed(1)} B/entry, total ${((heap + buffers) / count).toFixed(1)} B/entry`);
  console.log(`  capacity held by the columns and index: ${(table.byteLength / count).toFixed(1)} B/entry`);
  table.close();
}
