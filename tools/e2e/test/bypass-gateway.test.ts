// NAT64 bypass, gateway side, end to end: the built `nat64-gateway run --transport bypass` and the
// built `nat64-receiver run --transport bypass` on the IPv4-only host, across network namespaces:
//
//   client (IPv6 only)         gateway                                         server (IPv4 only, IPv6 disabled)
//   2001:db8:1::2 ---veth--- 2001:db8:1::1                                      203.0.113.2 (and .20 for forgeries)
//   curl, node clients        TUN "nat64": nat64-gateway --transport bypass  ---veth---  nat64-receiver --transport bypass
//                             prefix 2001:db8:64::/96, pool4 198.51.100.1     203.0.113.1  TAP nat64bp0: 2001:db8:64::cb00:7102
//                             198.51.100.1:6081 <-> 203.0.113.2:6081                       HTTP on [::]:8080, bulk on [::]:8081
//                                                                                          TCP echo on 203.0.113.2:9000
//
// The order matters: a translated connection is opened before the receiver runs, the host then
// accepts, new flows go through the tunnel while the old one stays translated, and at the end the
// receiver is killed and new flows fall back to translation. Documentation addresses only; everything
// lives in the lab's namespaces, removed on every path.

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { labUnavailableReason, waitFor, waitForLine } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDRESSES,
  GATEWAY_MAIN,
  REPO,
  createTopology,
  gatewayCli,
  gatewayUnbuiltReason,
  type RunningGateway,
  type Topology,
  startLabGateway,
} from './support/gateway-lab.js';
import {
  capture,
  curl,
  gatewayCounters,
  gatewayHosts,
  receiverCounters,
  receiverUnbuiltReason,
  startConversation,
  startHttpServerIn,
  startReceiverIn,
  type Capture,
  type Conversation,
  type HttpServer,
  type RunningReceiver,
} from './support/handoff-lab.js';
import { dissectGeneve, dissectInnerTcp } from './support/geneve-lab.js';

const PEER_MAIN = join(REPO, 'tools/bypass-peer/dist/main.js');
const unavailable =
  labUnavailableReason(['curl', 'sha256sum']) ??
  gatewayUnbuiltReason() ??
  receiverUnbuiltReason() ??
  (existsSync(PEER_MAIN) ? undefined : `${PEER_MAIN} is missing`);
if (unavailable) console.log(`bypass gateway end-to-end tests skipped: ${unavailable}`);
const hasTshark = labUnavailableReason(['tshark']) === undefined;

const BULK_BYTES = 20 * 1024 * 1024;
/** What the dual-stack HTTP server says about a translated client: the NAT address, IPv4-mapped. */
const TRANSLATED = /^(::ffff:)?198\.51\.100\.1:\d+$/;

