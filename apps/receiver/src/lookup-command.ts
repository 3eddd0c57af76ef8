// The `lookup` command as a commander command: its options, help and usage errors. The full
// program (cli.ts) adds it; lookup-main.ts runs it alone for a command line too unusual for its
// own reading (help, a mistake). What it does is lookup-run.ts.
import { Command, InvalidArgumentError, Option } from 'commander';
import { ExitCode } from '@nat64/service/exit-codes';
import { DEFAULT_LIMIT, isCount, type LookupOptions } from './lookup-arguments.js';
import { runLookup } from './lookup-run.js';
import { DEFAULT_DATABASE } from './paths.js';
import { PROTOCOL_NUMBERS } from './queries.js';

function count(value: string): number {
  if (!isCount(value)) throw new InvalidArgumentError('expected a whole number above zero');
  return Number(value);
}

/** `run` does the lookup once the command line is read and checked (runLookup; a test captures it). */
export function lookupCommand(run: (endpoint: string | undefined, options: LookupOptions) => Promise<void> = runLookup): Command {
  return new Command('lookup')
    .description(
      'which IPv6 client held a NAT address and port, now or at a given time (the question of an abuse report); or, with --client, what one IPv6 client held',
    )
    .argument('[nat-endpoint]', 'NAT address and port as seen by this host, e.g. 192.0.2.7:3719')
    .option('--client <ipv6>', 'instead of a NAT endpoint: the connections of this IPv6 client address, e.g. 2001:db8::17 (reads the whole history)')
    .addOption(new Option('--proto <protocol>', 'only this protocol').choices(Object.keys(PROTOCOL_NUMBERS)))
    .option(
      '--at <time>',
      'the moment asked about, e.g. "2019-03-18 10:30", "2019-03-18 10:30:05.123456", "2019-03-18 10:30 UTC", "2019-03-18T11:30:05+01:00" (without a zone: UTC unless --local-time)',
    )
    .option('--db <file>', `the receiver's database (default ${DEFAULT_DATABASE})`)
    .option('-c, --config <file>', "take the database path from the `database` setting of the receiver's config file")
    .option('--local-time', 'read and print times in local time instead of UTC')
    .option('--limit <count>', 'most incarnations listed, newest first', count, DEFAULT_LIMIT)
    .option('--json', 'print JSON lines (times as ISO 8601 UTC with microseconds)')
    .action(async (endpoint: string | undefined, options: LookupOptions, command: Command) => {
      if ((endpoint === undefined) === (options.client === undefined))
        command.error('error: give a NAT endpoint (192.0.2.7:3719) or --client ADDRESS', { exitCode: ExitCode.usage });
      await run(endpoint, options);
    });
}
