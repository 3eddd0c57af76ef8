// sd_notify(3): tells the service manager about the daemon's state with one datagram to
// $NOTIFY_SOCKET (a path, or "@name" for an abstract socket). Without $NOTIFY_SOCKET nothing is sent.
import { constants } from 'node:os';
import { loadNative } from './native.js';

export class NotifyError extends Error {
  constructor(
    readonly socketPath: string,
    readonly errno: number,
  ) {
    super(`cannot notify ${socketPath}: ${errnoName(errno)}`);
    this.name = 'NotifyError';
  }
}

/**
 * Sends `state` ("READY=1", "STATUS=...", newline-separated assignments) to $NOTIFY_SOCKET.
 * Returns false when there is no $NOTIFY_SOCKET, true when sent; throws a NotifyError when sending failed.
 */
export function notify(state: string, environment: NodeJS.ProcessEnv = process.env): boolean {
  const socketPath = environment.NOTIFY_SOCKET;
  if (socketPath === undefined || socketPath === '') return false;
  const errno = loadNative().send(socketPath, state);
  if (errno !== 0) throw new NotifyError(socketPath, errno);
  return true;
}

function errnoName(errno: number): string {
  const name = Object.entries(constants.errno).find(([, value]) => value === errno)?.[0];
  return name ?? `errno ${errno}`;
}
