// Benchmark of the gateway engine alone, in process, without the kernel: how many 64-byte UDP
// packets per second one core translates IPv6 -> IPv4 and IPv4 -> IPv6 through the real engine
// (parse, session lookup, translation into the output batch), with a sink that discards the output.
// It bounds what the datapath can reach once the device's system calls are paid for, and how many
// sessions the table holds per byte; and IPv6 -> IPv4 again with handoff's client-miss handler armed
// (established flows should not notice it). Run: node tools/bench/dist/gateway-engine.js

import { buildEngine } from '@nat64/gateway-engine';
import type { RxBatch } from '@nat64/tun';
import { internetChecksum, pseudoHeaderSum6 } from '@nat64/wire';
import { engineSettings } from './engine-settings.js';

const BATCH = 64;
const SLOT = 1536;
const FLOWS = 1024;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);

/** A 64-byte IPv6 UDP packet from 2001:db8:1::2 port `port` to 2001:db8:64::203.0.113.99 port 9. */
function udp6(port: number): Uint8Array {
  const p = new Uint8Array(64);
  p.set([0x60, 0, 0, 0, 0, 24, 17, 64]);
  p.set([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 8);
  p.set([0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 203, 0, 113, 99], 24);
  p.set([port >> 8, port & 0xff, 0, 9, 0, 24, 0, 0], 40);
  const sum = internetChecksum(p, 40, 64, pseudoHeaderSum6(p, 8, p, 24, 17, 24));
  p[46] = sum >> 8;
  p[47] = sum & 0xff;
  return p;
}

/** A 64-byte IPv4 UDP packet from 203.0.113.99 port 9 to 198.51.100.1 port `natPort`. */
function udp4(natPort: number): Uint8Array {
  const p = new Uint8Array(64);
  p.set([0x45, 0, 0, 64, 0, 0, 0, 0, 64, 17, 0, 0, 203, 0, 113, 99, 198, 51, 100, 1]);
  const header = internetChecksum(p, 0, 20);
  p[10] = header >> 8;
  p[11] = header & 0xff;
  p.set([0, 9, natPort >> 8, natPort & 0xff, 0, 44, 0, 0], 20);
  return p; // UDP checksum 0 is refused unless amended; the benchmark config amends it
}

function run(label: string, handle: (rx: RxBatch) => void, fill: (i: number) => Uint8Array): void {
  const rx: RxBatch = { buffer: Buffer.alloc(BATCH * SLOT), slotSize: SLOT, batchSize: BATCH, lengths: new Uint32Array(BATCH), vnet: null };
  const packets = Array.from({ length: FLOWS }, (_, i) => fill(i));
  let flow = 0;
  const load = (): void => {
    for (let i = 0; i < BATCH; i++) {
      const packet = packets[flow]!;
      flow = (flow + 1) % FLOWS;
      rx.buffer.set(packet, i * SLOT);
      rx.lengths[i] = packet.length;
    }
  };
  // Warm up, then measure the handling only (refilling the slots is timed apart and subtracted).
  for (let i = 0; i < 2000; i++) {
    load();
    handle(rx);
  }
  let batches = 0;
  let handling = 0n;
  const gc0 = process.memoryUsage().heapUsed;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    load();
    const t0 = process.hrtime.bigint();
    handle(rx);
    handling += process.hrtime.bigint() - t0;
    batches++;
  }
  const packets_ = batches * BATCH;
  const ns = Number(handling) / packets_;
  console.log(
    `${label.padEnd(36)} ${(1e9 / ns / 1e6).toFixed(2)} M pkt/s per core (${ns.toFixed(0)} ns per packet, ${packets_} packets, heap ${((process.memoryUsage().heapUsed - gc0) / 1e6).toFixed(1)} MB delta)`,
  );
}

/**
 * A million UDP sessions created through the engine (4000 clients x 250 ports, 20 pool4 addresses):
 * the table's own accounting per session and what the process grew by.
 */
