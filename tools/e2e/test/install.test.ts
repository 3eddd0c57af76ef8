// tools/setup/install.sh for real, into a temporary root (DESTDIR): the installed commands run by
// name from the PATH, every file lands with its mode, an edited configuration survives a second
// install, and uninstall (then --purge) leaves no file behind.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from './support/gateway-lab.js';

const INSTALL = join(REPO, 'tools/setup/install.sh');
const root = mkdtempSync(join(tmpdir(), 'nat64-install-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs install.sh into the temporary root; asynchronously, since it takes a while (build, two deploys). */
async function install(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(INSTALL, args, { env: { ...process.env, DESTDIR: root }, encoding: 'utf8', timeout: 120_000 });
  return stdout;
}

/** Runs an installed command by name, as a shell would find it. */
function command(name: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(name, args, { env: { ...process.env, PATH: `${root}/usr/local/bin:/usr/bin:/bin` }, encoding: 'utf8', cwd: root });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function has(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
}

function mode(path: string): string {
  return (statSync(join(root, path)).mode & 0o7777).toString(8).padStart(4, '0');
}

/** Every file and link under the root (directories left empty do not count). */
function filesUnder(dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path.slice(root.length)];
  });
}

const FILES: Record<string, string> = {
  '/etc/systemd/system/nat64-gateway.service': '0644',
  '/etc/systemd/system/nat64-receiver.service': '0644',
  '/etc/sysusers.d/nat64-gateway.conf': '0644',
  '/etc/sysusers.d/nat64-receiver.conf': '0644',
  '/etc/tmpfiles.d/nat64-gateway.conf': '0644',
  '/etc/tmpfiles.d/nat64-receiver.conf': '0644',
  '/etc/logrotate.d/nat64-receiver': '0644',
  '/etc/nat64-handoff/gateway.json': '0640',
  '/etc/nat64-handoff/receiver.json': '0640',
  '/opt/nat64-handoff/gateway/dist/main.js': '0755',
  '/opt/nat64-handoff/receiver/dist/main.js': '0755',
};

// A build check and two `pnpm deploy` copies per install: well within this, even on a busy machine.
const INSTALL_TIMEOUT = 180_000;

