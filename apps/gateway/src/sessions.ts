// `nat64-gateway sessions`: the session table as rows (like `jool session display`), read through
// a cursor in chunks so a listing of a million sessions never stalls the datapath for long, plus the
// filter the control socket accepts and the text rendering the command prints.

import { PROTOCOL, tcpStateName, type Nat64Table, type SessionFilter } from '@nat64/nat64';
import { formatEndpoint4, formatEndpoint6, formatTable, type ControlParams } from '@nat64/service';
import { bytesToIpv6Text, ipv4TextToUint32, ipv6TextToBytes, uint32ToIpv4Text } from '@nat64/wire';
import type { Rfc6052Prefix } from '@nat64/xlat';
import type { BatchClock } from '@nat64/gateway-engine';

export interface SessionRow {
  protocol: 'tcp' | 'udp' | 'icmp';
  /** The IPv6 client transport address, "[2001:db8::2]:40000". */
  client: string;
  /** The NAT transport address (pool4 address and port, or ICMP identifier). */
  nat: string;
  /** The IPv4 server transport address. */
  server: string;
  /** The server as the client sees it, under the prefix. */
  serverIpv6: string;
  /** RFC 6146 3.5.2.2 state for TCP; "-" otherwise. */
  state: string;
  expiresInMs: number;
  handedOff: boolean;
}

const PROTOCOL_NAMES: Record<number, SessionRow['protocol']> = { [PROTOCOL.TCP]: 'tcp', [PROTOCOL.UDP]: 'udp', [PROTOCOL.ICMP]: 'icmp' };
const PROTOCOL_NUMBERS: Record<string, number> = { tcp: PROTOCOL.TCP, udp: PROTOCOL.UDP, icmp: PROTOCOL.ICMP };

/** Handles read per chunk; between chunks the listing yields to the datapath. */
const CHUNK = 1024;

/** Reads the filter of a `sessions` request; throws with a message for the client on a bad value. */
export function parseSessionFilter(params: ControlParams): SessionFilter {
  const filter: { protocol?: number; clientAddress?: Uint8Array; serverAddress?: number; natAddress?: number; natPort?: number } = {};
  const text = (key: string): string | undefined => {
    const value = params[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new Error(`${key} must be a string`);
    return value;
  };
  const protocol = text('protocol');
  if (protocol !== undefined) {
    const number = PROTOCOL_NUMBERS[protocol.toLowerCase()];
    if (number === undefined) throw new Error(`protocol must be tcp, udp or icmp, not "${protocol}"`);
    filter.protocol = number;
  }
  const client = text('client');
  if (client !== undefined) {
    const bytes = ipv6TextToBytes(client);
    if (bytes === null) throw new Error(`client "${client}" is not an IPv6 address`);
    filter.clientAddress = bytes;
  }
  const server = text('server');
  if (server !== undefined) {
    filter.serverAddress = ipv4TextToUint32(server);
    if (filter.serverAddress < 0) throw new Error(`server "${server}" is not an IPv4 address`);
  }
  const nat = text('nat');
  if (nat !== undefined) {
    // "198.51.100.1" or "198.51.100.1:61000" (for ICMP the port is the identifier).
    const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(nat);
    const address = match ? ipv4TextToUint32(match[1]!) : -1;
    const port = match?.[2] === undefined ? undefined : Number(match[2]);
    if (address < 0 || (port !== undefined && port > 65535)) throw new Error(`nat "${nat}" is not an IPv4 address or address:port`);
    filter.natAddress = address;
    if (port !== undefined) filter.natPort = port;
  }
  return filter;
}

/** Yields the matching sessions; reads each chunk within one turn, since handles change between turns. */
export async function* listSessions(table: Nat64Table, clock: BatchClock, prefix: Rfc6052Prefix, filter: SessionFilter): AsyncGenerator<SessionRow> {
  const cursor = table.cursor(filter);
  const handles = new Int32Array(CHUNK);
  const client = new Uint8Array(16);
  const server6 = new Uint8Array(16);
  while (!cursor.done) {
    const now = clock.tick();
    const n = cursor.next(handles);
    const rows: SessionRow[] = [];
    for (let i = 0; i < n; i++) {
      const h = handles[i]!;
      const protocol = table.protocol(h);
      table.copyClientAddress(h, client, 0);
      prefix.embed(table.serverAddress(h), server6, 0);
      const icmp = protocol === PROTOCOL.ICMP;
      rows.push({
        protocol: PROTOCOL_NAMES[protocol] ?? 'udp',
        client: formatEndpoint6(client, table.clientPort(h)),
        nat: formatEndpoint4(table.natAddress(h), table.natPort(h)),
        server: icmp ? uint32ToIpv4Text(table.serverAddress(h)) : formatEndpoint4(table.serverAddress(h), table.serverPort(h)),
        serverIpv6: icmp ? bytesToIpv6Text(server6) : formatEndpoint6(server6, table.serverPort(h)),
        state: protocol === PROTOCOL.TCP ? tcpStateName(table.tcpState(h)) : '-',
        expiresInMs: Math.max(0, Math.round(table.expiresAt(h) - now)),
        handedOff: table.isHandedOff(h),
      });
    }
    yield* rows;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** "1h2m3s", "45s", "0s". */
export function formatRemaining(ms: number): string {
  let seconds = Math.floor(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  return `${hours > 0 ? `${hours}h` : ''}${hours > 0 || minutes > 0 ? `${minutes}m` : ''}${seconds}s`;
}

/** The listing as an aligned table with a header, as the command prints it. */
export function formatSessions(rows: readonly SessionRow[]): string {
  const header = ['PROTO', 'IPV6 CLIENT', 'IPV6 SERVER', 'NAT (IPV4)', 'IPV4 SERVER', 'STATE', 'EXPIRES'];
  const lines = rows.map((row) => [
    row.protocol.toUpperCase(),
    row.client,
    row.serverIpv6,
    row.nat,
    row.server,
    row.handedOff ? `${row.state} (handed off)` : row.state,
    formatRemaining(row.expiresInMs),
  ]);
  return [...formatTable(header, lines), `(${rows.length} session${rows.length === 1 ? '' : 's'})`].join('\n');
}
