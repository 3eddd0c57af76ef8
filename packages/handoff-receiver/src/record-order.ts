// The order of a commit's log lines (commit-lines.ts, commitOrder) for events held as records:
// stably by NAT address, port and protocol. A commit interleaves the messages of a few gateways,
// each mostly in port order, so the records come as ascending runs; a natural merge sort of their
// indexes on one numeric key merges those runs without a comparator call or an object per entry.
import type { EventRecords } from '@nat64/conntrack';

const PORT_SPAN = 0x1_0000;
/** Protocols take 5 bits of the key: the tracked ones (1, 6, 17) keep their order below 32. */
const PROTOCOL_SPAN = 32;

/**
 * The indexes of `records` in the order of their lines, or undefined when that is the order they
 * are in (the common case: one gateway's new ports, in order).
 */
export function recordOrder(records: EventRecords): Uint32Array | undefined {
  const n = records.length;
  const keys = new Float64Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    // Below 2^48 * 32 = 2^53: an exact integer.
    keys[i] = (records.natAddress(i) * PORT_SPAN + records.natPort(i)) * PROTOCOL_SPAN + Math.min(records.protocol(i), PROTOCOL_SPAN - 1);
    if (i > 0 && keys[i]! < keys[i - 1]!) sorted = false;
  }
  if (sorted) return undefined;
  // Starts of the ascending runs, then the end.
  let starts = new Uint32Array(n + 1);
  let runs = 0;
  for (let i = 0; i < n; i++) if (i === 0 || keys[i]! < keys[i - 1]!) starts[runs++] = i;
  starts[runs] = n;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let into = new Uint32Array(n);
  let merged = new Uint32Array(n + 1);
  while (runs > 1) {
    let count = 0;
    for (let r = 0; r < runs; r += 2) {
      const start = starts[r]!;
      const middle = starts[r + 1]!;
      const end = r + 2 <= runs ? starts[r + 2]! : middle;
      merge(keys, order, into, start, middle, end);
      merged[count++] = start;
    }
    merged[count] = n;
    [order, into] = [into, order];
    [starts, merged] = [merged, starts];
    runs = count;
  }
  return order;
}

/** Merges order[start, middle) and order[middle, end) into into[start, end), the left run first on equal keys. */
function merge(keys: Float64Array, order: Uint32Array, into: Uint32Array, start: number, middle: number, end: number): void {
  let left = start;
  let right = middle;
  let o = start;
  while (left < middle && right < end) {
    if (keys[order[right]!]! < keys[order[left]!]!) into[o++] = order[right++]!;
    else into[o++] = order[left++]!;
  }
  while (left < middle) into[o++] = order[left++]!;
  while (right < end) into[o++] = order[right++]!;
}
