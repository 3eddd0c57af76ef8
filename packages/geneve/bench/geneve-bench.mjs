// Throughput and allocation check for encapsulation and decapsulation. Runs against the build:
//   pnpm --filter @nat64/geneve build && node --expose-gc packages/geneve/bench/geneve-bench.mjs
// For each case: operations per second, heap growth per operation, and the number of
// scavenges seen during a run (none over a million operations means no allocation per operation).
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { GeneveView, Ipv4Encapsulator, Ipv6Encapsulator, createReceivePolicy, decapsulate } from '../dist/index.js';

const OPS = Number(process.env.OPS ?? 1_000_000);
const secret = Uint8Array.from({ length: 32 }, (_, i) => i);
const mapping = {
  protocol: 17,
  event: 2,
  natAddress: 0xc633640a,
  natPort: 40000,
  clientAddress: Uint8Array.from({ length: 16 }, (_, i) => i),
  clientPort: 5353,
  creationTimeUs: 1_700_000_000_123_456,
};

function innerPacket(size) {
  const p = new Uint8Array(size);
  p.set([0x45, 0, size >> 8, size & 0xff, 0, 1, 0x40, 0, 64, 17, 0, 0, 198, 51, 100, 10, 203, 0, 113, 5, 0x9c, 0x40, 0, 53]);
  return p;
}

// Scavenges (minor GCs) only: the forced full GC between cases is not the code's doing.
let scavenges = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
}).observe({ entryTypes: ['gc'] });

async function measure(name, fn) {
  for (let i = 0; i < 50_000; i++) fn(i); // warm up
  globalThis.gc?.();
  await tick();
  scavenges = 0;
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0);
  const heapAfter = process.memoryUsage().heapUsed;
  await tick();
  const perSecond = Math.round(OPS / (ns / 1e9));
  const bytesPerOp = ((heapAfter - heapBefore) / OPS).toFixed(2);
  console.log(`${name.padEnd(44)} ${perSecond.toLocaleString('en-US').padStart(12)} ops/s  heap ${bytesPerOp.padStart(7)} B/op  scavenges ${scavenges}`);
}

for (const size of [64, 1400]) {
  const inner = innerPacket(size);
  for (const [label, make, dst] of [
    ['IPv4', (extra) => new Ipv4Encapsulator({ vni: 7, source: 0xc0000201, ...extra }), 0xcb007105],
    ['IPv6', (extra) => new Ipv6Encapsulator({ vni: 7, source: new Uint8Array(16).fill(1), ...extra }), new Uint8Array(16).fill(5)],
  ]) {
    for (const [variant, extra, map] of [
      ['plain', {}, null],
      ['mapping', {}, mapping],
      ['mapping+auth', { auth: { keyId: 1, secret } }, mapping],
    ]) {
      const e = make(extra);
      const buf = new Uint8Array(e.headroom + size);
      buf.set(inner, e.headroom);
      await measure(`encap ${label} ${size}B ${variant}`, () => e.encapsulate(buf, e.headroom, size, dst, map));
    }
  }
  for (const [variant, extra, policyConfig] of [
    ['plain', {}, {}],
    ['mapping', {}, {}],
    ['mapping+auth', { auth: { keyId: 1, secret } }, { authKeys: new Map([[1, secret]]) }],
  ]) {
    const e = new Ipv4Encapsulator({ vni: 7, source: 0xc0000201, ...extra });
    const buf = new Uint8Array(e.headroom + size);
    buf.set(inner, e.headroom);
    const start = e.encapsulate(buf, e.headroom, size, 0xcb007105, variant === 'plain' ? null : mapping);
    const udp = start + 28;
    const view = new GeneveView();
    const policy = createReceivePolicy(policyConfig);
    if (decapsulate(buf, udp, buf.length - udp, view, policy) !== 0) throw new Error('bench packet rejected');
    await measure(`decap ${size}B ${variant}`, () => decapsulate(buf, udp, buf.length - udp, view, policy));
  }
}
