// The two commands as a person types them: `--version`, a usage mistake answered with the error and
// a hint (not the whole help), bad filter values as usage errors (64) even with no daemon running,
// and a configuration file with several mistakes reported all at once (78), before anything opens.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GATEWAY_MAIN, REPO } from './support/gateway-lab.js';
import { RECEIVER_MAIN } from './support/handoff-lab.js';

const dir = mkdtempSync(join(tmpdir(), 'nat64-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(main: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const version = (app: string) => (JSON.parse(readFileSync(join(REPO, 'apps', app, 'package.json'), 'utf8')) as { version: string }).version;

describe('nat64-gateway and nat64-receiver on the command line', () => {
  it('print their package version with --version', () => {
    expect(run(GATEWAY_MAIN, '--version')).toMatchObject({ status: 0, stdout: `${version('gateway')}\n` });
    expect(run(RECEIVER_MAIN, '--version')).toMatchObject({ status: 0, stdout: `${version('receiver')}\n` });
  });

  it('are executable files that run by their #!/usr/bin/env node line', () => {
    for (const main of [GATEWAY_MAIN, RECEIVER_MAIN]) {
      expect(readFileSync(main, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
      const result = spawnSync(main, ['--version'], { encoding: 'utf8' });
      expect(result.status, String(result.error)).toBe(0);
    }
  });

  it('answer a usage mistake with the error and a one-line hint, exit code 64', () => {
    expect(run(GATEWAY_MAIN, 'run', '--no-such-flag')).toEqual({
      status: 64,
      stdout: '',
      stderr: "error: unknown option '--no-such-flag'\n(run 'nat64-gateway run --help' for usage)\n",
    });
    expect(run(RECEIVER_MAIN, 'lookup', '192.0.2.7:3719', '--proto', 'sctp')).toEqual({
      status: 64,
      stdout: '',
      stderr:
        "error: option '--proto <protocol>' argument 'sctp' is invalid. Allowed choices are tcp, udp, icmp.\n(run 'nat64-receiver lookup --help' for usage)\n",
    });
  });

  it('treat bad filter values as usage errors before looking for the daemon', () => {
    const control = join(dir, 'nobody.sock');
    for (const [flag, value] of [
      ['--client', 'not-an-address'],
      ['--server', '2001:db8::1'],
      ['--nat', '198.51.100'],
    ]) {
      const result = run(GATEWAY_MAIN, 'sessions', '--control', control, flag!, value!);
      expect(result.status, `${flag} ${value}`).toBe(64);
      expect(result.stderr).toMatch(/^error: .*\n\(run 'nat64-gateway sessions --help' for usage\)\n$/);
      expect(result.stderr).not.toContain('cannot reach');
    }
    const limit = run(RECEIVER_MAIN, 'lookup', '192.0.2.7:3719', '--db', join(dir, 'none.db'), '--limit', 'many');
    expect(limit.status).toBe(64);
    expect(limit.stderr).toContain("argument 'many' is invalid");
  });

  it('report every mistake of a gateway configuration file at once', () => {
    const file = join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify({ pool4: ['198.51.100.1'], tun: { mtu: 70000 }, filtering: 'strict', logSessions: 'yes', colour: 'blue' }));
    const result = run(GATEWAY_MAIN, 'run', '--check', '--config', file);
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('4 mistakes:');
    for (const where of ['tun.mtu: must be at most 65535', 'filtering: expected one of', 'logSessions: expected true or false', 'colour: unknown setting']) {
      expect(result.stderr).toContain(`${file}: ${where}`);
    }
  });

  it('report every mistake of a receiver configuration file at once, before opening anything', () => {
    const file = join(dir, 'receiver.json');
    const database = join(dir, 'receiver.db');
    writeFileSync(file, JSON.stringify({ database, port: 99999, durability: 'sometimes', listen: ['192.0.2.1', 'nowhere'], capcity: 5 }));
    const result = run(RECEIVER_MAIN, 'run', '--config', file);
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('4 mistakes:');
    for (const where of [
      'port: must be at most 65535',
      'durability: expected one of full, normal',
      'listen[1]: expected an IPv4 or IPv6 address',
      'capcity: unknown setting',
    ]) {
      expect(result.stderr).toContain(`${file}: ${where}`);
    }
    expect(() => readFileSync(database)).toThrow();
  });

  it('read durations in JSON as the flags write them or as seconds, and the Geneve option class as hex', () => {
    const receiver = join(dir, 'receiver-values.json');
    writeFileSync(receiver, JSON.stringify({ idleTimeout: 3600, retention: '5m', geneveOptionClass: '0xff70' }));
    const printed = run(RECEIVER_MAIN, 'run', '--check', '--print', '--config', receiver);
    expect(printed.status, printed.stderr).toBe(0);
    expect(JSON.parse(printed.stdout)).toMatchObject({ idleTimeout: '1h', retention: '5m', geneveOptionClass: 0xff70 });
    writeFileSync(receiver, JSON.stringify({ idleTimeout: true, retention: '5 weeks', geneveOptionClass: '0xzz' }));
    const refused = run(RECEIVER_MAIN, 'run', '--check', '--config', receiver);
    expect(refused.status).toBe(78);
    expect(refused.stderr).toContain('3 mistakes:');
    expect(refused.stderr).toContain('geneveOptionClass: expected an integer or a hex string such as "0xff64"');
    const gateway = join(dir, 'gateway-values.json');
    writeFileSync(gateway, JSON.stringify({ pool4: ['198.51.100.1'], timeouts: { udp: 300, icmp: '30s' }, statsInterval: 60 }));
    const effective = run(GATEWAY_MAIN, 'run', '--check', '--print', '--config', gateway);
    expect(effective.status, effective.stderr).toBe(0);
    expect(JSON.parse(effective.stdout)).toMatchObject({ timeouts: { udp: '5m', icmp: '30s' }, statsInterval: '1m' });
  });
});
