// The receiver's Prometheus page (`--metrics`): every counter `stats` shows, as
// `nat64_receiver_<name>_total` with the `--explain` text as HELP, and gauges of the table, the
// gateways and the commit queue, and the ACK latency histogram (seconds from applying a reliable
// message until its ACK is due: the store's commit and the log's write in between; ackDelay comes after).
import { Histogram, counterFamilies, type CounterSnapshot, type MetricFamily } from '@nat64/service';

const PREFIX = 'nat64_receiver';

/** Upper bounds in seconds: a commit with full durability takes a few milliseconds on a disk. */
export const ACK_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function newAckLatencyHistogram(): Histogram {
  return new Histogram(ACK_LATENCY_BUCKETS);
}

export interface ReceiverGauges {
  /** Entries in the table (live and history kept for lookups). */
  readonly entries: number;
  /** Gateway epochs known. */
  readonly gateways: number;
  /** Entries waiting for a commit. */
  readonly commitQueueEntries: number;
  /** Commits started and not yet durable. */
  readonly commitsInFlight: number;
  /** NAT64 bypass tunnels up, when the bypass transport runs. */
  readonly bypassTunnels?: number;
}

export function receiverMetricFamilies(counters: readonly CounterSnapshot[], gauges: ReceiverGauges, ackLatency: Histogram): MetricFamily[] {
  const gauge = (name: string, help: string, value: number): MetricFamily => ({ name: `${PREFIX}_${name}`, help, type: 'gauge', samples: [{ value }] });
  return [
    ...counterFamilies(PREFIX, counters, () => false),
    gauge('table_entries', 'entries in the table', gauges.entries),
    gauge('gateways', 'gateway epochs known', gauges.gateways),
    gauge('commit_queue_entries', 'entries of applied messages waiting for a store commit', gauges.commitQueueEntries),
    gauge('commits_in_flight', 'store commits started and not yet durable', gauges.commitsInFlight),
    ...(gauges.bypassTunnels === undefined ? [] : [gauge('bypass_tunnels', 'NAT64 bypass tunnels up', gauges.bypassTunnels)]),
    {
      name: `${PREFIX}_ack_latency_seconds`,
      help: 'seconds from applying a CREATED/DELETED message until its ACK is due (store commit and log write; the ACK may then wait up to ackDelay)',
      type: 'histogram',
      histograms: [{ histogram: ackLatency }],
    },
  ];
}
