import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Lab, labUnavailableReason } from '@nat64/netlab';

const unavailable = labUnavailableReason(['ping']);
if (unavailable) console.log(`netlab tests skipped: ${unavailable}`);

function namespacesNow(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe.skipIf(unavailable)('lab', () => {
  it('joins two namespaces with a veth link that carries both families', () => {
    const lab = new Lab('test');
    try {
      const left = lab.addNamespace('left');
      const right = lab.addNamespace('right');
      lab.link(left, right, {
        addresses: [
          ['192.0.2.1/24', '2001:db8::1/64'],
          ['192.0.2.2/24', '2001:db8::2/64'],
        ],
      });
      expect(left.exec('ping', ['-c', '1', '-W', '2', '192.0.2.2'])).toContain('1 received');
      expect(right.exec('ping', ['-c', '1', '-W', '2', '2001:db8::1'])).toContain('1 received');
    } finally {
      lab.destroy();
    }
  });

  it('removes its namespaces and processes on destroy', async () => {
    const lab = new Lab('test');
    const host = lab.addNamespace('host');
    const sleeper = host.spawn('sleep', ['60']);
    const exited = new Promise((resolve) => sleeper.once('exit', resolve));
    expect(namespacesNow().some((line) => line.startsWith(host.name))).toBe(true);
    lab.destroy();
    await exited;
    expect(namespacesNow().some((line) => line.startsWith(host.name))).toBe(false);
    lab.destroy();
  });

  it('sweeps namespaces left by a run that was killed', () => {
    const stale = `n64-999999999-deadbeef-test-old`;
    execFileSync('ip', ['netns', 'add', stale]);
    const lab = new Lab('test');
    lab.destroy();
    expect(namespacesNow().some((line) => line.startsWith(stale))).toBe(false);
  });

  it('cleans up when its process exits without calling destroy', () => {
    const script = `
      import { Lab } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).pathname)};
      const lab = new Lab('test');
      console.log(lab.addNamespace('orphan').name);
      process.exit(3);
    `;
    let name = '';
    try {
      execFileSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      name = String((error as { stdout: string }).stdout).trim();
    }
    expect(name).toMatch(/^n64-\d+-/);
    expect(namespacesNow().some((line) => line.startsWith(name))).toBe(false);
  });
});
