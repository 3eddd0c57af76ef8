// Optional log of BIB and session changes (logSessions), at info level: one structured line per
// change, the way an operator of Jool's `--log-bib` / `--log-sessions` would expect them.

import { deleteReasonName, PROTOCOL, type Nat64Table } from '@nat64/nat64';
import { formatEndpoint4, formatEndpoint6, type Logger } from '@nat64/service';
import type { SessionEvents } from '@nat64/gateway-engine';

const NAMES: Record<number, string> = { [PROTOCOL.TCP]: 'tcp', [PROTOCOL.UDP]: 'udp', [PROTOCOL.ICMP]: 'icmp' };

/** Subscribes a logger to the table's changes; returns the unsubscribe function. */
export function logSessionChanges(events: SessionEvents, logger: Logger): () => void {
  const address = new Uint8Array(16);
  // A session's protocol, client and NAT endpoints are its BIB entry's (listeners run before anything is freed).
  const mapping = (table: Nat64Table, b: number) => {
    table.copyBibClientAddress(b, address, 0);
    return {
      protocol: NAMES[table.bibProtocol(b)],
      client: formatEndpoint6(address, table.bibClientPort(b)),
      nat: formatEndpoint4(table.bibNatAddress(b), table.bibNatPort(b)),
    };
  };
  const session = (table: Nat64Table, h: number) => ({
    ...mapping(table, table.bibOf(h)),
    server: formatEndpoint4(table.serverAddress(h), table.serverPort(h)),
  });
  const bib = (table: Nat64Table, b: number) => ({ ...mapping(table, b), static: table.isStaticBib(b) });
  return events.subscribe({
    sessionCreated: (table, h) => logger.info({ event: 'session-created', ...session(table, h) }, 'session created'),
    sessionDeleted: (table, h, reason) => logger.info({ event: 'session-deleted', reason: deleteReasonName(reason), ...session(table, h) }, 'session deleted'),
    bibCreated: (table, b) => logger.info({ event: 'bib-created', ...bib(table, b) }, 'BIB entry created'),
    bibDeleted: (table, b, reason) => logger.info({ event: 'bib-deleted', reason: deleteReasonName(reason), ...bib(table, b) }, 'BIB entry deleted'),
  });
}
