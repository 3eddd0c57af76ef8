// Prometheus text exposition (format 0.0.4): metric families with HELP and TYPE lines, counters,
// gauges and histograms with cumulative buckets. Both daemons render their counters through it for
// `--metrics`; names and label names are checked here, so a bad name is a programming error found by
// the first scrape in a test, never an unparsable page.

export type MetricType = 'counter' | 'gauge' | 'histogram';

export type MetricLabels = Readonly<Record<string, string>>;

export interface MetricSample {
  readonly labels?: MetricLabels;
  readonly value: number;
}

export interface CounterOrGaugeFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly samples: readonly MetricSample[];
}

export interface HistogramFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly histograms: readonly { readonly labels?: MetricLabels; readonly histogram: Histogram }[];
}

export type MetricFamily = CounterOrGaugeFamily | HistogramFamily;

/** The Content-Type of the text format this module writes. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A histogram with fixed upper bounds (seconds for latencies). `observe` allocates nothing, so it
 * may sit on a hot path; the counts are per bucket and made cumulative when written.
 */
export class Histogram {
  readonly bounds: readonly number[];
  /** Observations per bucket, the last one past every bound (+Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    if (bounds.length === 0) throw new RangeError('a histogram needs at least one bucket bound');
    for (let i = 0; i < bounds.length; i++) {
      if (!Number.isFinite(bounds[i]!) || (i > 0 && bounds[i]! <= bounds[i - 1]!)) {
        throw new RangeError('histogram bounds must be finite and strictly increasing');
      }
    }
    this.bounds = [...bounds];
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** `rxPackets` → `rx_packets`, `geneveDrop.badOption` → `geneve_drop_bad_option`: a name fragment Prometheus accepts. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^a-zA-Z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

/** Writes the families as one exposition page; throws on an invalid metric or label name. */
export function formatMetrics(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) throw new Error(`invalid metric name ${JSON.stringify(family.name)}`);
    if (seen.has(family.name)) throw new Error(`metric ${family.name} written twice`);
    seen.add(family.name);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === 'histogram') {
      for (const { labels, histogram } of family.histograms) writeHistogram(lines, family.name, labels ?? {}, histogram);
    } else {
      for (const sample of family.samples) lines.push(`${family.name}${formatLabels(sample.labels ?? {})} ${formatValue(sample.value)}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function writeHistogram(lines: string[], name: string, labels: MetricLabels, histogram: Histogram): void {
  let cumulative = 0;
  histogram.bounds.forEach((bound, i) => {
    cumulative += histogram.counts[i]!;
    lines.push(`${name}_bucket${formatLabels({ ...labels, le: formatValue(bound) })} ${formatValue(cumulative)}`);
  });
  lines.push(`${name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${formatValue(histogram.count)}`);
  lines.push(`${name}_sum${formatLabels(labels)} ${formatValue(histogram.sum)}`);
  lines.push(`${name}_count${formatLabels(labels)} ${formatValue(histogram.count)}`);
}

function formatLabels(labels: MetricLabels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return '';
  const pairs = names.map((label) => {
    if (!LABEL_NAME.test(label) || label.startsWith('__')) throw new Error(`invalid label name ${JSON.stringify(label)}`);
    return `${label}="${escapeLabelValue(labels[label]!)}"`;
  });
  return `{${pairs.join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** A counter line as `stats` shows it: a group (optional), a name, a value and its `--explain` text. */
export interface CounterLine {
  readonly group?: string;
  readonly name: string;
  readonly value: number;
  readonly explanation: string;
}

/**
 * One family per `stats` line: `PREFIX_GROUP_NAME_total` for counters, `PREFIX_GROUP_NAME` for the
 * lines `isGauge` picks (values that go down: table sizes, queue depths), the explanation as HELP.
 */
export function counterFamilies(prefix: string, lines: readonly CounterLine[], isGauge: (line: CounterLine) => boolean): MetricFamily[] {
  return lines.map((line) => {
    const base = [prefix, line.group, snakeCase(line.name)].filter((part) => part !== undefined && part !== '').join('_');
    const gauge = isGauge(line);
    return {
      name: gauge ? base : `${base}_total`,
      help: line.explanation === '' ? `${line.group === undefined ? '' : `${line.group}.`}${line.name}` : line.explanation,
      type: gauge ? 'gauge' : 'counter',
      samples: [{ value: line.value }],
    };
  });
}
