import { request } from 'node:http';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConfigReader,
  Histogram,
  counterFamilies,
  formatMetrics,
  formatMetricsAddress,
  listenMetrics,
  parseMetricsAddress,
  readMetricsAddress,
  snakeCase,
  type MetricFamily,
  type MetricsServer,
} from '@nat64/service';

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics', () => {
  it('writes HELP, TYPE and samples with escaped help and label values', () => {
    const histogram = new Histogram([0.001, 0.01, 0.1]);
    histogram.observe(0.0005);
    histogram.observe(0.001);
    histogram.observe(0.05);
    histogram.observe(3);
    const families: MetricFamily[] = [
      { name: 'x_packets_total', help: 'packets read\\written\nper device', type: 'counter', samples: [{ value: 42 }] },
      {
        name: 'x_sessions',
        help: 'sessions',
        type: 'gauge',
        samples: [
          { labels: { protocol: 'tcp' }, value: 3 },
          { labels: { protocol: 'say "hi"\\\n' }, value: 0 },
        ],
      },
      { name: 'x_ack_latency_seconds', help: 'latency', type: 'histogram', histograms: [{ histogram }] },
    ];
    expect(formatMetrics(families)).toBe(
      [
        '# HELP x_packets_total packets read\\\\written\\nper device',
        '# TYPE x_packets_total counter',
        'x_packets_total 42',
        '# HELP x_sessions sessions',
        '# TYPE x_sessions gauge',
        'x_sessions{protocol="tcp"} 3',
        'x_sessions{protocol="say \\"hi\\"\\\\\\n"} 0',
        '# HELP x_ack_latency_seconds latency',
        '# TYPE x_ack_latency_seconds histogram',
        'x_ack_latency_seconds_bucket{le="0.001"} 2',
        'x_ack_latency_seconds_bucket{le="0.01"} 2',
        'x_ack_latency_seconds_bucket{le="0.1"} 3',
        'x_ack_latency_seconds_bucket{le="+Inf"} 4',
        'x_ack_latency_seconds_sum 3.0515',
        'x_ack_latency_seconds_count 4',
        '',
      ].join('\n'),
    );
  });

  it('writes pages a Prometheus text parser reads back', () => {
    const histogram = new Histogram([0.5, 1]);
    histogram.observe(0.7);
    const text = formatMetrics([
      { name: 'x_packets_total', help: 'packets "read"', type: 'counter', samples: [{ value: 7 }] },
      { name: 'x_ports', help: 'ports', type: 'gauge', samples: [{ labels: { address: '198.51.100.1', protocol: 'udp' }, value: 12 }] },
      { name: 'x_latency_seconds', help: 'latency', type: 'histogram', histograms: [{ histogram }] },
    ]);
    // (this parser drops the labels, sum and count of a labelled histogram, so the one here has none)
    const parsed = parsePrometheusTextFormat(text);
    expect(parsed).toEqual([
      { name: 'x_packets_total', help: 'packets "read"', type: 'COUNTER', metrics: [{ value: '7' }] },
      { name: 'x_ports', help: 'ports', type: 'GAUGE', metrics: [{ labels: { address: '198.51.100.1', protocol: 'udp' }, value: '12' }] },
      {
        name: 'x_latency_seconds',
        help: 'latency',
        type: 'HISTOGRAM',
        metrics: [{ buckets: { '0.5': '0', '1': '1', '+Inf': '1' }, count: '1', sum: '0.7' }],
      },
    ]);
  });

  it('refuses invalid metric and label names and a family written twice', () => {
    expect(() => formatMetrics([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }])).toThrow(/invalid metric name/);
    expect(() => formatMetrics([{ name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'a-b': 'x' }, value: 1 }] }])).toThrow(/invalid label name/);
    const twice: MetricFamily = { name: 'ok', help: '', type: 'gauge', samples: [] };
    expect(() => formatMetrics([twice, twice])).toThrow(/written twice/);
  });

  it('refuses histogram bounds that do not increase', () => {
    expect(() => new Histogram([])).toThrow(RangeError);
    expect(() => new Histogram([1, 1])).toThrow(RangeError);
    expect(() => new Histogram([1, Infinity])).toThrow(RangeError);
  });

  it('turns stats names into metric names, counters with _total', () => {
    expect(snakeCase('rxPackets')).toBe('rx_packets');
    expect(snakeCase('forwarded64')).toBe('forwarded64');
    expect(snakeCase('geneveDrop.badOption')).toBe('geneve_drop_bad_option');
    expect(snakeCase('sendHTTPRequest')).toBe('send_http_request');
    const families = counterFamilies(
      'nat64_gateway',
      [
        { group: 'tun', name: 'rxPackets', value: 5, explanation: 'packets read from the TUN device' },
        { group: 'table', name: 'sessionsTcp', value: 2, explanation: 'TCP sessions in the table' },
        { name: 'created', value: 1, explanation: '' },
      ],
      (line) => line.name === 'sessionsTcp',
    );
    expect(families).toEqual([
      { name: 'nat64_gateway_tun_rx_packets_total', help: 'packets read from the TUN device', type: 'counter', samples: [{ value: 5 }] },
      { name: 'nat64_gateway_table_sessions_tcp', help: 'TCP sessions in the table', type: 'gauge', samples: [{ value: 2 }] },
      { name: 'nat64_gateway_created_total', help: 'created', type: 'counter', samples: [{ value: 1 }] },
    ]);
  });

  it('reads a listening address, loopback when given only a port', () => {
    expect(parseMetricsAddress('9464', 'metrics')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseMetricsAddress('0.0.0.0:9100', 'metrics')).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(parseMetricsAddress('[::1]:9100', 'metrics')).toEqual({ host: '::1', port: 9100 });
    expect(formatMetricsAddress({ host: '::1', port: 9100 })).toBe('[::1]:9100');
    for (const bad of ['', 'localhost:9100', '::1:9100', '[198.51.100.1]:80', '1.2.3:80', '9100000', '0', 'x:1']) {
      expect(() => parseMetricsAddress(bad, 'metrics'), bad).toThrow(ConfigError);
    }
    expect(() => parseMetricsAddress('1.2.3.4:70000', 'metrics')).toThrow(/metrics: "1.2.3.4:70000" is not ADDRESS:PORT/);
  });

  it('reads an optional address setting: absent or empty is none, a bad one throws where it is', () => {
    const read = (value: unknown) => ConfigReader.read(value, undefined, (reader) => readMetricsAddress(reader.object('service'), 'metrics'));
    expect(read({ service: { metrics: '[::1]:9100' } })).toEqual({ host: '::1', port: 9100 });
    expect(read({ service: { metrics: '' } })).toBeUndefined();
    expect(read({ service: {} })).toBeUndefined();
    expect(() => read({ service: { metrics: 'x:1' } })).toThrow(/^service\.metrics: "x:1" is not ADDRESS:PORT/);
    expect(() => read({ service: { metrics: 9100 } })).toThrow(/^service\.metrics: expected a string$/);
  });

  describe('server', () => {
    let server: MetricsServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('serves the page rendered at each scrape on /metrics, and nothing else', async () => {
      let scrapes = 0;
      server = await listenMetrics({ host: '127.0.0.1', port: 0 }, () => {
        scrapes++;
        return formatMetrics([{ name: 'scrapes_total', help: 'scrapes', type: 'counter', samples: [{ value: scrapes }] }]);
      });
      const first = await get(server.address.port, '/metrics');
      expect(first.status).toBe(200);
      expect(first.type).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(parsePrometheusTextFormat(first.body)[0]!.metrics).toEqual([{ value: '1' }]);
      expect(parsePrometheusTextFormat((await get(server.address.port, '/metrics')).body)[0]!.metrics).toEqual([{ value: '2' }]);
      expect((await get(server.address.port, '/')).status).toBe(404);
      expect((await get(server.address.port, '/metrics', 'POST')).status).toBe(405);
    });

    it('answers 500 when rendering fails, and keeps serving', async () => {
      let fail = true;
      server = await listenMetrics({ host: '127.0.0.1', port: 0 }, () => {
        if (fail) throw new Error('boom');
        return '';
      });
      const failed = await get(server.address.port, '/metrics');
      expect(failed.status).toBe(500);
      expect(failed.body).toContain('boom');
      fail = false;
      expect((await get(server.address.port, '/metrics')).status).toBe(200);
    });

    it('rejects an address it cannot bind', async () => {
      server = await listenMetrics({ host: '127.0.0.1', port: 0 }, () => '');
      await expect(listenMetrics({ host: '127.0.0.1', port: server.address.port }, () => '')).rejects.toThrow(/EADDRINUSE/);
    });
  });
});
