// Command-line conventions every program here shares: `--version` from the program's own
// package.json, and usage errors as one line plus a hint naming the `--help` to run, instead of
// the whole help text.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The few commander methods used here, so this package need not depend on commander. */
export interface CliCommand {
  readonly commands: readonly CliCommand[];
  readonly parent: CliCommand | null;
  name(): string;
  showHelpAfterError(displayHelp?: boolean | string): unknown;
}

/**
 * The version in the package.json nearest above `moduleUrl` (pass `import.meta.url` of the
 * program's main module); works the same in the checkout and in an installed copy.
 */
export function packageVersion(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version ?? 'unknown');
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/** Makes every command answer a usage error with the error and one hint line, not its whole help. */
export function hintHelpAfterErrors(command: CliCommand): void {
  command.showHelpAfterError(`(run '${commandPath(command)} --help' for usage)`);
  for (const sub of command.commands) hintHelpAfterErrors(sub);
}

function commandPath(command: CliCommand): string {
  return command.parent === null ? command.name() : `${commandPath(command.parent)} ${command.name()}`;
}
