#!/usr/bin/env node
// pnpm demo: the receiver as a server admin runs it, fed by the gateway simulator replaying the
// seed scenario, on a host of its own (a network namespace with the seed's addresses on its
// loopback). Prints the connection log the admin reads, answers an abuse-report question, and
// removes everything it made, also on Ctrl-C or failure.
//
//   +----------------------------- namespace "host" -------------------------------+
//   |  handoff-sim, gateways 192.0.2.7 and 192.0.2.9  --UDP 62863-->                 |
//   |                                         nat64-receiver on 198.51.100.10       |
//   +-------------------------------------------------------------------------------+
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, labUnavailableReason, waitForLine } from '@nat64/netlab';

const ROOT = new URL('../../../', import.meta.url).pathname;
const RECEIVER = join(ROOT, 'apps/receiver/dist/main.js');
const SIM = join(ROOT, 'tools/handoff-sim/dist/main.js');

const unavailable = labUnavailableReason();
if (unavailable) {
  console.error(`demo: cannot run here: ${unavailable}`);
  process.exit(77);
}

const dir = mkdtempSync(join(tmpdir(), 'nat64-demo-'));
const lab = new Lab('demo');
try {
  const host = lab.addNamespace('host');
  for (const address of ['192.0.2.7/32', '192.0.2.9/32', '198.51.100.10/32']) host.ip('address', 'add', address, 'dev', 'lo');
  const log = join(dir, 'connections.log');
  const database = join(dir, 'connections.db');
  console.log('demo: starting nat64-receiver on 198.51.100.10 (UDP 62863)');
  const receiver = host.spawn('node', [RECEIVER, 'run', '--listen', '198.51.100.10', '--db', database, '--conn-log', log, '--control', join(dir, 'control.sock')]);
  await waitForLine(receiver.stderr!, /receiver started/);
  console.log('demo: handoff-sim replays the seed: gateway 192.0.2.7 creates three entries, then 192.0.2.9:47102 passes to another client');
  const sim = await host.run('node', [SIM, '--receiver', '198.51.100.10', '--scenario', 'seed']);
  if (sim.code !== 0) throw new Error(`handoff-sim failed: ${sim.stderr}`);
  console.log(`\nThe connection log (${log}):\n`);
  console.log(readFileSync(log, 'utf8'));
  console.log('An abuse report asks who used 192.0.2.9:47102. nat64-receiver lookup 192.0.2.9:47102 answers:\n');
  console.log((await host.run('node', [RECEIVER, 'lookup', '192.0.2.9:47102', '--db', database])).stdout);
  receiver.kill('SIGTERM');
  await new Promise((resolve) => receiver.once('exit', resolve));
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  lab.destroy();
  rmSync(dir, { recursive: true, force: true });
}
