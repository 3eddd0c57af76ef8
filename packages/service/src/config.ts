// Reading configuration that people write by hand: JSON files and command-line values, validated
// completely before anything is opened, with errors that say where ("pool4[1].ports: ...").
import { readFileSync } from 'node:fs';
import { findJsonSyntaxError } from './json-position.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  /** Every mistake this error reports: itself, or the several a whole file had. */
  readonly problems: readonly ConfigError[];

  constructor(
    readonly where: string,
    readonly problem: string,
    several: readonly ConfigError[] = [],
  ) {
    super(where === '' ? problem : `${where}: ${problem}`);
    this.problems = several.length > 0 ? several : [this];
  }

  /** One error for all of `problems`: the problem itself when there is one, a list otherwise. */
  static of(problems: readonly ConfigError[]): ConfigError {
    if (problems.length === 1) return problems[0]!;
    return new ConfigError('', `${problems.length} mistakes:\n${problems.map((problem) => `  ${problem.message}`).join('\n')}`, problems);
  }

  /** The same problems, each located in `file`. */
  inFile(file: string): ConfigError {
    return ConfigError.of(this.problems.map((problem) => new ConfigError(problem.where === '' ? file : `${file}: ${problem.where}`, problem.problem)));
  }
}

/**
 * The mistakes found so far in one configuration, so that a file with several reports them all
 * at once. A mistake at or inside a path already reported is left out: it is the same one seen again.
 */
export class Mistakes {
  readonly list: ConfigError[] = [];

  add(error: ConfigError): void {
    for (const problem of error.problems) {
      const known = this.list.some((seen) => seen.where === problem.where || isInside(seen.where, problem.where));
      if (!known) this.list.push(problem);
    }
  }
}

function isInside(path: string, parent: string): boolean {
  return parent !== '' && (path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`));
}

/** Reads a JSON config file; syntax errors name the file, line and column. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, `cannot read: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    const offset = findJsonSyntaxError(text);
    if (offset >= 0) {
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      const column = offset - before.lastIndexOf('\n');
      throw new ConfigError(`${file}:${line}:${column}`, `invalid JSON near ${JSON.stringify(text.slice(offset, offset + 12))}`);
    }
    throw new ConfigError(file, `invalid JSON: ${message}`);
  }
}

/**
 * Walks a parsed JSON object, reading typed fields and remembering where it is, so every error
 * names the offending key. Call `done()` last: unknown keys are errors (a typo must not be ignored).
 *
 * A value of the wrong type or out of range is noted and read as its fallback (or the nearest
 * allowed number) so reading goes on; `done()` on the outermost reader throws one ConfigError
 * naming every mistake. A required value that is missing or unusable throws at once.
 */
export class ConfigReader {
  private readonly seen = new Set<string>();
  private readonly fields: Record<string, unknown>;
  private readonly mistakes: Mistakes;
  private readonly outermost: boolean;

