// Services a bypassed client cannot reach: sockets listening on IPv4 only. Bypass delivers the
// client's IPv6 packet itself, so a TCP listener must have an AF_INET6 socket (on :: or the
// bypass address) for the port. Read from /proc/net/{tcp,tcp6,udp,udp6} of this network
// namespace, at start and for `stats`.
import { readFileSync } from 'node:fs';

export interface Ipv4OnlyService {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
}

/** TCP LISTEN; an unconnected UDP socket shows as CLOSE (include/net/tcp_states.h). */
const TCP_LISTEN = '0A';
const UDP_UNCONNECTED = '07';
/** UDP sockets on ports from here up are mostly clients' ephemeral ones (ip_local_port_range). */
const FIRST_EPHEMERAL_PORT = 32768;

interface Socket {
  address: string;
  port: number;
  state: string;
  remotePort: number;
}

function readTable(file: string): Socket[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const sockets: Socket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    const [address, port] = fields[1]!.split(':');
    const [, remotePort] = fields[2]!.split(':');
    sockets.push({ address: address!, port: Number.parseInt(port!, 16), state: fields[3]!, remotePort: Number.parseInt(remotePort!, 16) });
  }
  return sockets;
}

/** "0100007F" (host byte order on little-endian machines) to "127.0.0.1". */
function ipv4Text(hex: string): string {
  const value = Number.parseInt(hex, 16);
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24].join('.');
}

const IPV6_LOOPBACK = '00000000000000000000000001000000';

/**
 * IPv4 listeners on addresses other than loopback whose port has no IPv6 listener (other than
 * on ::1), leaving out `ownPorts` (the receiver's own sockets).
 */
export function findIpv4OnlyServices(ownPorts: readonly number[] = [], procNet = '/proc/net'): Ipv4OnlyService[] {
  const found: Ipv4OnlyService[] = [];
  for (const protocol of ['tcp', 'udp'] as const) {
    const listening = (socket: Socket) =>
      protocol === 'tcp' ? socket.state === TCP_LISTEN : socket.state === UDP_UNCONNECTED && socket.remotePort === 0 && socket.port < FIRST_EPHEMERAL_PORT;
    const six = new Set(
      readTable(`${procNet}/${protocol}6`)
        .filter((socket) => listening(socket) && socket.address !== IPV6_LOOPBACK)
        .map((socket) => socket.port),
    );
    const seen = new Set<number>();
    for (const socket of readTable(`${procNet}/${protocol}`)) {
      if (!listening(socket) || six.has(socket.port) || ownPorts.includes(socket.port) || seen.has(socket.port)) continue;
      const address = ipv4Text(socket.address);
      if (address.startsWith('127.')) continue;
      seen.add(socket.port);
      found.push({ protocol, address, port: socket.port });
    }
  }
  return found;
}

export function describeIpv4OnlyServices(services: readonly Ipv4OnlyService[]): string {
  return services.map((service) => `${service.protocol} ${service.address}:${service.port}`).join(', ');
}