describe('tools/setup/install.sh', () => {
  const version = (JSON.parse(readFileSync(join(REPO, 'apps/gateway/package.json'), 'utf8')) as { version: string }).version;

  it(
    'installs both daemons, runnable by name, with their units, users, directories, log rotation and configs',
    async () => {
      await install();
      for (const [path, expected] of Object.entries(FILES)) expect(mode(path), path).toBe(expected);
      for (const name of ['nat64-gateway', 'nat64-receiver']) {
        const link = join(root, 'usr/local/bin', name);
        expect(lstatSync(link).isSymbolicLink()).toBe(true);
        expect(readlinkSync(link).startsWith('/')).toBe(false);
      }
      expect(command('nat64-gateway', '--version')).toMatchObject({ status: 0, stdout: `${version}\n` });
      const help = command('nat64-receiver', '--help');
      expect(help.status).toBe(0);
      expect(help.stdout).toContain('Usage: nat64-receiver');
      // `lookup` runs its bundled module, which loads better-sqlite3 from the installed copy: SQLite
      // itself refuses a file with an SQLite header and nothing valid behind it.
      const broken = Buffer.alloc(4096);
      broken.write('SQLite format 3\0');
      writeFileSync(join(root, 'broken.db'), broken);
      expect(command('nat64-receiver', 'lookup', '192.0.2.7:3719', '--db', join(root, 'broken.db'))).toMatchObject({
        status: 65,
        stderr: expect.stringContaining('not an SQLite database'),
      });
      rmSync(join(root, 'broken.db'));
      // The installed copy stands alone: its example configuration passes the gateway's own check.
      expect(command('nat64-gateway', 'run', '--check', '--config', join(root, 'etc/nat64-handoff/gateway.json'))).toMatchObject({
        status: 0,
        stdout: 'configuration OK\n',
      });
      const unit = readFileSync(join(root, 'etc/systemd/system/nat64-receiver.service'), 'utf8');
      expect(unit).toContain('ExecStart=/usr/local/bin/nat64-receiver run --config /etc/nat64-handoff/receiver.json');
      expect(filesUnder().some((path) => path.includes('/src/') && path.endsWith('.ts'))).toBe(false);
    },
    INSTALL_TIMEOUT,
  );

  it('ships sysusers and tmpfiles files that make the users and their directories (systemd-sysusers, systemd-tmpfiles)', (context) => {
    if (!has('systemd-sysusers') || !has('systemd-tmpfiles')) {
      console.log('skipped: systemd-sysusers or systemd-tmpfiles is not installed');
      return context.skip();
    }
    const other = mkdtempSync(join(tmpdir(), 'nat64-sysusers-'));
    try {
      for (const kind of ['sysusers.d', 'tmpfiles.d']) {
        mkdirSync(join(other, 'etc', kind), { recursive: true });
        for (const app of ['gateway', 'receiver']) copyFileSync(join(root, 'etc', kind, `nat64-${app}.conf`), join(other, 'etc', kind, `nat64-${app}.conf`));
      }
      execFileSync('systemd-sysusers', [`--root=${other}`], { stdio: 'pipe' });
      execFileSync('systemd-tmpfiles', [`--root=${other}`, '--create'], { stdio: 'pipe' });
      const users = new Map(
        readFileSync(join(other, 'etc/passwd'), 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.split(':'))
          .map(([name, , uid]) => [name!, Number(uid)]),
      );
      expect([...users.keys()].sort()).toEqual(['nat64-gateway', 'nat64-receiver']);
      for (const [dir, user] of [
        ['run/nat64-gateway', 'nat64-gateway'],
        ['run/nat64-receiver', 'nat64-receiver'],
        ['var/lib/nat64-receiver', 'nat64-receiver'],
        ['var/log/nat64-receiver', 'nat64-receiver'],
      ]) {
        const stats = statSync(join(other, dir!));
        expect({ dir, uid: stats.uid, mode: (stats.mode & 0o777).toString(8) }).toEqual({ dir, uid: users.get(user!), mode: '750' });
      }
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('ships a logrotate file that rotates the connection log', (context) => {
    if (!has('logrotate')) {
      console.log('skipped: logrotate is not installed (apt-get install logrotate)');
      return context.skip();
    }
    const other = mkdtempSync(join(tmpdir(), 'nat64-logrotate-'));
    try {
      // The installed file, moved into the test's directory and owned by root (the users do not exist here).
      const installed = readFileSync(join(root, 'etc/logrotate.d/nat64-receiver'), 'utf8');
      const config = installed.replaceAll('/var/log/nat64-receiver', other).replace('nat64-receiver nat64-receiver', 'root root');
      expect(config).not.toBe(installed);
      writeFileSync(join(other, 'logrotate.conf'), config);
      writeFileSync(join(other, 'connections.log'), '2019-03-18 10:06:28.436754 Initialized 192.0.2.7\n');
      execFileSync('logrotate', ['--force', '--state', join(other, 'state'), join(other, 'logrotate.conf')], { stdio: 'pipe' });
      const logs = readdirSync(other)
        .filter((name) => name.startsWith('connections.log'))
        .sort();
      expect(logs).toHaveLength(2);
      expect(logs[0]).toBe('connections.log');
      expect(logs[1]).toMatch(/^connections\.log-\d{8}$/);
      expect(readFileSync(join(other, 'connections.log'), 'utf8')).toBe('');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it(
    'installs again over itself, keeping a configuration the admin edited',
    async () => {
      const config = join(root, 'etc/nat64-handoff/receiver.json');
      writeFileSync(config, '{ "port": 62863 }\n');
      const before = filesUnder().sort();
      const output = await install();
      expect(output).toContain('keeping /etc/nat64-handoff/receiver.json');
      expect(readFileSync(config, 'utf8')).toBe('{ "port": 62863 }\n');
      expect(filesUnder().sort()).toEqual(before);
      expect(command('nat64-receiver', '--version')).toMatchObject({ status: 0, stdout: `${version}\n` });
    },
    INSTALL_TIMEOUT,
  );

  it(
    'uninstalls everything it installed, keeping configs until --purge',
    async () => {
      await install('--uninstall');
      expect(filesUnder().sort()).toEqual(['/etc/nat64-handoff/gateway.json', '/etc/nat64-handoff/receiver.json']);
      expect(command('nat64-gateway', '--version').status).not.toBe(0);
      expect(existsSync(join(root, 'opt/nat64-handoff'))).toBe(false);
      await install('--uninstall', '--purge');
      expect(filesUnder()).toEqual([]);
    },
    INSTALL_TIMEOUT,
  );

  it('explains itself with --help, from its header comment only', () => {
    const result = spawnSync(INSTALL, ['--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout.startsWith('Installs nat64-gateway and nat64-receiver system-wide')).toBe(true);
    expect(result.stdout.trimEnd().endsWith('it enables and starts nothing.')).toBe(true);
  });

  it('refuses arguments it does not know', () => {
    const result = spawnSync(INSTALL, ['--uninstal'], { env: { ...process.env, DESTDIR: root }, encoding: 'utf8' });
    expect(result.status).toBe(64);
    expect(result.stderr).toContain('unknown argument --uninstal');
  });
});