  /** `mistakes` is for nested readers only: they note theirs in the outermost reader's list. */
  constructor(
    value: unknown,
    private readonly where = '',
    mistakes?: Mistakes,
  ) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ConfigError(where, 'expected an object');
    }
    this.fields = value as Record<string, unknown>;
    this.outermost = mistakes === undefined;
    this.mistakes = mistakes ?? new Mistakes();
  }

  /**
   * Reads a whole configuration with `read` and returns its result, or throws one ConfigError with
   * every mistake found (also those noted before `read` gave up on one), located in `file` if given.
   */
  static read<T>(value: unknown, file: string | undefined, read: (reader: ConfigReader) => T): T {
    const reader = new ConfigReader(value, '');
    try {
      const result = read(reader);
      reader.throwMistakes();
      return result;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      reader.mistakes.add(error);
      const all = ConfigError.of(reader.mistakes.list);
      throw file === undefined || file === '' ? all : all.inFile(file);
    }
  }

  has(key: string): boolean {
    return this.fields[key] !== undefined;
  }

  private take(key: string): unknown {
    this.seen.add(key);
    return this.fields[key];
  }

  /** Notes a mistake and returns `standIn`, or throws when there is nothing to stand in. */
  private mistake<T>(key: string, problem: string, standIn: T | undefined): T {
    const error = new ConfigError(this.path(key), problem);
    if (standIn === undefined) throw error;
    this.mistakes.add(error);
    return standIn;
  }

  path(key: string | number): string {
    if (typeof key === 'number') return `${this.where}[${key}]`;
    return this.where === '' ? key : `${this.where}.${key}`;
  }

  string(key: string, fallback?: string): string {
    const value = this.take(key) ?? fallback;
    if (typeof value !== 'string') {
      if (value === undefined) throw new ConfigError(this.path(key), 'is required');
      return this.mistake(key, 'expected a string', fallback);
    }
    return value;
  }

  optionalString(key: string): string | undefined {
    const value = this.take(key);
    if (value === undefined || typeof value === 'string') return value;
    this.mistakes.add(new ConfigError(this.path(key), 'expected a string'));
    return undefined;
  }

  /** With `hex`, a string of hexadecimal digits after "0x" ("0xff64") reads as its number too. */
  integer(key: string, options: { min?: number; max?: number; fallback?: number; hex?: boolean }): number {
    let value = this.take(key) ?? options.fallback;
    if (options.hex === true && typeof value === 'string' && /^0x[0-9a-f]{1,8}$/i.test(value)) value = Number.parseInt(value.slice(2), 16);
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      if (value === undefined) throw new ConfigError(this.path(key), 'is required');
      return this.mistake(key, options.hex === true ? 'expected an integer or a hex string such as "0xff64"' : 'expected an integer', options.fallback);
    }
    if (options.min !== undefined && value < options.min) return this.mistake(key, `must be at least ${options.min}`, options.min);
    if (options.max !== undefined && value > options.max) return this.mistake(key, `must be at most ${options.max}`, options.max);
    return value;
  }

  /** A duration in milliseconds, written as on the command line ("90s", "5m", "2h4m", "250ms") or as a number of seconds. */
  duration(key: string, fallback: string): number {
    const value = this.take(key) ?? fallback;
    if (typeof value !== 'string' && typeof value !== 'number')
      return this.mistake(key, 'expected a duration such as "5m" or a number of seconds', parseDuration(fallback, this.path(key)));
    try {
      return parseDuration(value, this.path(key));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return this.mistake(key, error.problem, parseDuration(fallback, this.path(key)));
    }
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.take(key) ?? fallback;
    if (typeof value !== 'boolean') return this.mistake(key, 'expected true or false', fallback);
    return value;
  }

  oneOf<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const value = this.take(key) ?? fallback;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      return this.mistake(key, `expected one of ${choices.join(', ')}`, fallback);
    }
    return value as T;
  }

  /** Strings given as an array or as one comma-separated string (a flag's form); absent reads as `fallback`. */
  list(key: string, fallback: string[]): string[] {
    const value = this.take(key);
    if (value === undefined) return fallback;
    if (typeof value === 'string')
      return value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    return this.array(
      key,
      (item, where) => {
        if (typeof item !== 'string') throw new ConfigError(where, 'expected a string');
        return item;
      },
      fallback,
    );
  }

  /** An array of any values, each read by `item` with its own path; an item it refuses is noted and left out. */
  array<T>(key: string, item: (value: unknown, where: string) => T, fallback: T[] = []): T[] {
    const value = this.take(key);
    if (value === undefined) return fallback;
    if (!Array.isArray(value)) return this.mistake(key, 'expected an array', fallback);
    const items: T[] = [];
    value.forEach((element, index) => {
      try {
        items.push(item(element, `${this.path(key)}[${index}]`));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        this.mistakes.add(error);
      }
    });
    return items;
  }

  /** A nested object; absent reads as an empty object so defaults apply. */
  object(key: string): ConfigReader {
    const value = this.take(key) ?? {};
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return new ConfigReader(value, this.path(key), this.mistakes);
    this.mistakes.add(new ConfigError(this.path(key), 'expected an object'));
    return new ConfigReader({}, this.path(key), this.mistakes);
  }

  /** Notes keys nobody read; on the outermost reader, throws if any mistake was noted. */
  done(): void {
    for (const key of Object.keys(this.fields)) {
      if (!this.seen.has(key)) this.mistakes.add(new ConfigError(this.path(key), 'unknown setting'));
    }
    if (this.outermost) this.throwMistakes();
  }

  private throwMistakes(): void {
    if (this.mistakes.list.length > 0) throw ConfigError.of(this.mistakes.list);
  }
}

/** Parses a duration such as "90s", "5m", "2h4m", "250ms" or a bare number of seconds, into milliseconds. */
export function parseDuration(text: string | number, where: string): number {
  if (typeof text === 'number') {
    if (!(text >= 0) || !Number.isFinite(text)) throw new ConfigError(where, 'expected a non-negative duration');
    return text * 1000;
  }
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    total += Number(match[1]) * units[match[2]!]!;
    consumed = pattern.lastIndex;
  }
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  if (consumed === 0 || consumed !== text.length) {
    throw new ConfigError(where, `"${text}" is not a duration (examples: 90s, 5m, 2h4m, 250ms)`);
  }
  return total;
}

const DURATION_UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** Milliseconds the way parseDuration reads them back: "2h4m", 90 s as "1m30s", "250ms", "0s". */
export function formatDuration(ms: number): string {
  let left = Math.round(ms);
  let text = '';
  for (const [unit, size] of DURATION_UNITS) {
    if (left >= size) {
      text += `${Math.floor(left / size)}${unit}`;
      left %= size;
    }
  }
  return text === '' ? '0s' : text;
}
