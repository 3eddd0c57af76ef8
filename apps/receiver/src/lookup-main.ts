// `nat64-receiver lookup`, lean: the same command as in cli.ts, run without loading the daemon,
// the logger or the other commands, because start-up is most of what a lookup costs (an admin runs
// it by hand, a script once per abuse report). Errors end the process as cli.ts ends it.
import { Command } from 'commander';
import { ConfigError } from '@nat64/service/config';
import { ExitCode } from '@nat64/service/exit-codes';
import { lookupCommand, lookupExitCode } from './lookup-command.js';

const program = new Command().name('nat64-receiver').exitOverride();
program.addCommand(lookupCommand().copyInheritedSettings(program).showHelpAfterError("(run 'nat64-receiver lookup --help' for usage)"));

try {
  await program.parseAsync();
} catch (error) {
  const commanderCode = (error as { code?: string }).code;
  if (typeof commanderCode === 'string' && commanderCode.startsWith('commander.')) {
    process.exit(commanderCode === 'commander.helpDisplayed' ? 0 : ExitCode.usage);
  }
  console.error(`nat64-receiver: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(lookupExitCode(error) ?? (error instanceof ConfigError ? ExitCode.config : ExitCode.software));
}
