// Operations per second of a tight loop, and whether it allocates: the loop runs in rounds after a
// warm-up, and a GC observer counts the minor collections (scavenges) during the timed rounds, so
// "0 per million" means the operation allocates nothing that survives to need collecting.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { spread, type Spread } from './report.js';

let scavenges = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
  }
});

export interface OpsResult {
  opsPerSecond: Spread;
  scavengesPerMillion: number;
}

export async function measureOps(operation: (i: number) => unknown, options: { rounds?: number; opsPerRound?: number } = {}): Promise<OpsResult> {
  const rounds = options.rounds ?? 5;
  const opsPerRound = options.opsPerRound ?? 500_000;
  for (let i = 0; i < 100_000; i++) operation(i);
  observer.observe({ entryTypes: ['gc'] });
  await new Promise((resolve) => setImmediate(resolve));
  scavenges = 0;
  const rates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < opsPerRound; i++) operation(i);
    rates.push(opsPerRound / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  // GC entries are delivered asynchronously, after a timer turn rather than an immediate.
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return { opsPerSecond: spread(rates), scavengesPerMillion: (scavenges * 1e6) / (rounds * opsPerRound) };
}
