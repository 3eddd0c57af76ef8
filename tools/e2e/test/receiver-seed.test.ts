// The receiver and the gateway simulator as real programs on one host, in a namespace of its own
// whose loopback carries the seed's addresses:
//
//   +-------------------------- namespace "host" ---------------------------+
//   |  handoff-sim (from 192.0.2.7 and 192.0.2.9)  --UDP 62863-->            |
//   |                                  nat64-receiver on 198.51.100.10        |
//   +------------------------------------------------------------------------+
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, labUnavailableReason, waitForLine, type Namespace } from '@nat64/netlab';

const ROOT = new URL('../../../', import.meta.url).pathname;
const RECEIVER = join(ROOT, 'apps/receiver/dist/main.js');
const SIM = join(ROOT, 'tools/handoff-sim/dist/main.js');

const unavailable = labUnavailableReason();
if (unavailable) console.log(`receiver end-to-end tests skipped: ${unavailable}`);

describe.skipIf(unavailable)('receiver end to end', () => {
  let lab: Lab;
  let host: Namespace;
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nat64-e2e-receiver-'));
    lab = new Lab('e2e');
    host = lab.addNamespace('host');
    for (const address of ['192.0.2.7/32', '192.0.2.9/32', '198.51.100.10/32']) host.ip('address', 'add', address, 'dev', 'lo');
  });
  afterAll(() => {
    lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs the six lines of the seed example exactly, after the two before them, apart from timestamps', async () => {
    const log = join(dir, 'connections.log');
    const receiver = host.spawn('node', [
      RECEIVER,
      'run',
      '--listen',
      '198.51.100.10',
      '--db',
      join(dir, 'connections.db'),
      '--conn-log',
      log,
      '--control',
      join(dir, 'control.sock'),
    ]);
    await waitForLine(receiver.stderr!, /receiver started/);
    const sim = await host.run('node', [SIM, '--receiver', '198.51.100.10', '--scenario', 'seed']);
    expect(sim.code, sim.stderr).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    // The two lines before the excerpt, then the six lines of the seed example, exactly.
    expect(lines.map((line) => line.slice(27))).toEqual([
      'Initialized 192.0.2.9',
      'Created 192.0.2.9:47102 [2001:db8::75]:33131',
      'Initialized 192.0.2.7',
      'Created 192.0.2.7:3719 [2001:db8::17]:53186',
      'Created 192.0.2.7:12191 [2001:db8::3]:53716',
      'Created 192.0.2.7:28965 [2001:db8::5]:41660',
      'Deleted 192.0.2.9:47102 [2001:db8::75]:33131',
      'Created 192.0.2.9:47102 [2001:db8::55]:34643',
    ]);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} /);
    const lookup = await host.run('node', [RECEIVER, 'lookup', '192.0.2.9:47102', '--db', join(dir, 'connections.db')]);
    expect(lookup.stdout.split('\n')[0]).toMatch(/^tcp 192\.0\.2\.9:47102 \[2001:db8::55\]:34643 .* until now$/);
    receiver.kill('SIGTERM');
    const code = await new Promise((resolve) => receiver.once('exit', resolve));
    expect(code).toBe(0);
  });
});
