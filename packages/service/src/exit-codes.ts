// Process exit codes, from BSD sysexits.h, so that systemd units and scripts can tell a bad
// config from a missing permission from a crash.
import type { ValueOf } from '@nat64/wire';

export const ExitCode = {
  ok: 0,
  /** Wrong command-line usage. */
  usage: 64,
  /** Input data (a file the user gave us) is malformed. */
  dataError: 65,
  /** An input file does not exist or is not readable. */
  noInput: 66,
  /** A service we need is unavailable (port in use, device busy). */
  unavailable: 69,
  /** An internal error: a bug. */
  software: 70,
  /** An operating-system error (socket, ioctl). */
  osError: 71,
  /** An output file cannot be created. */
  cantCreate: 73,
  /** An I/O error on a file we own (database, log). */
  ioError: 74,
  /** Missing privilege (CAP_NET_ADMIN, root). */
  noPermission: 77,
  /** The configuration is invalid. */
  config: 78,
} as const;

export type ExitCode = ValueOf<typeof ExitCode>;

/** An error that carries the exit code the process should end with. */
export class FatalError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FatalError';
  }
}
