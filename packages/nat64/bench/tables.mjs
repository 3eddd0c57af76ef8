// Benchmark of the NAT64 tables: new sessions per second up to one million, lookups per second on existing
// sessions (outbound and inbound hits), expiry of one million, and bytes per session at one million.
// Run after a build:  node --expose-gc packages/nat64/bench/tables.mjs [sessions]
// Scenario: worst case for memory, one BIB entry per session (every session from its own client port);
// 4000 clients (2001:db8::/96 + n), 32 pool4 addresses (203.0.113.1-32), 16 servers (198.51.100.10-25).

import { performance } from 'node:perf_hooks';
import { Nat64Table, PROTOCOL } from '../dist/index.js';

const SESSIONS = Number(process.argv[2] ?? 1_000_000);
const CLIENTS = 4000;
const PER_CLIENT = Math.ceil(SESSIONS / CLIENTS);
const SERVER = 0xc633640a;
const gc = globalThis.gc ?? (() => console.warn('run with --expose-gc for memory figures'));

function memory() {
  gc();
  gc();
  const m = process.memoryUsage();
  // `external` already includes `arrayBuffers` (the typed arrays).
  return m.heapUsed + m.external;
}

function rate(count, ms) {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-US')}/s`;
}

let now = 0;
const pool4 = Array.from({ length: 32 }, (_, i) => ({ address: (0xcb007100 + 1 + i) >>> 0 }));
const address = new Uint8Array(16);
address.set([0x20, 0x01, 0x0d, 0xb8]);

const before = memory();
const table = new Nat64Table({ pool4, clock: () => now, maxSessions: SESSIONS, maxSessionsPerClient: 4096 });
const handles = new Int32Array(SESSIONS);

// 1. Creation.
let t = performance.now();
let n = 0;
for (let c = 0; c < CLIENTS && n < SESSIONS; c++) {
  address[12] = c >>> 8;
  address[13] = c & 0xff;
  for (let p = 0; p < PER_CLIENT && n < SESSIONS; p++) handles[n++] = table.outbound(PROTOCOL.UDP, address, 0, 10_000 + p, SERVER + (p & 15), 443);
}
const createMs = performance.now() - t;
if (table.sessionCount !== SESSIONS) throw new Error(`only ${table.sessionCount} sessions created`);
const after = memory();

// 2. Lookups of existing sessions, in a shuffled order (no cache-friendly sequential walk).
const order = new Int32Array(SESSIONS);
for (let i = 0; i < SESSIONS; i++) order[i] = i;
for (let i = SESSIONS - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1));
  const x = order[i];
  order[i] = order[j];
  order[j] = x;
}
const natAddress = new Uint32Array(SESSIONS);
const natPort = new Uint16Array(SESSIONS);
for (let i = 0; i < SESSIONS; i++) {
  natAddress[i] = table.natAddress(handles[i]);
  natPort[i] = table.natPort(handles[i]);
}
now += 1000;
t = performance.now();
let misses = 0;
for (let k = 0; k < SESSIONS; k++) {
  const i = order[k];
  const c = Math.floor(i / PER_CLIENT);
  const p = i % PER_CLIENT;
  address[12] = c >>> 8;
  address[13] = c & 0xff;
  if (table.outbound(PROTOCOL.UDP, address, 0, 10_000 + p, SERVER + (p & 15), 443) !== handles[i]) misses++;
}
const outMs = performance.now() - t;
t = performance.now();
for (let k = 0; k < SESSIONS; k++) {
  const i = order[k];
  const p = i % PER_CLIENT;
  if (table.inbound(PROTOCOL.UDP, SERVER + (p & 15), 443, natAddress[i], natPort[i]) !== handles[i]) misses++;
}
const inMs = performance.now() - t;
if (misses !== 0) throw new Error(`${misses} lookups missed`);

// 3. Expiry of everything.
const bytes = table.bytesAllocated();
now += 5 * 60_000;
t = performance.now();
table.expire(now);
const expireMs = performance.now() - t;
if (table.sessionCount !== 0) throw new Error('expiry left sessions');

// 4. Creation again into tables sized up front (no doubling, no rehash).
const sized = new Nat64Table({ pool4, clock: () => now, maxSessions: SESSIONS, maxSessionsPerClient: 4096, initialCapacity: SESSIONS });
t = performance.now();
n = 0;
for (let c = 0; c < CLIENTS && n < SESSIONS; c++) {
  address[12] = c >>> 8;
  address[13] = c & 0xff;
  for (let p = 0; p < PER_CLIENT && n < SESSIONS; p++, n++) sized.outbound(PROTOCOL.UDP, address, 0, 10_000 + p, SERVER + (p & 15), 443);
}
const sizedMs = performance.now() - t;

console.log(`sessions                 ${SESSIONS.toLocaleString('en-US')} (one BIB entry each)`);
console.log(`create                   ${createMs.toFixed(0)} ms, ${rate(SESSIONS, createMs)} (tables growing from 1024 slots)`);
console.log(`create (sized up front) ${sizedMs.toFixed(0)} ms, ${rate(SESSIONS, sizedMs)}`);
console.log(`outbound hit             ${outMs.toFixed(0)} ms, ${rate(SESSIONS, outMs)}`);
console.log(`inbound hit              ${inMs.toFixed(0)} ms, ${rate(SESSIONS, inMs)}`);
console.log(`expire all               ${expireMs.toFixed(0)} ms, ${rate(SESSIONS, expireMs)}`);
console.log(`bytesAllocated()         ${(bytes / SESSIONS).toFixed(1)} bytes/session (${(bytes / 2 ** 20).toFixed(1)} MiB)`);
console.log(`process heap + external  ${((after - before) / SESSIONS).toFixed(1)} bytes/session (includes the benchmark's own 4-byte handle array)`);