function million(): void {
  const clients = 4000;
  const ports = 250;
  const settings = engineSettings(20, { maxSessions: 2_000_000, maxSessionsPerClient: 1000 });
  global.gc?.();
  const before = process.memoryUsage();
  const parts = buildEngine(settings, { maxInputSize: SLOT, inputBatchSize: BATCH });
  parts.engine.setSink({ writeBatch: (_b, _o, _l, count) => count });
  const rx: RxBatch = { buffer: Buffer.alloc(BATCH * SLOT), slotSize: SLOT, batchSize: BATCH, lengths: new Uint32Array(BATCH), vnet: null };
  const template = udp6(0);
  let n = 0;
  const start = performance.now();
  for (let c = 0; c < clients; c++) {
    for (let p = 0; p < ports; p++) {
      const at = n * SLOT;
      rx.buffer.set(template, at);
      rx.buffer[at + 22] = c >> 8; // client address low bytes: 2001:db8:1::<c>
      rx.buffer[at + 23] = c & 0xff;
      rx.buffer[at + 40] = (10_000 + p) >> 8;
      rx.buffer[at + 41] = (10_000 + p) & 0xff;
      rx.buffer[at + 46] = 0; // an IPv6 UDP checksum of 0 is dropped (RFC 8200 8.1): computed per packet
      rx.buffer[at + 47] = 0;
      const sum = internetChecksum(rx.buffer, at + 40, at + 64, pseudoHeaderSum6(rx.buffer, at + 8, rx.buffer, at + 24, 17, 24));
      rx.buffer[at + 46] = sum >> 8;
      rx.buffer[at + 47] = sum & 0xff;
      rx.lengths[n] = template.length;
      if (++n === BATCH) {
        parts.engine.handleBatch(rx, n);
        n = 0;
      }
    }
  }
  if (n > 0) parts.engine.handleBatch(rx, n);
  const seconds = (performance.now() - start) / 1000;
  global.gc?.();
  const after = process.memoryUsage();
  const sessions = parts.table.sessionCount;
  const grown = after.rss - before.rss;
  console.log(
    `table of ${sessions} sessions: created at ${(sessions / seconds / 1e6).toFixed(2)} M/s; ` +
      `tables ${(parts.table.bytesAllocated() / 1e6).toFixed(0)} MB = ${(parts.table.bytesAllocated() / sessions).toFixed(0)} B per session; ` +
      `process grew ${(grown / 1e6).toFixed(0)} MB = ${(grown / sessions).toFixed(0)} B per session`,
  );
}

function main(): void {
  const parts = buildEngine(engineSettings(1), { maxInputSize: SLOT, inputBatchSize: BATCH });
  let written = 0;
  parts.engine.setSink({ writeBatch: (_b, _o, _l, count) => (written += count) });
  run(
    'IPv6 -> IPv4, 64 B UDP',
    (rx) => parts.engine.handleBatch(rx, BATCH),
    (i) => udp6(20_000 + i),
  );
  // The NAT ports the flows got, to aim the replies at.
  const natPorts: number[] = [];
  const cursor = parts.table.cursor();
  const handles = new Int32Array(FLOWS);
  const n = cursor.next(handles);
  for (let i = 0; i < n; i++) natPorts.push(parts.table.natPort(handles[i]!));
  run(
    'IPv4 -> IPv6, 64 B UDP',
    (rx) => parts.engine.handleBatch(rx, BATCH),
    (i) => udp4(natPorts[i % natPorts.length]!),
  );
  console.log(`written ${written} packets; forwarded64 ${parts.engine.counterValues[0]}, forwarded46 ${parts.engine.counterValues[1]}`);
  // Handoff's client-miss handler armed, as when the memory of evicted flows holds some (a full cache):
  // new flows are offered to it, and the same established flows should cost what they cost above.
  const armed = buildEngine(engineSettings(1), { maxInputSize: SLOT, inputBatchSize: BATCH });
  armed.engine.setSink({ writeBatch: (_b, _o, _l, count) => count });
  armed.engine.onClientMiss({ armed: true, miss: () => false });
  run(
    'IPv6 -> IPv4, 64 B UDP, miss armed',
    (rx) => armed.engine.handleBatch(rx, BATCH),
    (i) => udp6(20_000 + i),
  );
  million();
}

main();
