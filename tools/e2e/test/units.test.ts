// The shipped systemd units, rated by systemd itself: `systemd-analyze security --offline` (systemd
// 250 or newer) must rate each 2.5 or below, with the few rights each daemon really needs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Lab, labUnavailableReason } from '@nat64/netlab';
import { REPO } from './support/gateway-lab.js';

const UNITS = ['apps/gateway/contrib/nat64-gateway.service', 'apps/receiver/contrib/nat64-receiver.service'];

/** Why systemd-analyze cannot rate a unit file here (undefined when it can). */
function analyzeUnavailableReason(): string | undefined {
  const version = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (version.error !== undefined) return 'systemd-analyze is not installed (apt-get install systemd)';
  const number = Number(/systemd (\d+)/.exec(version.stdout)?.[1] ?? 0);
  return number >= 250 ? undefined : `systemd ${number} cannot rate a unit file offline (needs 250 or newer)`;
}

function settings(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of readFileSync(join(REPO, unit), 'utf8').split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) map.set(match[1]!, [...(map.get(match[1]!) ?? []), match[2]!]);
  }
  return map;
}

describe('the systemd units', () => {
  const unavailable = analyzeUnavailableReason();
  if (unavailable !== undefined) console.log(`skipped: ${unavailable}`);

  for (const unit of UNITS) {
    it.skipIf(unavailable !== undefined)(`${unit} is rated 2.5 or below by systemd-analyze security`, () => {
      const result = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', join(REPO, unit)], { encoding: 'utf8' });
      const overall = /Overall exposure level for [^:]+: (\d+\.\d+)/.exec(result.stdout);
      expect(overall, result.stdout + result.stderr).not.toBeNull();
      expect(Number(overall![1])).toBeLessThanOrEqual(2.5);
    });
  }

  it.skipIf(unavailable !== undefined)('pass systemd-analyze verify without a word (every setting known, every value valid)', () => {
    // The commands are installed by tools/setup/install.sh; node stands in for them here.
    const dir = mkdtempSync(join(tmpdir(), 'nat64-units-'));
    try {
      const copies = UNITS.map((unit) => {
        const copy = join(dir, basename(unit));
        writeFileSync(copy, readFileSync(join(REPO, unit), 'utf8').replace(/\/usr\/local\/bin\/nat64-(gateway|receiver)/g, process.execPath));
        return copy;
      });
      const result = spawnSync('systemd-analyze', ['verify', ...copies], { encoding: 'utf8' });
      expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(labUnavailableReason() !== undefined)(
    'relax a strict rp_filter before the receiver starts, as systemd runs the line, and only a strict one',
    async () => {
      const line = settings(UNITS[1]!)
        .get('ExecStartPre')!
        .find((value) => value.includes('rp_filter'))!;
      const quoted = /^\+\/bin\/sh -c '(.*)'$/.exec(line)![1]!;
      // systemd turns "$$" into "$" and would expand a lone "$NAME" itself (systemd.service, Command lines).
      expect(quoted.replaceAll('$$', '')).not.toContain('$');
      const command = quoted.replaceAll('$$', '$');
      const lab = new Lab('units');
      try {
        const host = lab.addNamespace('host');
        for (const [before, after] of [
          ['1', '2'],
          ['0', '0'],
          ['2', '2'],
        ]) {
          expect((await host.run('sysctl', ['-q', '-w', `net.ipv4.conf.all.rp_filter=${before}`])).code).toBe(0);
          expect((await host.run('sh', ['-c', command])).code).toBe(0);
          expect((await host.run('cat', ['/proc/sys/net/ipv4/conf/all/rp_filter'])).stdout.trim()).toBe(after);
        }
      } finally {
        lab.destroy();
      }
    },
  );

  it('give the gateway no capability, the receiver only CAP_NET_ADMIN, both /dev/net/tun and nothing else', () => {
    const gateway = settings(UNITS[0]!);
    const receiver = settings(UNITS[1]!);
    expect(gateway.get('CapabilityBoundingSet')).toEqual(['']);
    expect(gateway.get('AmbientCapabilities')).toEqual(['']);
    expect(receiver.get('CapabilityBoundingSet')).toEqual(['CAP_NET_ADMIN']);
    expect(receiver.get('AmbientCapabilities')).toEqual(['CAP_NET_ADMIN']);
    for (const unit of [gateway, receiver]) {
      expect(unit.get('DevicePolicy')).toEqual(['closed']);
      expect(unit.get('DeviceAllow')).toEqual(['/dev/net/tun rw']);
      expect(unit.get('RestrictAddressFamilies')).toEqual(['AF_INET AF_INET6 AF_UNIX AF_NETLINK']);
      expect(unit.get('UMask')).toEqual(['0077']);
      // Node compiles JavaScript to machine code at run time: write-then-execute memory must stay allowed.
      expect(unit.get('MemoryDenyWriteExecute')).toBeUndefined();
    }
  });
});
