// The one error class of the TUN binding, and the messages that turn a failed syscall into what
// we tried, what the kernel said, and what to check. Errors are raised when a device is opened
// or used wrongly; the packet path never throws, it counts.
import { getSystemErrorMap } from 'node:util';
import { SPEC } from './constants.js';

/**
 * Thrown by openTun and device methods used out of order, and handed to `onError` when a
 * device stops receiving. `code` is the errno name ('EPERM', 'EINVAL', ...) when a syscall
 * failed, otherwise one of ERR_TUN_OPTION (a bad option, nothing was opened), ERR_TUN_STATE
 * (a method called on a closed or already started device) or ERR_TUN_BINDING (the native
 * addon is missing or does not match).
 */
export class TunError extends Error {
  override readonly name = 'TunError';

  constructor(
    readonly code: string,
    message: string,
    /** What we tried, e.g. 'TUNSETIFF' or 'read'; empty when no syscall was involved. */
    readonly operation = '',
    /** The errno number when a syscall failed. */
    readonly errno?: number,
  ) {
    super(message);
  }
}

/** What the network namespace already has under the requested name, read from sysfs. */
export interface ExistingInterface {
  kind: 'absent' | 'tun' | 'tap' | 'other';
  multiQueue: boolean;
}

/** The request an open failure is explained against. */
export interface OpenAttempt {
  name: string;
  multiQueue: boolean;
  mtu?: number | undefined;
  txQueueLength?: number | undefined;
  tap?: boolean | undefined;
}

const OPERATIONS: Readonly<Record<string, (attempt: OpenAttempt) => string>> = {
  open: () => 'open /dev/net/tun',
  TUNSETIFF: (attempt) => `TUNSETIFF (create or attach "${attempt.name}"${attempt.multiQueue ? ', multi-queue' : ''})`,
  socket: () => 'socket(AF_INET) for interface ioctls',
  SIOCSIFMTU: (attempt) => `SIOCSIFMTU (set MTU ${attempt.mtu ?? '?'})`,
  SIOCGIFMTU: () => 'SIOCGIFMTU (read the MTU)',
  SIOCSIFTXQLEN: (attempt) => `SIOCSIFTXQLEN (set the queue length to ${attempt.txQueueLength ?? '?'})`,
  SIOCGIFTXQLEN: () => 'SIOCGIFTXQLEN (read the queue length)',
  SIOCGIFFLAGS: () => 'SIOCGIFFLAGS (read the link flags)',
  SIOCSIFFLAGS: () => 'SIOCSIFFLAGS (bring the link up)',
  SIOCGIFINDEX: () => 'SIOCGIFINDEX (read the interface index)',
  TUNSETPERSIST: () => 'TUNSETPERSIST (set persistence)',
};

/** The errno name and the C library's words for it, e.g. ['EPERM', 'operation not permitted']. */
export function errnoName(errno: number): [string, string] {
  const entry = getSystemErrorMap().get(-errno);
  return entry ? [entry[0], entry[1]] : [`E${errno}`, 'unknown error'];
}

function openHint(step: string, code: string, attempt: OpenAttempt, existing: ExistingInterface): string {
  const name = `"${attempt.name}"`;
  if (step === 'open') {
    if (code === 'ENOENT') return 'is /dev/net/tun present? (modprobe tun; a container needs the device passed in)';
    if (code === 'ENODEV' || code === 'ENXIO') return 'is the tun driver loaded? (modprobe tun)';
    if (code === 'EACCES' || code === 'EPERM') {
      return 'needs read and write access to /dev/net/tun (root, or CAP_NET_ADMIN and access to the node)';
    }
    if (code === 'EMFILE' || code === 'ENFILE') return 'out of file descriptors';
    return '';
  }
  if (code === 'EPERM') {
    return step === 'TUNSETIFF' ? 'needs CAP_NET_ADMIN (or, for an existing persistent device, to be its owner or group)' : 'needs CAP_NET_ADMIN';
  }
  if (step === 'TUNSETIFF') {
    if (code === 'EINVAL') {
      if (existing.kind === 'other') return `${name} exists and is not a ${attempt.tap ? 'TAP' : 'TUN'} device`;
      if (existing.kind === 'tap' && !attempt.tap) return `${name} is a TAP device, not TUN`;
      if (existing.kind === 'tun' && attempt.tap) return `${name} is a TUN device, not TAP`;
      if (existing.kind === (attempt.tap ? 'tap' : 'tun') && existing.multiQueue !== attempt.multiQueue) {
        const has = existing.multiQueue ? 'with' : 'without';
        return `${name} exists ${has} IFF_MULTI_QUEUE: open it with multiQueue: ${existing.multiQueue}`;
      }
      return `is ${name} a valid interface name? (at most ${SPEC.IFNAMSIZ - 1} bytes, no "/", ":" or whitespace)`;
    }
    if (code === 'EBUSY') {
      return existing.kind !== 'absent' && existing.kind !== 'other' && !existing.multiQueue
        ? `${name} is single-queue and already open; it takes one reader (use multiQueue for several)`
        : `${name} is busy`;
    }
    if (code === 'E2BIG') return `${name} already has as many queues as the kernel allows`;
    if (code === 'ENFILE') return `no free interface name for the pattern ${name}`;
    return '';
  }
  if (step === 'SIOCSIFMTU' && code === 'EINVAL') {
    return `the device refuses MTU ${attempt.mtu ?? '?'} (TUN accepts ${SPEC.MIN_MTU} to ${SPEC.MAX_MTU})`;
  }
  return '';
}

/** The error for a failed step of opening a device. */
export function openFailure(step: string, errno: number, attempt: OpenAttempt, existing: ExistingInterface): TunError {
  const [code, description] = errnoName(errno);
  const operation = OPERATIONS[step]?.(attempt) ?? step;
  const hint = openHint(step, code, attempt, existing);
  return new TunError(code, `cannot open TUN device "${attempt.name}": ${operation} failed: ${code} (${description})${hint ? `; ${hint}` : ''}`, step, errno);
}

/** The error handed to onError when a started device can no longer be read. */
export function receiveFailure(name: string, errno: number): TunError {
  const [code, description] = errnoName(errno);
  const hint = code === 'EBADF' || code === 'EBADFD' || code === 'EIO' ? '; was the interface deleted?' : '';
  return new TunError(code, `TUN device "${name}" stopped receiving: ${code} (${description})${hint}`, 'read', errno);
}

/** The error for a method called when the device is not in a state to accept it. */
export function stateError(name: string, message: string): TunError {
  return new TunError('ERR_TUN_STATE', `TUN device "${name}": ${message}`);
}

/** The error for an option that fails validation; nothing was opened. */
export function optionError(message: string): TunError {
  return new TunError('ERR_TUN_OPTION', message);
}
