// End to end: both daemons serve Prometheus metrics (`--metrics`), scraped over HTTP with curl from
// inside their namespaces and read with a Prometheus text parser (topology in support/handoff-lab.ts):
//
//   client (IPv6 only) <--veth--> gateway (nat64-gateway, --metrics 9464) <--veth--> server (IPv4 only)
//   2001:db8:1::2                  127.0.0.1:9464 in its namespace              203.0.113.2: nat64-receiver
//                                                                               --metrics 9465, HTTP 8080

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUnavailableReason, waitFor } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GATEWAY_MAIN,
  REPO,
  ADDRESSES,
  createTopology,
  gatewayUnbuiltReason,
  type RunningGateway,
  type Topology,
  startLabGateway,
} from './support/gateway-lab.js';
import {
  curlAndExpectLogged,
  gatewayCounters,
  receiverCounters,
  receiverUnbuiltReason,
  startHttpServer,
  startReceiver,
  waitForQuietPeer,
  type HttpServer,
  type RunningReceiver,
} from './support/handoff-lab.js';
import { promtoolComplaints, scrape } from './support/metrics.js';

const unavailable = labUnavailableReason(['curl']) ?? gatewayUnbuiltReason() ?? receiverUnbuiltReason();
if (unavailable) console.log(`metrics end-to-end tests skipped: ${unavailable}`);

const GATEWAY_METRICS = 'http://127.0.0.1:9464/metrics';
const RECEIVER_METRICS = 'http://127.0.0.1:9465/metrics';

/** `tun.rxPackets` → `nat64_gateway_tun_rx_packets`. */
const metricBase = (prefix: string, name: string) =>
  `${prefix}_${name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^a-zA-Z0-9_]+/g, '_')
    .toLowerCase()}`;

describe.skipIf(unavailable)('metrics (end to end)', () => {
  let t: Topology;
  let dir: string;
  let control: string;
  let gateway: RunningGateway;
  let receiver: RunningReceiver;
  let http: HttpServer;

  beforeAll(async () => {
    t = createTopology('met');
    dir = mkdtempSync(join(tmpdir(), 'n64-metrics-e2e-'));
    control = join(dir, 'gateway.sock');
    receiver = await startReceiver(t, dir, ['--metrics', '9465']);
    http = await startHttpServer(t);
    gateway = await startLabGateway(t, control, ['--metrics', '9464']);
    await curlAndExpectLogged(t, http, receiver);
    await waitForQuietPeer(GATEWAY_MAIN, control, 'authoritative');
  });

  afterAll(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('serves every gateway counter of stats, with its explanation as HELP', async () => {
    const page = await scrape(t.gateway, GATEWAY_METRICS);
    const stats = await gatewayCounters(GATEWAY_MAIN, control);
    const listing = (
      JSON.parse((await t.gateway.run('node', [GATEWAY_MAIN, 'stats', '--control', control, '--json', '--all', '--explain'])).stdout) as {
        counters: { group: string; name: string; explanation: string }[];
      }
    ).counters;
    expect(Object.keys(stats).length).toBeGreaterThan(100);
    for (const line of listing) {
      const base = metricBase('nat64_gateway', `${line.group}.${line.name}`);
      const family = page.families.find((candidate) => candidate.name === base || candidate.name === `${base}_total`);
      expect(family, `${line.group}.${line.name}`).toBeDefined();
      if (line.explanation !== '') expect(family!.help).toBe(line.explanation);
    }
    expect(page.value('nat64_gateway_gateway_forwarded64_total')).toBeGreaterThan(0);
    expect(page.family('nat64_gateway_gateway_forwarded64_total').type).toBe('COUNTER');
    expect(page.family('nat64_gateway_table_sessions_tcp').type).toBe('GAUGE');
    expect(promtoolComplaints(page.text) ?? '').toBe('');
  });

  it('serves the gateway gauges: sessions per protocol, pool4 ports in use, handoff hosts per state', async () => {
    const page = await scrape(t.gateway, GATEWAY_METRICS);
    expect(page.family('nat64_gateway_sessions').type).toBe('GAUGE');
    expect(page.value('nat64_gateway_sessions', { protocol: 'tcp' })).toBeGreaterThanOrEqual(1);
    expect(page.value('nat64_gateway_sessions', { protocol: 'udp' })).toBe(0);
    expect(page.value('nat64_gateway_pool4_ports_in_use', { address: ADDRESSES.pool4, protocol: 'tcp' })).toBeGreaterThanOrEqual(1);
    expect(page.value('nat64_gateway_pool4_ports_in_use', { address: ADDRESSES.pool4, protocol: 'icmp' })).toBe(0);
    expect(page.value('nat64_gateway_handoff_hosts', { state: 'authoritative' })).toBe(1);
    expect(page.value('nat64_gateway_handoff_hosts', { state: 'silent' })).toBe(0);
  });

  it('serves every receiver counter, the table and queue gauges and the ACK latency histogram', async () => {
    const page = await scrape(t.server, RECEIVER_METRICS);
    const counters = await receiverCounters(t, receiver);
    for (const [name, value] of Object.entries(counters)) {
      expect(page.value(`${metricBase('nat64_receiver', name)}_total`), name).toBeGreaterThanOrEqual(value);
    }
    expect(page.value('nat64_receiver_created_total')).toBeGreaterThanOrEqual(1);
    expect(page.family('nat64_receiver_created_total').help).toBe('entries created (a "Created" log line each)');
    expect(page.value('nat64_receiver_table_entries')).toBeGreaterThanOrEqual(1);
    expect(page.value('nat64_receiver_gateways')).toBe(1);
    expect(page.value('nat64_receiver_commit_queue_entries')).toBe(0);
    const latency = page.family('nat64_receiver_ack_latency_seconds');
    expect(latency.type).toBe('HISTOGRAM');
    const [histogram] = latency.metrics;
    expect(Number(histogram!.count)).toBeGreaterThanOrEqual(1);
    expect(Number(histogram!.count)).toBe(Number(histogram!.buckets!['+Inf']));
    expect(Number(histogram!.sum)).toBeGreaterThan(0);
    expect(promtoolComplaints(page.text) ?? '').toBe('');
  });

  it('serves every metric the shipped Grafana dashboard queries', async () => {
    const dashboard = readFileSync(join(REPO, 'contrib/grafana/nat64-handoff.json'), 'utf8');
    const used = new Set([...dashboard.matchAll(/nat64_(?:gateway|receiver)_[a-z0-9_]+/g)].map(([name]) => name.replace(/_bucket$/, '')));
    expect(used.size).toBeGreaterThan(20);
    const served = new Set(
      [...(await scrape(t.gateway, GATEWAY_METRICS)).families, ...(await scrape(t.server, RECEIVER_METRICS)).families].map((family) => family.name),
    );
    expect([...used].filter((name) => !served.has(name))).toEqual([]);
  });

  it('answers only on loopback when given only a port, and only at /metrics', async () => {
    const outside = await t.server.run('curl', ['-sS', '--max-time', '3', `http://${ADDRESSES.server}:9465/metrics`]);
    expect(outside.code).not.toBe(0);
    const elsewhere = await t.gateway.run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:9464/']);
    expect(elsewhere.stdout).toBe('404');
    await waitFor('the receiver still answering', async () => (await scrape(t.server, RECEIVER_METRICS)).value('nat64_receiver_gateways') === 1);
  });
});
