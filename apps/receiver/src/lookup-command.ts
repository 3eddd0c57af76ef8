// The `lookup` command: its options, its action and the exit codes of its errors. It imports only
// what a lookup needs (commander, the store, the line format), so that lookup-main.ts can answer
// without loading the daemon; cli.ts adds the same command to the full program.
import { Command, InvalidArgumentError, Option } from 'commander';
import { StoreError } from '@nat64/conntrack';
import { ExitCode } from '@nat64/service/exit-codes';
import { DEFAULT_DATABASE } from './paths.js';
import { formatHistoryRecord, historyRecordJson, lookup, PROTOCOL_NUMBERS, QueryError } from './queries.js';

function count(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a whole number above zero');
  return Number(value);
}

export function lookupCommand(): Command {
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
    .option('-c, --config <file>', "take the database path from the receiver's config file")
    .option('--local-time', 'read and print times in local time instead of UTC')
    .option('--limit <count>', 'most incarnations listed, newest first', count, 20)
    .option('--json', 'print JSON lines (times as ISO 8601 UTC with microseconds)')
    .action(async (endpoint: string | undefined, options: Record<string, unknown>, command: Command) => {
      const zone = options.localTime ? 'local' : 'utc';
      if ((endpoint === undefined) === (options.client === undefined))
        command.error('error: give a NAT endpoint (192.0.2.7:3719) or --client ADDRESS', { exitCode: ExitCode.usage });
      const records = lookup({
        database: await databasePath(options),
        ...(endpoint !== undefined ? { endpoint } : { client: options.client as string }),
        zone,
        limit: options.limit as number,
        ...(options.proto ? { protocol: options.proto as keyof typeof PROTOCOL_NUMBERS } : {}),
        ...(typeof options.at === 'string' ? { at: options.at } : {}),
      });
      for (const record of records) console.log(options.json ? JSON.stringify(historyRecordJson(record)) : formatHistoryRecord(record, zone));
      if (records.length === 0) {
        console.error(`no entry for ${endpoint ?? String(options.client)}${options.at ? ` at ${String(options.at)}` : ''}`);
        process.exitCode = 1;
      }
    });
}

/** The database of `--db`, else of the config file of `--config` (read only then), else the default. */
async function databasePath(options: Record<string, unknown>): Promise<string> {
  if (typeof options.db === 'string') return options.db;
  if (typeof options.config === 'string') {
    const { loadReceiverConfig } = await import('./config.js');
    return loadReceiverConfig({ file: options.config, flags: {} }).database;
  }
  return DEFAULT_DATABASE;
}

/** The exit code of an error a lookup can end with (a bad question, or the store's), else undefined. */
export function lookupExitCode(error: unknown): number | undefined {
  if (error instanceof QueryError) return ExitCode.usage;
  if (error instanceof StoreError) {
    if (error.code === 'locked' || error.code === 'busy') return ExitCode.unavailable;
    if (error.code === 'not-sqlite' || error.code === 'not-ours' || error.code === 'newer-schema' || error.code === 'corrupt') return ExitCode.dataError;
    if (error.code === 'invalid-argument') return ExitCode.noInput;
    return ExitCode.ioError;
  }
  return undefined;
}
