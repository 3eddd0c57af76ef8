// The receiver's UDP sockets: one per listen address, all on the handoff port. Replies leave from
// the socket of the family they are addressed to.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

/** Large enough to absorb a burst while a commit waits for its fsync. The kernel caps it at net.core.rmem_max. */
const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;

export interface Transport {
  /** Bound addresses as "address:port", for logs. */
  readonly bound: string[];
  send(bytes: Buffer, port: number, address: string): void;
  /** Sends the sockets hold queued because the kernel had no room; their buffers are still read. */
  sendQueueCount(): number;
  close(): Promise<void>;
}

export async function openTransport(options: {
  addresses: string[];
  port: number;
  onDatagram(bytes: Buffer, address: string, port: number): void;
  onSendError(error: Error): void;
}): Promise<Transport> {
  const sockets: { socket: Socket; family: 4 | 6 }[] = [];
  try {
    for (const address of options.addresses) {
      const family = isIPv6(address) ? 6 : 4;
      const socket = createSocket(family === 6 ? { type: 'udp6', ipv6Only: true, recvBufferSize: RECEIVE_BUFFER_BYTES } : { type: 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES });
      socket.on('message', (bytes, remote) => options.onDatagram(bytes, remote.address, remote.port));
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address, port: options.port, exclusive: true }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      // Errors after binding (ICMP-induced ECONNREFUSED on some kernels) must not kill the daemon.
      socket.on('error', options.onSendError);
      sockets.push({ socket, family });
    }
  } catch (error) {
    for (const { socket } of sockets) socket.close();
    throw error;
  }
  const byFamily = (family: 4 | 6) => sockets.find((entry) => entry.family === family)?.socket;
  const v4 = byFamily(4);
  const v6 = byFamily(6);
  return {
    bound: sockets.map(({ socket }) => {
      const { address, port } = socket.address();
      return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
    }),
    send(bytes, port, address) {
      const socket = isIPv6(address) ? v6 : v4;
      if (!socket) {
        options.onSendError(new Error(`no socket of the family of ${address} to reply from`));
        return;
      }
      socket.send(bytes, port, address, (error) => {
        if (error) options.onSendError(error);
      });
    },
    sendQueueCount: () => sockets.reduce((count, { socket }) => count + socket.getSendQueueCount(), 0),
    close: () => Promise.all(sockets.map(({ socket }) => new Promise<void>((resolve) => socket.close(() => resolve())))).then(() => undefined),
  };
}
