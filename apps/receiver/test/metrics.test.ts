import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Counters, formatMetrics } from '@nat64/service';
import { describe, expect, it } from 'vitest';
import { loadReceiverConfig } from '../src/config.js';
import { RECEIVER_COUNTERS } from '@nat64/handoff-receiver';
import { effectiveSettings } from '../src/effective.js';
import { newAckLatencyHistogram, receiverMetricFamilies } from '../src/metrics.js';

describe('metrics', () => {
  it('writes every counter with its explanation, the gauges and the ACK latency in seconds', () => {
    const counters = new Counters(RECEIVER_COUNTERS);
    counters.add('created', 3);
    const latency = newAckLatencyHistogram();
    latency.observe(0.002);
    latency.observe(0.3);
    const gauges = { entries: 5, gateways: 1, commitQueueEntries: 7, commitsInFlight: 2 };
    const families = parsePrometheusTextFormat(formatMetrics(receiverMetricFamilies(counters.snapshot({ all: true }), gauges, latency)));
    const byName = new Map(families.map((family) => [family.name, family]));
    expect(families.filter((family) => family.type === 'COUNTER')).toHaveLength(Object.keys(RECEIVER_COUNTERS).length);
    expect(byName.get('nat64_receiver_created_total')).toEqual({
      name: 'nat64_receiver_created_total',
      help: RECEIVER_COUNTERS.created,
      type: 'COUNTER',
      metrics: [{ value: '3' }],
    });
    expect(byName.get('nat64_receiver_commit_queue_entries')).toMatchObject({ type: 'GAUGE', metrics: [{ value: '7' }] });
    expect(byName.get('nat64_receiver_commits_in_flight')?.metrics).toEqual([{ value: '2' }]);
    expect(byName.has('nat64_receiver_bypass_tunnels')).toBe(false);
    const withBypass = receiverMetricFamilies([], { ...gauges, bypassTunnels: 3 }, latency);
    expect(withBypass.find((family) => family.name === 'nat64_receiver_bypass_tunnels')).toMatchObject({ type: 'gauge', samples: [{ value: 3 }] });
    const [histogram] = byName.get('nat64_receiver_ack_latency_seconds')!.metrics;
    expect(histogram).toMatchObject({ count: '2', sum: '0.302' });
    expect(histogram!.buckets).toMatchObject({ '0.001': '0', '0.0025': '1', '0.25': '1', '0.5': '2', '+Inf': '2' });
  });

  it('reads --metrics, off by default, loopback for a bare port', () => {
    expect(loadReceiverConfig({ flags: {} }).metrics).toBeUndefined();
    const config = loadReceiverConfig({ flags: { metrics: '9465' } });
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 9465 });
    expect(effectiveSettings(config)).toMatchObject({ metrics: '127.0.0.1:9465' });
    expect(() => loadReceiverConfig({ flags: { metrics: '[::1]' } })).toThrow(/metrics: "\[::1\]" is not ADDRESS:PORT/);
  });
});
