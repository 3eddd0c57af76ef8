// The arguments of `nat64-receiver lookup` read without commander, whose loading costs a lookup
// more than its query does: only the plain forms (`--name value`, `--name=value`, `-c value`, the
// two flags, one NAT endpoint), each option at most once, every value as the command takes it.
// Anything else, help and every mistake included, is left to the commander program of
// lookup-command.ts, which reads and answers it as it always did (a test holds the two alike).
import { PROTOCOL_NUMBERS } from './queries.js';

/** The options of `lookup` as commander hands them to its action (unset ones absent). */
export interface LookupOptions {
  client?: string;
  proto?: keyof typeof PROTOCOL_NUMBERS;
  at?: string;
  db?: string;
  config?: string;
  localTime?: true;
  /** Most incarnations listed; 20 unless given. */
  limit: number;
  json?: true;
}

export const DEFAULT_LIMIT = 20;

const VALUE_OPTIONS: Readonly<Record<string, 'client' | 'proto' | 'at' | 'db' | 'config' | 'limit'>> = {
  '--client': 'client',
  '--proto': 'proto',
  '--at': 'at',
  '--db': 'db',
  '--config': 'config',
  '-c': 'config',
  '--limit': 'limit',
};
const FLAGS: Readonly<Record<string, 'localTime' | 'json'>> = { '--local-time': 'localTime', '--json': 'json' };

/** Whether `text` is a `--limit`: a whole number above zero. */
export function isCount(text: string): boolean {
  return /^[1-9]\d*$/.test(text);
}

/**
 * The NAT endpoint and options of a plain, valid `lookup` command line (the words after `lookup`),
 * exactly as the commander program would read them; undefined for anything else.
 */
export function plainLookupArguments(args: readonly string[]): { endpoint: string | undefined; options: LookupOptions } | undefined {
  let endpoint: string | undefined;
  const given = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) {
      if (endpoint !== undefined) return undefined;
      endpoint = arg;
      continue;
    }
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = equals < 0 ? arg : arg.slice(0, equals);
    const flag = FLAGS[name];
    const option = VALUE_OPTIONS[name];
    if (flag !== undefined && equals < 0 && !given.has(flag)) {
      given.set(flag, true);
      continue;
    }
    if (option === undefined || given.has(option)) return undefined;
    const value = equals < 0 ? args[++i] : arg.slice(equals + 1);
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    given.set(option, value);
  }
  const proto = given.get('proto');
  const limit = given.get('limit');
  if (proto !== undefined && !Object.hasOwn(PROTOCOL_NUMBERS, proto as string)) return undefined;
  if (limit !== undefined && !isCount(limit as string)) return undefined;
  if ((endpoint === undefined) === (given.get('client') === undefined)) return undefined;
  const options: LookupOptions = { limit: limit === undefined ? DEFAULT_LIMIT : Number(limit) };
  for (const [key, value] of given) if (key !== 'limit') Object.assign(options, { [key]: value });
  return { endpoint, options };
}
