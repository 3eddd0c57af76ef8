import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, ConfigReader, formatDuration, parseDuration, readJsonFile } from '@nat64/service';

describe('config', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('reads typed fields with defaults', () => {
    const reader = new ConfigReader({ port: 62863, mode: 'full', verbose: true });
    expect(reader.integer('port', { min: 1, max: 65535 })).toBe(62863);
    expect(reader.oneOf('mode', ['off', 'announce', 'full'] as const, 'full')).toBe('full');
    expect(reader.boolean('verbose', false)).toBe(true);
    expect(reader.string('name', 'default')).toBe('default');
    reader.done();
  });

  it('names the path of a bad nested value', () => {
    const reader = new ConfigReader({ pool4: [{ address: '198.51.100.1' }, { address: 7 }] });
    expect(reader.array('pool4', (value, where) => new ConfigReader(value, where).string('address'))).toEqual(['198.51.100.1']);
    expect(() => reader.done()).toThrow(new ConfigError('pool4[1].address', 'expected a string'));
  });

  it('rejects unknown keys so typos are not ignored', () => {
    const reader = new ConfigReader({ prot: 1 });
    expect(() => reader.done()).toThrow('prot: unknown setting');
  });

  it('reads a list as an array or as one comma-separated string, and notes items that are not strings', () => {
    const reader = new ConfigReader({ joined: 'handoff, bypass', items: ['geneve', 'bypass'], mixed: ['handoff', 7] });
    expect(reader.list('joined', [])).toEqual(['handoff', 'bypass']);
    expect(reader.list('items', [])).toEqual(['geneve', 'bypass']);
    expect(reader.list('absent', ['handoff'])).toEqual(['handoff']);
    expect(reader.list('mixed', [])).toEqual(['handoff']);
    expect(() => reader.done()).toThrow('mixed[1]: expected a string');
  });

  it('enforces integer ranges', () => {
    const reader = new ConfigReader({ port: 70000 });
    expect(reader.integer('port', { max: 65535 })).toBe(65535);
    expect(() => reader.done()).toThrow('port: must be at most 65535');
    expect(() => new ConfigReader({ port: 1.5 }).integer('port', {})).toThrow('port: expected an integer');
  });

  it('reports every mistake of a configuration at once, each with its path, in its file', () => {
    const settings = { port: 'x', mode: 'fast', nested: { size: -1, colour: 'red' }, list: [1, 'a'], typo: true };
    const read = () =>
      ConfigReader.read(settings, '/etc/x.json', (reader) => {
        reader.integer('port', { fallback: 1 });
        reader.oneOf('mode', ['off', 'full'] as const, 'full');
        const nested = reader.object('nested');
        nested.integer('size', { min: 0, fallback: 4 });
        nested.done();
        reader.array('list', (value, where) => {
          if (typeof value !== 'number') throw new ConfigError(where, 'expected a number');
          return value;
        });
        reader.done();
      });
    expect(read).toThrow(
      [
        '6 mistakes:',
        '  /etc/x.json: port: expected an integer',
        '  /etc/x.json: mode: expected one of off, full',
        '  /etc/x.json: nested.size: must be at least 0',
        '  /etc/x.json: nested.colour: unknown setting',
        '  /etc/x.json: list[1]: expected a number',
        '  /etc/x.json: typo: unknown setting',
      ].join('\n'),
    );
  });

  it('keeps the mistakes noted before a check that gives up, and leaves out a repeat of one', () => {
    const read = () =>
      ConfigReader.read({ size: 'big', name: 7 }, undefined, (reader) => {
        reader.integer('size', { fallback: 1 });
        reader.string('name', 'x');
        throw new ConfigError('size', 'is still wrong');
      });
    expect(read).toThrow('2 mistakes:\n  size: expected an integer\n  name: expected a string');
  });

  it('reports a single mistake as before', () => {
    expect(() => ConfigReader.read({ port: 'x' }, 'f.json', (reader) => reader.integer('port', { fallback: 1 }))).toThrow(
      new ConfigError('f.json: port', 'expected an integer'),
    );
  });

  it('reports JSON syntax errors with line and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-config-'));
    dirs.push(dir);
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{\n  "a": 1,\n  "b": ,\n}\n');
    expect(() => readJsonFile(file)).toThrow(/bad\.json:3:8: invalid JSON near/);
    expect(() => readJsonFile(join(dir, 'missing.json'))).toThrow(/missing\.json: cannot read/);
  });

  it('parses durations', () => {
    expect(parseDuration('5m', 'x')).toBe(300_000);
    expect(parseDuration('2h4m', 'x')).toBe(7_440_000);
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseDuration('90', 'x')).toBe(90_000);
    expect(parseDuration(6, 'x')).toBe(6000);
    expect(() => parseDuration('5 minutes', 'timeouts.udp')).toThrow('timeouts.udp: "5 minutes" is not a duration');
  });
});

describe('findJsonSyntaxError', () => {
  it('agrees with JSON.parse about validity', async () => {
    const { findJsonSyntaxError } = await import('../src/json-position.js');
    const samples = [
      '{}',
      '[1, 2.5e3, -0, "a\\u00e9\\n"]',
      '{"a": {"b": [true, false, null]}}',
      '{"a": 1,}',
      '[1 2]',
      '{"a" 1}',
      '"\\x"',
      '01',
      '{"a": tru}',
      '',
      '  {"a": 1}  x',
    ];
    for (const sample of samples) {
      let valid = true;
      try {
        JSON.parse(sample);
      } catch {
        valid = false;
      }
      expect(findJsonSyntaxError(sample) === -1, sample).toBe(valid);
    }
    expect(findJsonSyntaxError('{\n  "a": 1,\n  "b": ,\n}')).toBe(19);
  });
});

describe('formatDuration', () => {
  it('writes durations that parseDuration reads back to the same milliseconds', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(7_440_000)).toBe('2h4m');
    expect(formatDuration(90 * 86_400_000)).toBe('90d');
    expect(formatDuration(61_001)).toBe('1m1s1ms');
    for (const ms of [0, 1, 999, 1000, 61_001, 7_440_000, 90 * 86_400_000 + 1]) expect(parseDuration(formatDuration(ms), 'x')).toBe(ms);
  });
});
