// Translation throughput on one core: parse + translate into a preallocated batch, in a tight loop,
// for 64-byte UDP and 1400-byte TCP in both directions. Also counts garbage collections during
// each run: a loop that allocates nothing per packet triggers none.
//
//   pnpm --filter @nat64/xlat build && node packages/xlat/bench/translate.mjs [packets]

import { PerformanceObserver } from 'node:perf_hooks';
import { Ipv4View, Ipv6View, Mapping46, Mapping64, PacketBatch, Translator, Verdict, parseIpv4, parseIpv6 } from '../dist/index.js';
import { internetChecksum, ipv6TextToBytes, pseudoHeaderSum4, pseudoHeaderSum6 } from '@nat64/wire';

const N = Number(process.argv[2] ?? 3_000_000);
const CLIENT6 = ipv6TextToBytes('2001:db8::5');
const SERVER6 = ipv6TextToBytes('64:ff9b::198.51.100.2');
const POOL4 = 0xc0000202;
const SERVER4 = 0xc6336402;

function ipv6Packet(protocol, total) {
  const p = new Uint8Array(total);
  p[0] = 0x60;
  p[4] = (total - 40) >> 8;
  p[5] = (total - 40) & 0xff;
  p[6] = protocol;
  p[7] = 64;
  p.set(CLIENT6, 8);
  p.set(SERVER6, 24);
  fillTransport(p, 40, protocol, total - 40, pseudoHeaderSum6(p, 8, p, 24, protocol, total - 40));
  return p;
}

function ipv4Packet(protocol, total) {
  const p = new Uint8Array(total);
  p.set([0x45, 0, total >> 8, total & 0xff, 0, 1, 0x40, 0, 64, protocol]);
  p.set([198, 51, 100, 2, 192, 0, 2, 2], 12);
  const sum = internetChecksum(p, 0, 20);
  p[10] = sum >> 8;
  p[11] = sum & 0xff;
  fillTransport(p, 20, protocol, total - 20, pseudoHeaderSum4(SERVER4, POOL4, protocol, total - 20));
  return p;
}

function fillTransport(p, at, protocol, length, pseudo) {
  p.set([0x04, 0xd2, 0x00, 0x35], at);
  for (let i = at + 20; i < p.length; i++) p[i] = i & 0xff;
  const field = protocol === 6 ? at + 16 : at + 6;
  if (protocol === 6) p[at + 12] = 0x50;
  else p.set([length >> 8, length & 0xff], at + 4);
  const sum = internetChecksum(p, at, at + length, pseudo);
  p[field] = sum >> 8;
  p[field + 1] = sum & 0xff;
}

const translator = new Translator({ ipv6Address: '2001:db8::1', ipv4Address: '192.0.2.1' });
const out = new PacketBatch({ capacity: 64, maxPacketSize: 1600, headroom: 128 });
const v6 = new Ipv6View();
const v4 = new Ipv4View();
const m64 = new Mapping64();
m64.src = POOL4;
m64.dst = SERVER4;
m64.srcPort = 40000;
m64.dstPort = 53;
const m46 = new Mapping46();
m46.src.set(SERVER6);
m46.dst.set(CLIENT6);
m46.srcPort = 53;
m46.dstPort = 1234;

function run64(packet, n) {
  for (let i = 0; i < n; i++) {
    if (out.count === out.capacity) out.reset();
    parseIpv6(packet, 0, packet.length, v6);
    if (translator.toIpv4(v6, m64, out) !== Verdict.forward) throw new Error(`dropped: ${translator.reason}`);
  }
}

function run46(packet, n) {
  for (let i = 0; i < n; i++) {
    if (out.count === out.capacity) out.reset();
    parseIpv4(packet, 0, packet.length, v4);
    if (translator.toIpv6(v4, m46, out) !== Verdict.forward) throw new Error(`dropped: ${translator.reason}`);
  }
}

let collections = 0;
new PerformanceObserver((list) => {
  collections += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

const cases = [
  ['UDP 64 B   6->4', run64, ipv6Packet(17, 64)],
  ['UDP 64 B   4->6', run46, ipv4Packet(17, 64)],
  ['TCP 1400 B 6->4', run64, ipv6Packet(6, 1400)],
  ['TCP 1400 B 4->6', run46, ipv4Packet(6, 1400)],
];
for (const [name, run, packet] of cases) {
  run(packet, 200_000); // warm up the JIT
  out.reset();
  await settle();
  collections = 0;
  const heapBefore = process.memoryUsage().heapUsed;
  const start = process.hrtime.bigint();
  run(packet, N);
  const ns = Number(process.hrtime.bigint() - start);
  const heapAfter = process.memoryUsage().heapUsed;
  await settle();
  const perSecond = (N / ns) * 1e9;
  console.log(
    `${name}: ${(perSecond / 1e6).toFixed(2)} M packets/s (${(ns / N).toFixed(0)} ns each), ` +
      `${collections} GCs, heap ${((heapAfter - heapBefore) / 1024).toFixed(0)} KiB over ${N} packets`,
  );
}
