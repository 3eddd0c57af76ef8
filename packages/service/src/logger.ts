// The operational log: pino JSON on stderr, kept apart from any product output (the receiver's
// connection log, command results) on stdout or in files.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function isLogLevel(value: string): value is LevelWithSilent {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: { name: string; level: LevelWithSilent; destination?: number }): Logger {
  return pino({ name: options.name, level: options.level, base: { pid: process.pid } }, pino.destination({ fd: options.destination ?? 2, sync: false }));
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
