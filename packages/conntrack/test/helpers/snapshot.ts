// A comparable picture of a table: every entry in LRU order as plain values.
import type { ConnEntry, ConnEvent, ConnTable } from '@nat64/conntrack';

export interface EntryView {
  key: string;
  client: string;
  serverAddress: number;
  serverPort: number;
  createdAt: number;
}

export function view(entry: ConnEntry): EntryView {
  return {
    key: `${entry.protocol}/${entry.natAddress}:${entry.natPort}`,
    client: `[${Array.from(entry.clientAddress).join('.')}]:${entry.clientPort}`,
    serverAddress: entry.serverAddress,
    serverPort: entry.serverPort,
    createdAt: entry.createdAt,
  };
}

export function snapshot(table: ConnTable): EntryView[] {
  return Array.from(table.entries(), view);
}

/** Events in the words of the tests: "created 6/80 by 2", "deleted(replaced) 6/80 by 1" (protocol/NAT port, last client byte). */
export function brief(events: readonly ConnEvent[]): string[] {
  return events.map((event) => {
    const { protocol, natPort, clientAddress } = event.entry;
    const kind = event.kind === 'created' ? 'created' : `deleted(${event.reason})`;
    return `${kind} ${protocol}/${natPort} by ${clientAddress[15]}`;
  });
}
