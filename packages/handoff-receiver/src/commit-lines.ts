// The lines of one commit, in the one order that both the receiver writing them and log recovery
// rebuilding them after a crash produce, so that a recovered log is byte for byte the log that
// would have been written: first the gateways the commit initialized, by address; then the
// entries' events NAT address by NAT address, port by port, protocol by protocol, and each key's
// events in the order they happened to it. All lines of a commit carry its time, so ordering
// unrelated keys within it hides nothing a reader could see; the order per key is what matters.
import type { ConnEvent } from '@nat64/conntrack';
import { entryLine, initializedLine, type TimeZoneMode } from './conn-log.js';
import { lineKey, orderByKeys } from './record-order.js';

/** The lines of the commit at `at` that initialized `gateways` (NAT addresses) and made `events` (in the order they happened). */
export function commitLines(at: number, gateways: readonly number[], events: readonly ConnEvent[], zone: TimeZoneMode): string[] {
  const lines: string[] = [];
  for (const gateway of [...gateways].sort((a, b) => a - b)) lines.push(initializedLine(at, gateway, zone));
  for (const event of commitOrder(events)) lines.push(entryLine(at, event.kind === 'created' ? 'Created' : 'Deleted', event.entry, zone));
  return lines;
}

/** `events` in the order of their lines (record-order.ts); the array itself when it already is (the common case: one gateway's new ports, in order). */
function commitOrder(events: readonly ConnEvent[]): readonly ConnEvent[] {
  const keys = Float64Array.from(events, ({ entry }) => lineKey(entry.natAddress, entry.natPort, entry.protocol));
  const order = orderByKeys(keys);
  return order === undefined ? events : Array.from(order, (index) => events[index]!);
}
