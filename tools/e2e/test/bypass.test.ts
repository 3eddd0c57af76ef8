// NAT64 bypass, server side, end to end: the real `nat64-receiver run --transport bypass` on the
// IPv4-only host, and in the gateway namespace `bypass-peer`, a stand-in for the gateway built from
// @nat64/geneve alone, over real UDP sockets. The peer's TAP device is the gateway's side of the
// tunnel link, so the gateway namespace's kernel routes the client's packets into the tunnel:
//
//   client (IPv6 only)         gateway                                     server (IPv4 only)
//   2001:db8:1::2 ---veth--- 2001:db8:1::1                                  203.0.113.2
//   curl [2001:db8:64::      TAP bpgw (derived MAC, fe80::1)                nat64-receiver --transport bypass
//         cb00:7102]:8080      route 2001:db8:64::cb00:7102 dev bpgw          TAP nat64bp0: 2001:db8:64::cb00:7102/128
//                             bypass-peer: TAP <-> Geneve     ---veth---    HTTP on [::]:8080 (says the peer it saw)
//                               203.0.113.1:6081 <-> 203.0.113.2:6081       tshark on udp port 6081
//                             forged packets from .1 (wrong VNI), .9, .20
//
// Documentation addresses only; everything lives in the lab's namespaces, removed on every path.
import { mkdtempSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { labUnavailableReason, waitFor, waitForLine } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESSES, REPO, createTopology, type Topology } from './support/gateway-lab.js';
import {
  capture,
  curl,
  curlTo,
  receiverCli,
  receiverCounters,
  receiverUnbuiltReason,
  startHttpServerIn,
  startReceiverIn,
  type Capture,
  type HttpServer,
  type RunningReceiver,
} from './support/handoff-lab.js';
import { dissectGeneve, dissectInnerTcp } from './support/geneve-lab.js';

const PEER_MAIN = join(REPO, 'tools/bypass-peer/dist/main.js');
const PERSISTENT = '00'.repeat(16) + '11'.repeat(16);
const TRANSIENT = '22'.repeat(32);
const MESSAGE = 'NAT64 bypass test gateway, see RFC 8926';
const SERVER_SIX_HEX = '20010db80064000000000000cb007102';
/** A second gateway, at 203.0.113.9 with its own prefix. */
const PREFIX_2 = '2001:db8:65::/96';
const SERVER_SIX_2 = '2001:db8:65::cb00:7102';

const unavailable =
  labUnavailableReason(['curl']) ??
  receiverUnbuiltReason() ??
  (existsSync(PEER_MAIN) ? undefined : `${PEER_MAIN} is missing: build with pnpm --filter @nat64/bypass-peer build`);
if (unavailable) console.log(`bypass end-to-end tests skipped: ${unavailable}`);
const hasTshark = labUnavailableReason(['tshark']) === undefined;
if (!hasTshark) console.log('bypass end-to-end: tshark is not installed, the dissection test is skipped');

interface PeerEvent {
  event: string;
  vni?: number;
  status?: string;
  option?: boolean;
  protocolType?: number;
  icmpv6Type?: number | null;
  nextHeader?: number | null;
  advertisedTarget?: string;
  flags?: number;
}

