// Loaded into the receiver by `receiver-tail` (node --import): the main thread's event-loop delay
// and garbage-collection pauses, written as JSON to RECEIVER_TAIL_PROBE on SIGTERM.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import type { Percentiles } from './report.js';

export interface ProbeReport {
  eventLoopDelayMs: Percentiles;
  gcPausesMs: { count: number; total: number; max: number; scavenges: number; scavengeTotal: number };
}

const target = process.env.RECEIVER_TAIL_PROBE;
if (isMainThread && target !== undefined) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const pauses: Array<{ scavenge: boolean; ms: number }> = [];
  // kind 1 is a scavenge (perf_hooks constants.NODE_PERFORMANCE_GC_MINOR).
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push({ scavenge: (entry as { detail?: { kind?: number } }).detail?.kind === 1, ms: entry.duration });
  }).observe({ entryTypes: ['gc'] });
  const ms = (nanoseconds: number) => nanoseconds / 1e6;
  const write = (): void => {
    const report: ProbeReport = {
      eventLoopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      gcPausesMs: {
        count: pauses.length,
        total: pauses.reduce((sum, pause) => sum + pause.ms, 0),
        max: Math.max(0, ...pauses.map((pause) => pause.ms)),
        scavenges: pauses.filter((pause) => pause.scavenge).length,
        scavengeTotal: pauses.filter((pause) => pause.scavenge).reduce((sum, pause) => sum + pause.ms, 0),
      },
    };
    writeFileSync(target, JSON.stringify(report));
  };
  // Before the daemon's own SIGTERM handler stops it.
  process.prependListener('SIGTERM', write);
}
