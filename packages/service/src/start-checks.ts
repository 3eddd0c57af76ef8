// What a daemon checks before it opens its device, database or log: that the directories its files
// go in exist (made when missing) and take new files, and that the control socket's path can be one.
// A failure names the setting, so that nothing is left half-started.
import { accessSync, constants, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { ExitCode, FatalError } from './exit-codes.js';

/** sun_path holds 108 bytes, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;
/** The control socket's directory: others may need to reach the socket (0660, its group). */
const CONTROL_DIRECTORY_MODE = 0o755;

/** Makes the directory `file` goes in (with `mode` when made) and checks that files can be created there. */
export function prepareDirectoryFor(file: string, setting: string, mode: number): void {
  const directory = dirname(file);
  try {
    mkdirSync(directory, { recursive: true, mode });
    accessSync(directory, constants.W_OK | constants.X_OK);
  } catch (error) {
    const { code, path } = error as NodeJS.ErrnoException;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? `${path ?? directory} is not a directory` : (error as Error).message;
    throw new FatalError(`${setting}: cannot create ${file}: ${why}`, code === 'EACCES' || code === 'EPERM' ? ExitCode.noPermission : ExitCode.cantCreate, {
      cause: error,
    });
  }
}

/** The control socket's path: short enough, its directory ready, and nothing but a (stale) socket there now. */
export function prepareControlPath(path: string, setting = 'control'): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new FatalError(`${setting}: ${path} is longer than a unix socket path can be (${MAX_SOCKET_PATH_BYTES} bytes)`, ExitCode.config);
  }
  prepareDirectoryFor(path, setting, CONTROL_DIRECTORY_MODE);
  let existing: Stats;
  try {
    existing = lstatSync(path);
  } catch {
    return;
  }
  if (!existing.isSocket()) throw new FatalError(`${setting}: ${path} exists and is not a socket; not replacing it`, ExitCode.cantCreate);
}