describe.skipIf(unavailable)('bypass, server side (end to end)', () => {
  let t: Topology;
  let dir: string;
  let receiver: RunningReceiver;
  let http: HttpServer;
  let ipv4Only: ChildProcess;
  let peer: ChildProcess;
  let tap: Capture | undefined;
  const events: PeerEvent[] = [];
  let vni = 0;
  let peer2: ChildProcess | undefined;
  const events2: PeerEvent[] = [];
  const receiverArgs = () => ['--transport', 'bypass', '--bypass-prefix', `${ADDRESSES.prefix},${PREFIX_2}`, '--allow', '203.0.113.0/28'];

  beforeAll(async () => {
    t = createTopology('byp');
    dir = mkdtempSync(join(tmpdir(), 'n64-bypass-e2e-'));
    t.gateway.ip('addr', 'add', '203.0.113.9/24', 'dev', gatewayServerLink(t));
    t.gateway.ip('addr', 'add', '203.0.113.20/24', 'dev', gatewayServerLink(t));
    // An IPv4-only host in the strict sense: IPv6 disabled on every interface, and on new ones.
    t.server.sysctl('net.ipv6.conf.all.disable_ipv6', 1);
    t.server.sysctl('net.ipv6.conf.default.disable_ipv6', 1);
    http = await startHttpServerIn(t.server, '::', 8080);
    ipv4Only = t.server.spawn('node', ['-e', `require('net').createServer(() => {}).listen(9999, '${ADDRESSES.server}', () => console.log('listening'))`]);
    await waitForLine(ipv4Only.stdout!, /^listening$/);
    if (hasTshark) tap = await capture(t.server, dir, 'bypass', 'udp port 6081');
    receiver = await startReceiverIn(t.server, ADDRESSES.server, dir, undefined, receiverArgs());
    peer = startPeer(t, ADDRESSES.gatewayFour, ADDRESSES.prefix, 'bpgw', events);
    const identity = await waitFor('the peer to start', () => events.find((event) => event.event === 'identity'));
    vni = identity.vni!;
  });

  afterAll(async () => {
    peer?.kill();
    peer2?.kill();
    if (tap !== undefined) await tap.stop().catch(() => undefined);
    if (receiver !== undefined && receiver.child.exitCode === null) await receiver.stop();
    http?.child.kill();
    ipv4Only?.kill();
    t?.lab.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts an offer: a Neighbor Advertisement comes back through the tunnel with the VNI and no option', async () => {
    const advertisement = await waitFor('the advertisement', () => events.find((event) => event.event === 'received' && event.icmpv6Type === 136));
    expect(advertisement).toMatchObject({ status: 'frame', vni, option: false, protocolType: 0x6558, advertisedTarget: SERVER_SIX_HEX });
    expect(advertisement.flags! & 0x40).toBe(0x40); // Solicited
    await waitFor('the tunnel lines', () => receiver.lines().some((line) => line.startsWith('Tunnel up')));
    expect(receiver.lines()).toEqual([
      `Bypass offered by ${ADDRESSES.gatewayFour} ${JSON.stringify(MESSAGE)}`,
      `Tunnel up ${ADDRESSES.gatewayFour} vni 0x${vni.toString(16).padStart(6, '0')} ${ADDRESSES.serverSix} dev nat64bp0`,
    ]);
    expect(t.server.ip('-6', 'addr', 'show', 'dev', 'nat64bp0')).toContain(`${ADDRESSES.serverSix}/128`);
    expect(t.server.ip('-6', 'rule', 'show')).toContain(`from ${ADDRESSES.serverSix} lookup 6400`);
    // IPv6 stays disabled everywhere but on the tunnel.
    expect(t.server.exec('sysctl', ['-n', 'net.ipv6.conf.all.disable_ipv6']).trim()).toBe('1');
    expect(t.server.exec('sysctl', ['-n', 'net.ipv6.conf.nat64bp0.disable_ipv6']).trim()).toBe('0');
  });

  it('carries a curl from the IPv6-only client, and the HTTP server sees the real client address and port', async () => {
    const result = await curl(t);
    expect(result.code).toBe(0);
    expect(result.body).toBe(`${ADDRESSES.client}:${result.localPort}`);
    expect(http.peers.at(-1)).toBe(`${ADDRESSES.client}:${result.localPort}`);
    const fromServer = events.filter((event) => event.event === 'received');
    expect(fromServer.every((event) => event.status === 'frame' && event.option === false && event.vni === vni)).toBe(true);
    expect(fromServer.some((event) => event.nextHeader === 6)).toBe(true); // TCP replies came through the tunnel
    const counters = await receiverCounters(t, receiver);
    expect(counters['bypassTunnelsUp']).toBe(1);
    expect(counters['bypassFramesIn']).toBeGreaterThanOrEqual(4);
    expect(counters['bypassFramesOut']).toBeGreaterThanOrEqual(3);
  });

  it('drops and counts forged packets: a wrong VNI, an allowed source without a tunnel, a source outside --allow; never forwards audit mirror copies', async () => {
    const before = await receiverCounters(t, receiver);
    const forge = (local: string, forgedVni: number, ...extra: string[]) =>
      t.gateway.exec('node', [
        PEER_MAIN,
        'forge',
        '--server',
        ADDRESSES.server,
        '--local',
        local,
        '--prefix',
        ADDRESSES.prefix,
        '--vni',
        String(forgedVni),
        '--count',
        '3',
        ...extra,
      ]);
    forge(ADDRESSES.gatewayFour, vni ^ 1);
    forge('203.0.113.9', vni);
    forge(ADDRESSES.gatewayFour, vni, '--audit');
    forge('203.0.113.20', vni);
    const after = await waitFor('the forged packets counted', async () => {
      const counters = await receiverCounters(t, receiver);
      return counters['notAllowed']! - before['notAllowed']! >= 3 ? counters : undefined;
    });
    expect(after['bypassVniMismatch']! - before['bypassVniMismatch']!).toBe(3);
    expect(after['bypassNoTunnel']! - before['bypassNoTunnel']!).toBe(3);
    expect(after['notAllowed']! - before['notAllowed']!).toBe(3);
    expect(after['bypassAuditMirror']! - before['bypassAuditMirror']!).toBe(3);
    // The three audit copies carry the tunnel's own VNI from the gateway's own address: forwarded, they
    // would add three frames. The gateway side's kernel may send a neighbor probe through the tunnel meanwhile.
    expect(after['bypassFramesIn']! - before['bypassFramesIn']!).toBeLessThan(3);
    expect(after['bypassTunnelsUp']).toBe(1);
  });

  it('carries two gateways at once, each with its own prefix, tunnel and routing table, replies through the right one', async () => {
    t.client.ip('-6', 'route', 'add', PREFIX_2, 'via', ADDRESSES.gatewaySix);
    peer2 = startPeer(t, '203.0.113.9', PREFIX_2, 'bpgw2', events2);
    await waitFor('the second tunnel', () => receiver.lines().some((line) => line.startsWith('Tunnel up 203.0.113.9')));
    expect(receiver.lines().at(-1)).toMatch(new RegExp(`^Tunnel up 203\\.0\\.113\\.9 vni 0x[0-9a-f]{6} ${SERVER_SIX_2} dev nat64bp1$`));
    const countTcp = (list: PeerEvent[]) => list.filter((event) => event.event === 'received' && event.nextHeader === 6).length;
    const [first, second] = [countTcp(events), countTcp(events2)];
    const viaSecond = await curlTo(t, SERVER_SIX_2);
    expect(viaSecond.code).toBe(0);
    expect(viaSecond.body).toBe(`${ADDRESSES.client}:${viaSecond.localPort}`);
    expect(countTcp(events2)).toBeGreaterThan(second);
    expect(countTcp(events)).toBe(first);
    const viaFirst = await curl(t);
    expect(viaFirst.code).toBe(0);
    expect(countTcp(events)).toBeGreaterThan(first);
    expect(t.server.ip('-6', 'rule', 'show')).toContain(`from ${SERVER_SIX_2} lookup 6401`);
    peer2.kill();
  });

  it('warns about services that listen on IPv4 only, at start and in stats, and lists the tunnel', async () => {
    const text = await receiverCli(t, ['stats', '--control', receiver.control]);
    expect(text).toContain(`tunnel ${ADDRESSES.gatewayFour} vni 0x${vni.toString(16).padStart(6, '0')} ${ADDRESSES.serverSix} dev nat64bp0 via fe80::1`);
    expect(text).toContain(`warning: IPv4-only services, unreachable for bypassed clients: tcp ${ADDRESSES.server}:9999`);
    expect(text).not.toContain(':8080');
  });

  it.skipIf(!hasTshark)('sends packets tshark dissects as Geneve: option class 0x0162 type 0 toward the server, Ethernet, no option back', async () => {
    const captured = tap!;
    tap = undefined;
    await captured.stop();
    const packets = await dissectGeneve(t.server, join(dir, 'bypass.pcapng'));
    const toServer = packets.filter((p) => p.src === ADDRESSES.gatewayFour && p.dst === ADDRESSES.server && p.vni === vni);
    const fromServer = packets.filter((p) => p.src === ADDRESSES.server && p.dst === ADDRESSES.gatewayFour);
    const mirrored = toServer.filter((p) => p.optionTypes.includes(0x81));
    expect(mirrored).toHaveLength(3); // the forged audit mirror copies: the bypass option, then the audit mirror option
    for (const packet of mirrored) expect(packet).toMatchObject({ optionClasses: [0x0162, 0x0162], optionTypes: [0x00, 0x81] });
    const normal = toServer.filter((p) => !mirrored.includes(p));
    expect(normal.length).toBeGreaterThanOrEqual(4);
    for (const packet of normal) expect(packet).toMatchObject({ protoType: 0x6558, oam: false, optionClasses: [0x0162], optionTypes: [0x00] });
    expect(fromServer.length).toBeGreaterThanOrEqual(3);
    for (const packet of fromServer) expect(packet).toMatchObject({ vni, protoType: 0x6558, optionClasses: [] });
    // Inside: Ethernet, then the client's own IPv6 TCP packets, both ways.
    const rows = await dissectInnerTcp(t.server, join(dir, 'bypass.pcapng'));
    expect(rows.some(([, src, dst, port]) => src === ADDRESSES.client && dst === ADDRESSES.serverSix && port === '8080')).toBe(true);
    expect(rows.some(([, src, dst]) => src === ADDRESSES.serverSix && dst === ADDRESSES.client)).toBe(true);
    expect(rows.every(([type]) => type!.split(',').includes('0x86dd'))).toBe(true);
  });

  it('removes what it set up on exit, and what a crashed run left behind at the next start', async () => {
    await receiver.stop();
    expect(receiver.lines()).toContain(`Tunnel down ${ADDRESSES.gatewayFour} vni 0x${vni.toString(16).padStart(6, '0')} (receiver stopped)`);
    expect(receiver.lines().at(-1)).toMatch(/^Tunnel down 203\.0\.113\.9 vni 0x[0-9a-f]{6} \(receiver stopped\)$/);
    expect(t.server.ip('link', 'show')).not.toContain('nat64bp');
    expect(t.server.ip('-6', 'rule', 'show')).not.toContain('lookup 6400');

    receiver = await startReceiverIn(t.server, ADDRESSES.server, dir, undefined, receiverArgs());
    // As a gateway repeats its offers: the tunnel comes back with the same MAC, so the gateway's
    // cached neighbor entry still holds.
    peer.kill('SIGUSR1');
    await waitFor('the tunnel back up', () => receiver.lines().filter((line) => line.startsWith(`Tunnel up ${ADDRESSES.gatewayFour} `)).length === 2);
    const again = await curl(t);
    expect(again.code).toBe(0);
    expect(t.server.ip('-6', 'rule', 'show')).toContain('lookup 6400');
    await receiver.kill();
    expect(t.server.ip('-6', 'rule', 'show')).toContain('lookup 6400'); // left behind by the crash
    receiver = await startReceiverIn(t.server, ADDRESSES.server, dir, undefined, receiverArgs());
    expect(t.server.ip('-6', 'rule', 'show')).not.toContain('lookup 6400');
  });
});

/** bypass-peer bridging a TAP device named `tap` for the gateway at `local`, its events pushed to `events`. */
function startPeer(t: Topology, local: string, prefix: string, tap: string, events: PeerEvent[]): ChildProcess {
  const peer = t.gateway.spawn('node', [
    PEER_MAIN,
    'bridge',
    '--server',
    ADDRESSES.server,
    '--local',
    local,
    '--prefix',
    prefix,
    '--tap',
    tap,
    '--persistent-secret',
    PERSISTENT,
    '--transient-secret',
    TRANSIENT,
    '--message',
    MESSAGE,
  ]);
  peer.stdout!.setEncoding('utf8');
  let partial = '';
  peer.stdout!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line) events.push(JSON.parse(line) as PeerEvent);
  });
  return peer;
}

function gatewayServerLink(t: Topology): string {
  const line = t.gateway
    .ip('-o', '-4', 'addr', 'show')
    .split('\n')
    .find((entry) => entry.includes(`${ADDRESSES.gatewayFour}/`));
  return line!.split(/\s+/)[1]!;
}
