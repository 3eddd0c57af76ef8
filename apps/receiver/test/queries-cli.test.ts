// The admin's questions through the built command: `lookup --at` in every form a person writes a
// time, `--json` with microseconds, `lookup --client`, and `dump --json` with filters.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnTable, SqliteStore, type ConnEntry } from '@nat64/conntrack';
import { Protocol } from '@nat64/handoff-codec';
import { client } from '../../../packages/handoff-receiver/test/support/entries.js';
import { isoMicros, parseTime, QueryError } from '../src/queries.js';
import { MAIN } from './support/child.js';

const dir = mkdtempSync(join(tmpdir(), 'nat64-queries-'));
const database = join(dir, 'receiver.db');
/** 2019-03-18 10:06:28.491727 UTC, the seed example's first Created line. */
const SEED = Date.UTC(2019, 2, 18, 10, 6, 28) * 1000 + 491_727;
const HOUR = 3_600_000_000;

function entry(natPort: number, clientLast: number, protocol: number = Protocol.TCP): ConnEntry {
  return {
    protocol,
    natAddress: 0xc0000207,
    natPort,
    clientAddress: client(clientLast),
    clientPort: 53186,
    serverAddress: 0xcb007102,
    serverPort: 443,
    createdAt: SEED,
  };
}

beforeAll(() => {
  let now = SEED;
  const table = ConnTable.open(SqliteStore.open(database), { capacity: 100, idleTimeout: Infinity, clock: () => now });
  table.apply([{ op: 'create', entry: entry(3719, 0x17) }]);
  now = SEED + HOUR;
  table.apply([{ op: 'delete', entry: entry(3719, 0x17), reason: 'admin' }]);
  table.apply([
    { op: 'create', entry: entry(3719, 0x03) },
    { op: 'create', entry: entry(12191, 0x17, Protocol.UDP) },
  ]);
  table.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('parseTime', () => {
  it('reads ISO 8601 with Z or an offset, and "... UTC"', () => {
    const expected = SEED;
    for (const text of [
      '2019-03-18 10:06:28.491727',
      '2019-03-18T10:06:28.491727Z',
      '2019-03-18 10:06:28.491727 UTC',
      '2019-03-18T11:06:28.491727+01:00',
      '2019-03-18T05:06:28.491727-0500',
      '2019-03-18T12:06:28.491727+02',
    ]) {
      expect(parseTime(text, 'utc'), text).toBe(expected);
    }
    expect(parseTime('2019-03-18T10:06:28.491727Z', 'local')).toBe(expected);
  });

  it('refuses what is not a time', () => {
    for (const text of ['2019-03-18 10:06 CET', '2019-03-18T10:06+25:00', '2019-13-18 10:06', 'yesterday'])
      expect(() => parseTime(text, 'utc'), text).toThrow(QueryError);
  });

  it('writes microseconds into ISO 8601', () => {
    expect(isoMicros(SEED)).toBe('2019-03-18T10:06:28.491727Z');
    expect(isoMicros(SEED - 491_727 + 5)).toBe('2019-03-18T10:06:28.000005Z');
  });
});

describe('nat64-receiver lookup and dump', { timeout: 60_000 }, () => {
  it('lookup --at takes an offset and "UTC", and --json keeps microseconds', () => {
    for (const at of ['2019-03-18T11:30:00+01:00', '2019-03-18 10:30 UTC', '2019-03-18T10:30:00Z']) {
      const result = cli('lookup', '192.0.2.7:3719', '--db', database, '--at', at, '--json');
      expect(result.status, result.stderr).toBe(0);
      expect(lines(result.stdout)).toEqual([
        {
          protocol: 'tcp',
          nat: '192.0.2.7:3719',
          client: '[2001:db8::17]:53186',
          server: '203.0.113.2:443',
          startedAt: '2019-03-18T10:06:28.491727Z',
          endedAt: '2019-03-18T11:06:28.491727Z',
          endReason: 'admin',
        },
      ]);
    }
  });

  it('lookup --client lists what one IPv6 client held, newest first, and at a time', () => {
    const all = cli('lookup', '--client', '2001:db8::17', '--db', database, '--json');
    expect(all.status, all.stderr).toBe(0);
    expect(lines(all.stdout).map((row) => row['nat'])).toEqual(['192.0.2.7:12191', '192.0.2.7:3719']);
    const then = cli('lookup', '--client', '2001:db8::17', '--db', database, '--at', '2019-03-18 10:30', '--json');
    expect(lines(then.stdout).map((row) => row['nat'])).toEqual(['192.0.2.7:3719']);
    const udp = cli('lookup', '--client', '2001:db8::17', '--db', database, '--proto', 'udp', '--json');
    expect(lines(udp.stdout).map((row) => row['nat'])).toEqual(['192.0.2.7:12191']);
    expect(cli('lookup', '--client', '2001:db8::99', '--db', database).status).toBe(1);
  });

  it('lookup answers without loading the daemon, its logger, commander or ipaddr.js', () => {
    // The command, run by a script that then lists the CommonJS modules the process loaded (pino is one).
    const script = join(dir, 'lookup-modules.mjs');
    writeFileSync(
      script,
      `process.argv.splice(1, 1, ${JSON.stringify(MAIN)});
       await import(${JSON.stringify(MAIN)});
       const { createRequire } = await import('node:module');
       console.error(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`,
    );
    const result = spawnSync(process.execPath, [script, 'lookup', '192.0.2.7:3719', '--db', database], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('tcp 192.0.2.7:3719 [2001:db8::3]:53186');
    const loaded = JSON.parse(result.stderr.trim().split('\n').at(-1)!) as string[];
    expect(loaded.some((file) => file.includes('better-sqlite3'))).toBe(true);
    expect(loaded.filter((file) => /[\\/](pino|sd-notify|commander|ipaddr\.js)[\\/]/.test(file))).toEqual([]);
  });

  it('lookup loads its code as one bundled module, not the modules of the workspace', () => {
    // A module hook that writes down every ES module the process resolves.
    const resolved = join(dir, 'resolved.txt');
    const hooks = join(dir, 'record-resolve.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
       export async function resolve(specifier, context, next) {
         const result = await next(specifier, context);
         appendFileSync(${JSON.stringify(resolved)}, result.url + '\\n');
         return result;
       }`,
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`);
    writeFileSync(resolved, '');
    const result = spawnSync(process.execPath, ['--import', register, MAIN, 'lookup', '192.0.2.7:3719', '--db', database], { encoding: 'utf8' });
    expect(result.stdout).toContain('tcp 192.0.2.7:3719 [2001:db8::3]:53186');
    const ours = readFileSync(resolved, 'utf8')
      .split('\n')
      .filter((url) => url.startsWith('file:') && !url.includes('/node_modules/.pnpm/'));
    const bundle = pathToFileURL(join(import.meta.dirname, '../dist/lookup/')).href;
    expect(ours.filter((url) => url !== pathToFileURL(MAIN).href && !url.startsWith(bundle))).toEqual([]);
    expect(ours.filter((url) => url.startsWith(bundle)).length).toBeLessThanOrEqual(3);
  });

  it('lookup leaves help and usage errors to commander, as the full program', () => {
    const help = cli('lookup', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: nat64-receiver lookup \[options\] \[nat-endpoint\]/);
    expect(cli('lookup', '192.0.2.7:3719', '--db', database, '--limit', '0')).toMatchObject({
      status: 64,
      stderr: expect.stringContaining("argument '0' is invalid. expected a whole number above zero"),
    });
    expect(cli('lookup', '192.0.2.7:3719', '--db', database, '--proto', 'sctp')).toMatchObject({ status: 64 });
    expect(cli('lookup', '192.0.2.7:3719', '--db', database, '--limit', '1', '--proto', 'tcp', '--json').status).toBe(0);
  });

  it('lookup --config reads only the database setting of the config file', () => {
    // A setting lookup does not use is wrong, and the key file is missing: the daemon refuses this
    // file, a lookup still answers.
    const config = join(dir, 'lookup-config.json');
    writeFileSync(config, JSON.stringify({ database, capacity: 0, keyFile: join(dir, 'missing.key') }));
    const found = cli('lookup', '192.0.2.7:3719', '--config', config, '--json');
    expect(found.status, found.stderr).toBe(0);
    expect(lines(found.stdout).map((row) => row['client'])).toEqual(['[2001:db8::3]:53186', '[2001:db8::17]:53186']);
    writeFileSync(config, JSON.stringify({ database: 7 }));
    expect(cli('lookup', '192.0.2.7:3719', '-c', config)).toMatchObject({ status: 78, stderr: expect.stringContaining('database: expected a string') });
    writeFileSync(config, '[]');
    expect(cli('lookup', '192.0.2.7:3719', '-c', config)).toMatchObject({ status: 78 });
    expect(cli('lookup', '192.0.2.7:3719', '-c', join(dir, 'no-such-config.json'))).toMatchObject({ status: 78 });
  });

  it('lookup refuses a bad client or both questions at once as usage errors', () => {
    expect(cli('lookup', '--client', '192.0.2.7', '--db', database)).toMatchObject({ status: 64 });
    expect(cli('lookup', '192.0.2.7:3719', '--client', '2001:db8::17', '--db', database)).toMatchObject({ status: 64 });
    expect(cli('lookup', '--db', database)).toMatchObject({ status: 64 });
  });

  it('dump --json lists the current table, filtered by client, NAT address or endpoint, and protocol', () => {
    const all = cli('dump', '--db', database, '--json');
    expect(all.status, all.stderr).toBe(0);
    expect(lines(all.stdout)).toEqual([
      { protocol: 'tcp', nat: '192.0.2.7:3719', client: '[2001:db8::3]:53186', server: '203.0.113.2:443', startedAt: '2019-03-18T11:06:28.491727Z' },
      { protocol: 'udp', nat: '192.0.2.7:12191', client: '[2001:db8::17]:53186', server: '203.0.113.2:443', startedAt: '2019-03-18T11:06:28.491727Z' },
    ]);
    expect(lines(cli('dump', '--db', database, '--json', '--client', '2001:db8::17').stdout).map((row) => row['nat'])).toEqual(['192.0.2.7:12191']);
    expect(lines(cli('dump', '--db', database, '--json', '--nat', '192.0.2.7:3719').stdout).map((row) => row['nat'])).toEqual(['192.0.2.7:3719']);
    expect(lines(cli('dump', '--db', database, '--json', '--nat', '192.0.2.7', '--proto', 'udp').stdout).map((row) => row['nat'])).toEqual(['192.0.2.7:12191']);
    const text = cli('dump', '--db', database, '--client', '2001:db8::3');
    expect(text.stdout).toBe('2019-03-18 11:06:28.491727 Created 192.0.2.7:3719 [2001:db8::3]:53186\n');
    expect(cli('dump', '--db', database, '--nat', '192.0.2')).toMatchObject({ status: 64 });
  });
});

describe('nat64-receiver run --retention 0', { timeout: 60_000 }, () => {
  it('starts, and warns that lookup --at will find only what is held now', async () => {
    const { startChildReceiver } = await import('./support/child.js');
    const receiver = await startChildReceiver(dir, { db: join(dir, 'zero.db'), log: join(dir, 'zero.log'), extra: ['--retention', '0'] });
    try {
      const warning = receiver
        .stderr()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { level: number; msg: string; retention?: number })
        .find((line) => line.retention === 0);
      expect(warning?.level).toBe(40);
      expect(warning?.msg).toMatch(/^retention is 0: .*lookup --at finds only what is held now/);
    } finally {
      expect(await receiver.stop()).toBe(0);
    }
  });
});
