// The receiver's UDP sockets: one per listen address, all on the handoff port. Replies leave from
// the socket of the family they are addressed to.
//
// `::` alone is dual-stack: IPv4 gateways reach it as IPv4-mapped IPv6 sources (::ffff:a.b.c.d),
// which are handed on, and replied to, as the IPv4 addresses they are. Beside an IPv4 listen
// address, `::` is IPv6-only, because Linux refuses a dual-stack `::` and an IPv4 socket on one port.
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Large enough to absorb a burst while a commit waits for its fsync. The kernel caps it at net.core.rmem_max. */
const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;
const MAPPED_PREFIX = '::ffff:';

export interface Transport {
  /** Bound addresses as "address:port", for logs. */
  readonly bound: string[];
  /** The bound IPv6 wildcard that also receives IPv4 datagrams, as "[::]:port"; undefined when none does. */
  readonly ipv4Through: string | undefined;
  send(bytes: Buffer, port: number, address: string): void;
  /** Sends the sockets hold queued because the kernel had no room; their buffers are still read. */
  sendQueueCount(): number;
  close(): Promise<void>;
}

/** What a listen address becomes: its family and, for IPv6, whether it is dual-stack. */
export function socketPlan(addresses: readonly string[], bindV6Only = systemBindsV6Only()): { address: string; family: 4 | 6; dualStack: boolean }[] {
  const withIpv4 = addresses.some((address) => isIPv4(address));
  return addresses.map((address) => {
    if (!isIPv6(address)) return { address, family: 4, dualStack: false };
    const wildcard = ipaddr.parse(address).range() === 'unspecified';
    return { address, family: 6, dualStack: wildcard && !withIpv4 && !bindV6Only };
  });
}

/** net.ipv6.bindv6only: when set, an IPv6 socket that does not say otherwise is IPv6-only. */
function systemBindsV6Only(): boolean {
  try {
    return readFileSync('/proc/sys/net/ipv6/bindv6only', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

export async function openTransport(options: {
  addresses: string[];
  port: number;
  onDatagram(bytes: Buffer, address: string, port: number): void;
  onSendError(error: Error): void;
}): Promise<Transport> {
  const sockets: { socket: Socket; family: 4 | 6; dualStack: boolean }[] = [];
  try {
    for (const { address, family, dualStack } of socketPlan(options.addresses)) {
      const socket = createSocket(
        family === 6 ? { type: 'udp6', ipv6Only: !dualStack, recvBufferSize: RECEIVE_BUFFER_BYTES } : { type: 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES },
      );
      if (dualStack) {
        socket.on('message', (bytes, remote) =>
          options.onDatagram(bytes, remote.address.startsWith(MAPPED_PREFIX) ? remote.address.slice(MAPPED_PREFIX.length) : remote.address, remote.port),
        );
      } else {
        socket.on('message', (bytes, remote) => options.onDatagram(bytes, remote.address, remote.port));
      }
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address, port: options.port, exclusive: true }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      // Errors after binding (ICMP-induced ECONNREFUSED on some kernels) must not kill the daemon.
      socket.on('error', options.onSendError);
      sockets.push({ socket, family, dualStack });
    }
  } catch (error) {
    for (const { socket } of sockets) socket.close();
    throw error;
  }
  const label = (socket: Socket) => {
    const { address, port } = socket.address();
    return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
  };
  const v4 = sockets.find((entry) => entry.family === 4)?.socket;
  const v6 = sockets.find((entry) => entry.family === 6)?.socket;
  const dualStack = sockets.find((entry) => entry.dualStack)?.socket;
  const reply = (socket: Socket, bytes: Buffer, port: number, address: string) =>
    socket.send(bytes, port, address, (error) => {
      if (error) options.onSendError(error);
    });
  return {
    bound: sockets.map(({ socket }) => label(socket)),
    ipv4Through: dualStack && label(dualStack),
    send(bytes, port, address) {
      if (isIPv6(address)) {
        if (v6) return reply(v6, bytes, port, address);
      } else if (v4) {
        return reply(v4, bytes, port, address);
      } else if (dualStack) {
        return reply(dualStack, bytes, port, MAPPED_PREFIX + address);
      }
      options.onSendError(new Error(`no socket of the family of ${address} to reply from`));
    },
    sendQueueCount: () => sockets.reduce((count, { socket }) => count + socket.getSendQueueCount(), 0),
    close: () => Promise.all(sockets.map(({ socket }) => new Promise<void>((resolve) => socket.close(() => resolve())))).then(() => undefined),
  };
}
