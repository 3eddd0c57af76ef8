import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { formatMetrics } from '@nat64/service';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.js';
import { effectiveSettings } from '../src/effective.js';
import { gatewayMetricFamilies } from '../src/metrics.js';
import { collectStats } from '../src/stats.js';
import { ipv6 } from '../../../packages/gateway-engine/test/support/packets.js';
import { CLIENT, POOL4, SERVER6, testGateway } from './support/gateway.js';
import { testHandoff } from './handoff/support.js';

describe('metrics', () => {
  it('turns every stats line into a family, counters with _total and levels as gauges', () => {
    const g = testGateway();
    g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    const families = parsePrometheusTextFormat(formatMetrics(gatewayMetricFamilies(g, undefined, null)));
    const byName = new Map(families.map((family) => [family.name, family]));
    expect(collectStats(g).length).toBe(families.length - 2);
    expect(byName.get('nat64_gateway_gateway_forwarded64_total')).toMatchObject({
      type: 'COUNTER',
      help: 'IPv6 packets translated to IPv4 and sent',
      metrics: [{ value: '1' }],
    });
    expect(byName.get('nat64_gateway_table_sessions_udp')).toMatchObject({ type: 'GAUGE', metrics: [{ value: '1' }] });
    expect(byName.get('nat64_gateway_table_bytes_allocated')?.type).toBe('GAUGE');
    expect(byName.get('nat64_gateway_sessions')?.metrics).toEqual([
      { labels: { protocol: 'tcp' }, value: '0' },
      { labels: { protocol: 'udp' }, value: '1' },
      { labels: { protocol: 'icmp' }, value: '0' },
    ]);
    expect(byName.get('nat64_gateway_pool4_ports_in_use')?.metrics).toContainEqual({ labels: { address: POOL4, protocol: 'udp' }, value: '1' });
    expect(byName.has('nat64_gateway_handoff_hosts')).toBe(false);
  });

  it('counts handoff hosts per state, every state listed', () => {
    const h = testHandoff();
    h.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    const families = parsePrometheusTextFormat(formatMetrics(gatewayMetricFamilies(h.g, undefined, h.handoff)));
    const hosts = families.find((family) => family.name === 'nat64_gateway_handoff_hosts')!;
    const counts: Record<string, number> = Object.fromEntries(hosts.metrics.map((metric) => [metric.labels!['state']!, Number(metric.value)]));
    expect(Object.keys(counts).sort()).toEqual(['acknowledging', 'authoritative', 'port-closed', 'silent', 'unknown']);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    expect(families.find((family) => family.name === 'nat64_gateway_handoff_mappings')?.type).toBe('GAUGE');
    expect(families.find((family) => family.name === 'nat64_gateway_agent_queued_entries')?.type).toBe('GAUGE');
  });

  it('names every line uniquely with the Geneve transport too', () => {
    const h = testHandoff({ handoff: { transport: 'auto' } });
    const families = parsePrometheusTextFormat(formatMetrics(gatewayMetricFamilies(h.g, undefined, h.handoff)));
    expect(families.find((family) => family.name === 'nat64_gateway_geneve_tunnels')?.type).toBe('GAUGE');
    expect(families.length).toBe(collectStats(h.g, undefined, h.handoff).length + 3);
  });

  it('reads metrics and routes from the configuration, off by default, and prints them back', () => {
    const base = { prefix: '64:ff9b::/96', pool4: ['198.51.100.1'] };
    const off = loadGatewayConfig({ flags: base });
    expect(off.metrics).toBeUndefined();
    expect(off.routes).toBe(false);
    expect(effectiveSettings(off)).not.toHaveProperty('metrics');
    const on = loadGatewayConfig({ flags: { ...base, metrics: '9464', routes: true } });
    expect(on.metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(on.routes).toBe(true);
    expect(effectiveSettings(on)).toMatchObject({ metrics: '127.0.0.1:9464', routes: true });
    expect(() => loadGatewayConfig({ flags: { ...base, metrics: 'localhost:9464' } })).toThrow(/^metrics: "localhost:9464" is not ADDRESS:PORT/);
  });
});
