// `nat64-receiver lookup` through commander alone, for the command lines lookup-main.ts does not
// read itself: help, usage errors and unusual forms, answered as the full program answers them.
import { Command } from 'commander';
import { ExitCode } from '@nat64/service/exit-codes';
import { lookupCommand } from './lookup-command.js';
import { exitAfterLookupError } from './lookup-run.js';

const program = new Command().name('nat64-receiver').exitOverride();
program.addCommand(lookupCommand().copyInheritedSettings(program).showHelpAfterError("(run 'nat64-receiver lookup --help' for usage)"));

try {
  await program.parseAsync();
} catch (error) {
  const commanderCode = (error as { code?: string }).code;
  if (typeof commanderCode === 'string' && commanderCode.startsWith('commander.')) {
    process.exit(commanderCode === 'commander.helpDisplayed' ? 0 : ExitCode.usage);
  }
  await exitAfterLookupError(error);
}
