// The order of a commit's log lines (commit-lines.ts), for events held as records (the writer) and
// as objects (log recovery) alike: stably by NAT address, port and protocol. A commit interleaves the messages of a few gateways,
// each mostly in port order, so the records come as ascending runs; a natural merge sort of their
// indexes on one numeric key merges those runs without a comparator call or an object per entry.
import type { EventRecords } from '@nat64/conntrack';

const PORT_SPAN = 0x1_0000;
/** Protocols take 5 bits of the key: the tracked ones (1, 6, 17) keep their order below 32. */
const PROTOCOL_SPAN = 32;

/** The key a line sorts by: NAT address, then port, then protocol, as one exact integer (below 2^48 * 32 = 2^53). */
export function lineKey(natAddress: number, natPort: number, protocol: number): number {
  return (natAddress * PORT_SPAN + natPort) * PROTOCOL_SPAN + Math.min(protocol, PROTOCOL_SPAN - 1);
}

/**
 * The indexes of `records` in the order of their lines, or undefined when that is the order they
 * are in (the common case: one gateway's new ports, in order).
 */
export function recordOrder(records: EventRecords): Uint32Array | undefined {
  const keys = new Float64Array(records.length);
  for (let i = 0; i < keys.length; i++) keys[i] = lineKey(records.natAddress(i), records.natPort(i), records.protocol(i));
  return orderByKeys(keys);
}

/** The indexes of `keys` stably sorted by key, or undefined when they already are. */
export function orderByKeys(keys: Float64Array): Uint32Array | undefined {
  const n = keys.length;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = keys[i - 1]! <= keys[i]!;
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
