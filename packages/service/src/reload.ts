// How a daemon reports a configuration reload (SIGHUP or `reload`): one line naming the settings it
// applied and those that need a restart, at warn when any does.
import type { Logger } from 'pino';

export function logReload(logger: Logger, fields: object, applied: readonly string[], needsRestart: readonly string[]): void {
  const message = reloadSummary(applied, needsRestart);
  if (needsRestart.length > 0) logger.warn(fields, message);
  else logger.info(fields, message);
}

function reloadSummary(applied: readonly string[], needsRestart: readonly string[]): string {
  if (applied.length === 0 && needsRestart.length === 0) return 'reloaded the configuration: nothing changed';
  const parts: string[] = [];
  if (applied.length > 0) parts.push(`applied ${applied.join(', ')}`);
  if (needsRestart.length > 0) parts.push(`needs a restart to apply ${needsRestart.join(', ')}`);
  return `reloaded the configuration: ${parts.join('; ')}`;
}
