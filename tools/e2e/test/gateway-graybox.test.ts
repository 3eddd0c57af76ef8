// Conformance on a real TUN device: Jool's stateful NAT64 graybox cases replayed, in order, against
// the built nat64-gateway in a network namespace. Packets go in and come out on the kernel side of
// the TUN interface (support/gateway-packet-io.py), so nothing but the gateway touches them:
//
//   test process --stdin/stdout--> gateway-packet-io.py --AF_PACKET--> [TUN nat64] <--read/write-- nat64-gateway
//                                  (namespace "gw", no forwarding, IPv6 off: the kernel adds no packets)
//
// Cases whose settings differ from the suite's baseline get a gateway restarted with those settings
// (no case depends on dynamic state across such a change). The 6-second SYN-hold cases are replayed
// in process with a moved clock instead (apps/gateway/test/nat64-graybox.test.ts).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareExchange, loadSuite, missingSuiteNote, type GrayboxCase } from '@nat64/graybox';
import { Lab, labUnavailableReason, waitForLine, type Namespace } from '@nat64/netlab';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacketIo, routerUnreachable, suiteConfigFile } from './support/gateway-graybox.js';
import { gatewayUnbuiltReason, GATEWAY_MAIN } from './support/gateway-lab.js';

const FILE = 'jool-graybox-nat64.json';
const suite = loadSuite(FILE);
const unavailable = labUnavailableReason(['python3']) ?? gatewayUnbuiltReason() ?? (suite === undefined ? missingSuiteNote(FILE) : undefined);
if (unavailable) console.log(`gateway graybox replay on a real TUN skipped: ${unavailable}`);

/** Cases not replayed here, and why. */
const SKIPPED: Readonly<Record<string, string>> = {
  'so.46': 'needs the 6-second SYN hold to run out; replayed in process with a moved clock',
  'so.66': 'needs the 6-second SYN hold to run out; replayed in process with a moved clock',
};

const TUN = 'nat64';

describe.skipIf(unavailable)('gateway conformance on a real TUN (Jool graybox)', () => {
  const s = suite!;
  let lab: Lab;
  let ns: Namespace;
  let dir: string;
  let running: { key: string; child: ChildProcess; io: PacketIo } | undefined;

  beforeAll(() => {
    lab = new Lab('gwgb');
    ns = lab.addNamespace('gw');
    // No IPv6 on the TUN: the kernel would otherwise send router solicitations and MLD reports into it.
    ns.sysctl('net.ipv6.conf.all.disable_ipv6', 1);
    ns.sysctl('net.ipv6.conf.default.disable_ipv6', 1);
    dir = mkdtempSync(join(tmpdir(), 'n64-gwgb-'));
  });

  afterAll(async () => {
    await stop();
    lab?.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function stop(): Promise<void> {
    if (running === undefined) return;
    const { child, io } = running;
    running = undefined;
    io.close();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** A gateway with this case's settings, restarted only when they differ from the running one's. */
  async function gatewayFor(c: GrayboxCase): Promise<PacketIo> {
    const config = suiteConfigFile(s, c, join(dir, 'control.sock'));
    const key = JSON.stringify(config);
    if (running?.key === key) return running.io;
    await stop();
    const file = join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify({ ...config, logLevel: 'info' }));
    const child = ns.spawn('node', [GATEWAY_MAIN, 'run', '--config', file, '--tun', TUN]);
    await waitForLine(child.stderr!, /nat64-gateway running/, 15_000);
    const io = await PacketIo.start(ns, TUN);
    running = { key, child, io };
    return io;
  }

  async function run(c: GrayboxCase): Promise<Uint8Array[]> {
    const io = await gatewayFor(c);
    if (c.peerAction !== null) {
      // The router answers the translated packet with network unreachable.
      const [emitted] = await io.exchange([c.inputs[0]!], 1);
      expect((emitted?.[0] ?? 0) >> 4, `${c.id}: the translated packet goes to the IPv4 side`).toBe(4);
      return io.exchange([routerUnreachable(emitted!, 0)], c.expected.length);
    }
    // Every output belongs to the last input (so.success: the first, a held SYN, produces none).
    const out: Uint8Array[] = [];
    for (const [k, input] of c.inputs.entries()) {
      const last = k === c.inputs.length - 1;
      out.push(...(await io.exchange([input], last ? c.expected.length : 0, last ? 2000 : 200)));
    }
    return out;
  }

  for (const c of s?.cases ?? []) {
    const skip = SKIPPED[c.id];
    if (skip !== undefined) {
      it.skip(`${c.id} (${skip})`, () => {});
      continue;
    }
    it(c.id, async () => {
      const packets = await run(c);
      const result = compareExchange(c.expected, packets);
      const context = `${c.id}: ${c.description}\n${result.text}`;
      expect(result.ok, context).toBe(true);
      expect(result.ignored, context).toEqual([]);
    });
  }
});