describe.skipIf(unavailable)('bypass, gateway side (end to end)', () => {
  let t: Topology;
  let dir: string;
  let control: string;
  let gateway: RunningGateway;
  let receiver: RunningReceiver | undefined;
  let http: HttpServer;
  let bulk: ChildProcess;
  let old: Conversation;
  let tap: Capture | undefined;
  let vni = 0;

  const receiverArgs = ['--transport', 'bypass', '--bypass-prefix', ADDRESSES.prefix, '--allow', `${ADDRESSES.pool4}/32`];
  const hostRow = async () => (await gatewayHosts(GATEWAY_MAIN, control)).hosts.find((row) => row['host'] === ADDRESSES.server);
  const sessionsTo = async (port: number) => {
    const listed = await gatewayCli(['sessions', '--control', control, '--protocol', 'tcp', '--server', ADDRESSES.server, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    return listed.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, string>)
      .filter((row) => row['server'] === `${ADDRESSES.server}:${port}`);
  };

  beforeAll(async () => {
    t = createTopology('bpg');
    dir = mkdtempSync(join(tmpdir(), 'n64-bypass-gw-'));
    control = join(dir, 'gateway.sock');
    t.server.sysctl('net.ipv6.conf.all.disable_ipv6', 1);
    t.server.sysctl('net.ipv6.conf.default.disable_ipv6', 1);
    http = await startHttpServerIn(t.server, '::', 8080);
    // Bulk: GET sends BULK_BYTES of a fixed pattern, POST answers the sha256 of what it received.
    bulk = t.server.spawn('node', [
      '-e',
      `const crypto = require('crypto');
       const data = Buffer.alloc(${BULK_BYTES});
       for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
       require('http').createServer((req, res) => {
         if (req.method === 'GET') return res.end(data);
         const hash = crypto.createHash('sha256');
         req.on('data', (d) => hash.update(d));
         req.on('end', () => res.end(hash.digest('hex')));
       }).listen(8081, '::', () => console.log('listening'));`,
    ]);
    await waitForLine(bulk.stdout!, /^listening$/);
    writeFileSync(
      join(dir, 'gateway.json'),
      JSON.stringify({
        statsInterval: '0s',
        handoff: { bypass: { secretFile: join(dir, 'state', 'bypass-secret'), offerInterval: '1s', reachableTime: '2s' } },
      }),
    );
    gateway = await startLabGateway(t, control, ['--config', join(dir, 'gateway.json'), '--transport', 'bypass']);
  });

  afterAll(async () => {
    old?.close();
    if (tap !== undefined) await tap.stop().catch(() => undefined);
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop();
    if (receiver !== undefined && receiver.child.exitCode === null) await receiver.stop();
    http?.child.kill();
    bulk?.kill();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('creates its persistent secret 0600 and translates while the host has not accepted', async () => {
    expect(statSync(join(dir, 'state', 'bypass-secret')).mode & 0o777).toBe(0o600);
    old = await startConversation(t);
    await old.say('before');
    const translated = await curl(t);
    expect(translated.code).toBe(0);
    expect(translated.body).toMatch(TRANSLATED);
    const row = await waitFor('the host offered', async () => (await hostRow())?.['bypass'] as Record<string, unknown> | undefined);
    expect(row).toMatchObject({ state: 'offered' });
    const counters = await gatewayCounters(GATEWAY_MAIN, control);
    expect(counters['bypass.offersSent']).toBeGreaterThanOrEqual(1);
  });

  it('turns the host to bypass once its receiver answers, and curl reaches the server with the real client address and no session', async () => {
    if (hasTshark) tap = await capture(t.server, dir, 'bypass', 'udp port 6081');
    receiver = await startReceiverIn(t.server, ADDRESSES.server, join(dir), undefined, receiverArgs);
    const row = await waitFor(
      'the host in bypass',
      async () => {
        const found = await hostRow();
        return found?.['transport'] === 'bypass' ? found : undefined;
      },
      15_000,
    );
    const b = row['bypass'] as unknown as Record<string, unknown>;
    vni = row['vni'] as number;
    expect(b).toMatchObject({ state: 'bypass', vni });
    expect(b['mac']).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(b['serverMac']).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(typeof b['tunnelAgeMs']).toBe('number');
    expect(receiver.lines().some((line) => line.startsWith(`Tunnel up ${ADDRESSES.pool4} vni 0x${vni.toString(16).padStart(6, '0')}`))).toBe(true);

    const result = await curl(t);
    expect(result.code).toBe(0);
    expect(result.body).toBe(`${ADDRESSES.client}:${result.localPort}`);
    expect(http.peers.at(-1)).toBe(`${ADDRESSES.client}:${result.localPort}`);
    expect(await sessionsTo(8080)).toEqual(expect.not.arrayContaining([expect.objectContaining({ client: `[${ADDRESSES.client}]:${result.localPort}` })]));
    const counters = await gatewayCounters(GATEWAY_MAIN, control);
    expect(counters['bypass.framesOut']).toBeGreaterThanOrEqual(3);
    expect(counters['bypass.framesIn']).toBeGreaterThanOrEqual(3);
    expect(counters['gateway.bypassed']).toBeGreaterThanOrEqual(3);
    const text = await gatewayCli(['hosts', '--control', control]);
    expect(text.stdout).toContain(`${ADDRESSES.server} bypass vni 0x${vni.toString(16).padStart(6, '0')}`);
  });

  it('keeps the connection translated before the host accepted on its path, while new ones go through the tunnel', async () => {
    await old.say('after');
    const sessions = await sessionsTo(9000);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!['client']).toBe(`[${ADDRESSES.client}]:${old.clientPort}`);
    const counters = await gatewayCounters(GATEWAY_MAIN, control);
    expect(counters['bypass.keptTranslated']).toBeGreaterThanOrEqual(1);
  });

  it('drops and counts forged frames: wrong VNI, wrong outer source, the bypass option from the server side, a foreign MAC', async () => {
    t.server.ip('addr', 'add', '203.0.113.20/24', 'dev', serverLink(t));
    const before = await gatewayCounters(GATEWAY_MAIN, control);
    const forge = (local: string, forgedVni: number, ...extra: string[]) =>
      t.server.exec('node', [
        PEER_MAIN,
        'forge',
        '--server',
        ADDRESSES.pool4,
        '--local',
        local,
        '--prefix',
        ADDRESSES.prefix,
        '--vni',
        String(forgedVni),
        '--count',
        '2',
        ...extra,
      ]);
    forge(ADDRESSES.server, vni ^ 1, '--no-option');
    forge('203.0.113.20', vni, '--no-option');
    forge(ADDRESSES.server, vni);
    forge(ADDRESSES.server, vni, '--no-option');
    const after = await waitFor('the forged frames counted', async () => {
      const counters = await gatewayCounters(GATEWAY_MAIN, control);
      return (counters['bypass.wrongMac'] ?? 0) - (before['bypass.wrongMac'] ?? 0) >= 2 ? counters : undefined;
    });
    const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    expect(delta('bypass.drop.vni-mismatch')).toBe(2);
    expect(delta('bypass.noHost')).toBe(2);
    expect(delta('bypass.drop.option-from-server')).toBe(2);
    expect(delta('bypass.wrongMac')).toBe(2);
    expect(delta('gateway.injected6')).toBe(0);
  });

  it.skipIf(!hasTshark)(
    'sends packets tshark dissects as Geneve: option 0x0162 type 0 toward the server, Ethernet/IPv6/TCP inside, no option back',
    async () => {
      const captured = tap!;
      tap = undefined;
      await captured.stop();
      const file = join(dir, 'bypass.pcapng');
      const packets = await dissectGeneve(t.server, file);
      const toServer = packets.filter((p) => p.src === ADDRESSES.pool4 && p.dst === ADDRESSES.server);
      const fromServer = packets.filter((p) => p.src === ADDRESSES.server && p.dst === ADDRESSES.pool4 && p.vni === vni);
      expect(toServer.length).toBeGreaterThanOrEqual(4);
      for (const packet of toServer) expect(packet).toMatchObject({ vni, protoType: 0x6558, oam: false, optionClasses: [0x0162], optionTypes: [0x00] });
      expect(fromServer.length).toBeGreaterThanOrEqual(3);
      // The server's own packets carry no option; the only ones that do are the two forgeries above.
      expect(fromServer.filter((p) => p.optionClasses.length > 0)).toHaveLength(2);
      for (const packet of fromServer) expect(packet).toMatchObject({ protoType: 0x6558, oam: false });
      const rows = await dissectInnerTcp(t.server, file);
      expect(rows.some(([, src, dst, port]) => src === ADDRESSES.client && dst === ADDRESSES.serverSix && port === '8080')).toBe(true);
      expect(rows.some(([, src, dst]) => src === ADDRESSES.serverSix && dst === ADDRESSES.client)).toBe(true);
      expect(rows.every(([type]) => type!.split(',').includes('0x86dd'))).toBe(true);
    },
  );

  it('downloads and uploads 20 MB through the tunnel intact, without a session', async () => {
    const file = join(dir, 'bulk.bin');
    const url = `http://[${ADDRESSES.serverSix}]:8081/`;
    const down = await t.client.run('curl', ['-sS', '--max-time', '120', '-o', file, url], { timeoutMs: 130_000 });
    expect(down.code, down.stderr).toBe(0);
    const sum = (await t.client.run('sha256sum', [file])).stdout.split(' ')[0]!;
    const reference = await t.client.run('node', [
      '-e',
      `const d = Buffer.alloc(${BULK_BYTES}); for (let i = 0; i < d.length; i++) d[i] = (i * 2654435761) >>> 24; console.log(require('crypto').createHash('sha256').update(d).digest('hex'))`,
    ]);
    expect(sum).toBe(reference.stdout.trim());
    const before = await receiverCounters(t, receiver!);
    const up = await t.client.run('curl', ['-sS', '--max-time', '120', '--data-binary', `@${file}`, '-H', 'Content-Type: application/octet-stream', url], {
      timeoutMs: 130_000,
    });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout.trim()).toBe(sum);
    expect(await sessionsTo(8081)).toHaveLength(0);
    // The upload's segments reached the server's stack coalesced into large ones (receive coalescing).
    const after = await receiverCounters(t, receiver!);
    expect(after['bypassTrainsIn']! - (before['bypassTrainsIn'] ?? 0)).toBeGreaterThan(0);
    expect(after['bypassFramesCoalesced']! - (before['bypassFramesCoalesced'] ?? 0)).toBeGreaterThan(0);
    expect(after['bypassFramesInFailed']).toBe(before['bypassFramesInFailed']);
  });

  it('answers packets over the tunnel MTU (1400) with ICMPv6 Packet Too Big, and carries those that fit', async () => {
    const before = await gatewayCounters(GATEWAY_MAIN, control);
    const big = await t.client.run('ping', ['-6', '-n', '-c', '1', '-W', '2', '-M', 'do', '-s', '1400', ADDRESSES.serverSix]);
    expect(big.stdout).toContain('Packet too big: mtu=1400');
    const fits = await t.client.run('ping', ['-6', '-n', '-c', '1', '-W', '5', '-M', 'do', '-s', '1352', ADDRESSES.serverSix]);
    expect(fits.code, fits.stdout).toBe(0);
    const after = await gatewayCounters(GATEWAY_MAIN, control);
    expect(after['gateway.bypassTooBig']! - (before['gateway.bypassTooBig'] ?? 0)).toBe(1);
    expect(after['bypass.framesOut']!).toBeGreaterThan(before['bypass.framesOut']!);
  });

  it('falls back to translation for new flows once the receiver is killed, logs and counts it, and keeps offering', async () => {
    await receiver!.kill();
    const before = await gatewayCounters(GATEWAY_MAIN, control);
    // The first SYN goes into the dead tunnel; the fallback (port unreachable, or at the latest neighbor
    // unreachability: reachableTime 2 s + 5 s + 3 probes 1 s apart) turns its retransmission to translation.
    const result = await curl(t, 8080, ['--max-time', '30']);
    expect(result.code).toBe(0);
    expect(result.body).toMatch(TRANSLATED);
    const row = await hostRow();
    expect(row).toMatchObject({ transport: 'nat64' });
    expect((row!['bypass'] as unknown as Record<string, unknown>)['state']).toBe('unreachable');
    const after = await gatewayCounters(GATEWAY_MAIN, control);
    expect(after['bypass.fallbacks']! - (before['bypass.fallbacks'] ?? 0)).toBe(1);
    expect(gateway.log.some((line) => line.includes('bypass: tunnel stopped answering'))).toBe(true);
    await waitFor('another offer', async () => (await gatewayCounters(GATEWAY_MAIN, control))['bypass.offersSent']! > after['bypass.offersSent']!);
  });

  it('takes the host back when a receiver answers again, here one with --no-bypass-coalesce: the upload arrives intact, frame by frame', async () => {
    receiver = await startReceiverIn(t.server, ADDRESSES.server, join(dir), undefined, [...receiverArgs, '--no-bypass-coalesce']);
    await waitFor('the host in bypass again', async () => ((await hostRow())?.['transport'] === 'bypass' ? true : undefined), 20_000);
    const file = join(dir, 'bulk.bin');
    const sum = (await t.client.run('sha256sum', [file])).stdout.split(' ')[0]!;
    const url = `http://[${ADDRESSES.serverSix}]:8081/`;
    const up = await t.client.run('curl', ['-sS', '--max-time', '120', '--data-binary', `@${file}`, '-H', 'Content-Type: application/octet-stream', url], {
      timeoutMs: 130_000,
    });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout.trim()).toBe(sum);
    const counters = await receiverCounters(t, receiver);
    expect(counters['bypassFramesIn']).toBeGreaterThan(BULK_BYTES / 1400);
    expect(counters['bypassTrainsIn'] ?? 0).toBe(0);
    expect(counters['bypassFramesCoalesced'] ?? 0).toBe(0);
  });
});

function serverLink(t: Topology): string {
  const line = t.server
    .ip('-o', '-4', 'addr', 'show')
    .split('\n')
    .find((entry) => entry.includes(`${ADDRESSES.server}/`));
  return line!.split(/\s+/)[1]!;
}
