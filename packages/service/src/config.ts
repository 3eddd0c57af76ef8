// Reading configuration that people write by hand: JSON files and command-line values, validated
// completely before anything is opened, with errors that say where ("pool4[1].ports: ...").
import { readFileSync } from 'node:fs';
import { findJsonSyntaxError } from './json-position.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(where === '' ? problem : `${where}: ${problem}`);
  }
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
 */
export class ConfigReader {
  private readonly seen = new Set<string>();
  private readonly fields: Record<string, unknown>;

  constructor(
    value: unknown,
    private readonly where = '',
  ) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ConfigError(where, 'expected an object');
    }
    this.fields = value as Record<string, unknown>;
  }

  has(key: string): boolean {
    return this.fields[key] !== undefined;
  }

  private take(key: string): unknown {
    this.seen.add(key);
    return this.fields[key];
  }

  path(key: string | number): string {
    if (typeof key === 'number') return `${this.where}[${key}]`;
    return this.where === '' ? key : `${this.where}.${key}`;
  }

  string(key: string, fallback?: string): string {
    const value = this.take(key) ?? fallback;
    if (typeof value !== 'string') throw new ConfigError(this.path(key), value === undefined ? 'is required' : 'expected a string');
    return value;
  }

  optionalString(key: string): string | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new ConfigError(this.path(key), 'expected a string');
    return value;
  }

  integer(key: string, options: { min?: number; max?: number; fallback?: number }): number {
    const value = this.take(key) ?? options.fallback;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new ConfigError(this.path(key), value === undefined ? 'is required' : 'expected an integer');
    }
    if (options.min !== undefined && value < options.min) throw new ConfigError(this.path(key), `must be at least ${options.min}`);
    if (options.max !== undefined && value > options.max) throw new ConfigError(this.path(key), `must be at most ${options.max}`);
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.take(key) ?? fallback;
    if (typeof value !== 'boolean') throw new ConfigError(this.path(key), 'expected true or false');
    return value;
  }

  oneOf<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const value = this.take(key) ?? fallback;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      throw new ConfigError(this.path(key), `expected one of ${choices.join(', ')}`);
    }
    return value as T;
  }

  /** An array of any values, each read by `item` with its own path. */
  array<T>(key: string, item: (value: unknown, where: string) => T, fallback: T[] = []): T[] {
    const value = this.take(key);
    if (value === undefined) return fallback;
    if (!Array.isArray(value)) throw new ConfigError(this.path(key), 'expected an array');
    return value.map((element, index) => item(element, `${this.path(key)}[${index}]`));
  }

  /** A nested object; absent reads as an empty object so defaults apply. */
  object(key: string): ConfigReader {
    return new ConfigReader(this.take(key) ?? {}, this.path(key));
  }

  /** Throws on keys nobody read. */
  done(): void {
    for (const key of Object.keys(this.fields)) {
      if (!this.seen.has(key)) throw new ConfigError(this.path(key), 'unknown setting');
    }
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
