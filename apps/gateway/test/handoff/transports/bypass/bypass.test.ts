import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BypassEncapsulator,
  BypassStatus,
  BypassView,
  NdpStatus,
  NdpView,
  decapsulateBypass,
  deriveVni,
  inspectNeighborMessage,
  isBypassPacket,
  writeEthernetHeader,
  writeNeighborAdvertisement,
  writeNeighborSolicitation,
} from '@nat64/geneve';
import { silentLogger } from '@nat64/service';
import { ipv4TextToUint32 } from '@nat64/wire';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RawSettings } from '../../../../src/config.js';
import { type BypassTransport, Handoff } from '@nat64/gateway-handoff';
import { CLIENT, POOL4, SERVER, SERVER6, testGateway } from '../../../support/gateway.js';
import { TCP_ACK, TCP_SYN, ipv4, ipv6 } from '../../../../../../packages/gateway-engine/test/support/packets.js';
import { letTimePass } from '../../support.js';

const HOST = ipv4TextToUint32(SERVER);
const SERVER_MAC = Uint8Array.from([0x02, 0, 0, 0, 0, 0x05]);
const LINK_LOCAL = Uint8Array.from([0xfe, 0x80, ...new Array<number>(13).fill(0), 1]);
const SERVER_LINK_LOCAL = Uint8Array.from([0xfe, 0x80, ...new Array<number>(13).fill(0), 5]);
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function bytes6(text: string): Uint8Array {
  const packet = ipv6({ src: text, dst: text, protocol: 59 });
  return packet.slice(8, 24);
}

function setup(bypass: RawSettings = {}, secretDir?: string, mode = 'bypass', settings: RawSettings = {}, housekeepingMs = 0) {
  const dir = secretDir ?? mkdtempSync(join(tmpdir(), 'n64-bypass-unit-'));
  if (secretDir === undefined) dirs.push(dir);
  const secretFile = join(dir, 'state', 'bypass-secret');
  const g = testGateway({
    logLevel: 'silent',
    ...settings,
    handoff: { transport: mode, bypass: { secretFile, offerInterval: '1s', reachableTime: '2s', ...bypass } },
  });
  const handoff = new Handoff(g, g.config.handoff, { logger: silentLogger() });
  handoff.start(housekeepingMs);
  const transport = handoff.transport as BypassTransport;
  const tick = (ms = 0) => {
    g.advance(ms);
    g.engine.run(() => handoff.tick());
  };
  const counter = (name: string) => handoff.counterLines().find((line) => line.group === 'bypass' && line.name === name)?.value ?? 0;
  return { g, handoff, transport, tick, counter, secretFile, dir };
}

/** The Geneve packets among `written`: their outer addresses, the decoded view and the frame. */
function tunnelPackets(written: readonly Uint8Array[], vni: number) {
  return written
    .filter((p) => p[0] === 0x45 && p[9] === 17 && ((p[22]! << 8) | p[23]!) === 6081 && isBypassPacket(p, 28, p.length - 28))
    .map((p) => {
      const view = new BypassView();
      const status = decapsulateBypass(p, 28, p.length - 28, view, { vni, direction: 'to-server' });
      return { packet: p, status, view, frame: p.subarray(view.frameOffset, view.frameOffset + view.frameLength) };
    });
}

/** A packet from the server: Ethernet frame `frame` in Geneve (VNI `vni`, the option only if `message`), from `source`. */
function fromServer(frame: Uint8Array, vni: number, options: { source?: string; message?: string | null } = {}): Uint8Array {
  const encap = new BypassEncapsulator({ vni, message: options.message ?? null });
  const payload = new Uint8Array(encap.headerLength + frame.length);
  payload.set(frame, encap.headerLength);
  encap.encapsulate(payload, encap.headerLength, frame.length);
  return ipv4({ src: options.source ?? SERVER, dst: POOL4, protocol: 17, srcPort: 6081, dstPort: 6081, payload });
}

function advertisement(gatewayMac: Uint8Array): Uint8Array {
  const frame = new Uint8Array(86);
  const target = bytes6(SERVER6);
  writeNeighborAdvertisement(frame, 0, { sourceMac: SERVER_MAC, destinationMac: gatewayMac, source: target, destination: LINK_LOCAL, target });
  return frame;
}

/** The server's IPv6 packet to the client in an Ethernet frame to `gatewayMac`. */
function reply(gatewayMac: Uint8Array, source = SERVER6): Uint8Array {
  const packet = ipv6({ src: source, dst: CLIENT, protocol: 6, srcPort: 80, dstPort: 5000, tcpFlags: TCP_SYN | TCP_ACK });
  const frame = new Uint8Array(14 + packet.length);
  writeEthernetHeader(frame, 0, gatewayMac, SERVER_MAC, 0x86dd);
  frame.set(packet, 14);
  return frame;
}

/** A translated SYN from the client: the mapping that makes the host a candidate. */
function translatedSyn(g: ReturnType<typeof testGateway>, port = 4000): Uint8Array[] {
  return g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: port, dstPort: 80, tcpFlags: TCP_SYN }));
}

/** Offers, accepts: the host in bypass, and the gateway MAC it was offered. */
function accepted(s: ReturnType<typeof setup>) {
  const vni = deriveVni(Uint8Array.from(Buffer.from(readFileSync(s.secretFile, 'utf8').trim(), 'hex')), HOST);
  const written = translatedSyn(s.g);
  const offer = tunnelPackets(written, vni)[0]!;
  const ndp = new NdpView();
  expect(inspectNeighborMessage(offer.frame, 0, offer.frame.length, ndp)).toBe(NdpStatus.SOLICITATION);
  const gatewayMac = offer.frame.slice(6, 12);
  s.g.send(fromServer(advertisement(gatewayMac), vni));
  return { vni, gatewayMac, written };
}

const SHORT_TCP = { timeouts: { tcpEstablished: '10s', tcpTransitory: '4s', allowBelowMinimum: true } };

function read16(packet: Uint8Array, offset: number): number {
  return (packet[offset]! << 8) | packet[offset + 1]!;
}

/** A connection translated (port 4000 to 80) before the host accepted, then idle until its session timed out. */
function timedOutConnection(s: ReturnType<typeof setup>) {
  const { vni, written } = accepted(s);
  const natPort = read16(written.find((p) => p[0] === 0x45 && p[9] === 6)!, 20);
  s.g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 6, srcPort: 80, dstPort: natPort, tcpFlags: TCP_SYN | TCP_ACK }));
  s.g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 4000, dstPort: 80, tcpFlags: TCP_ACK }));
  // Idle: ESTABLISHED times out into TRANS, then TRANS times out and the session goes.
  s.g.advance(11_000);
  s.g.engine.expire(Infinity);
  s.g.advance(5_000);
  s.g.engine.expire(Infinity);
  expect(s.g.table.sessionCount).toBe(0);
  return { vni, natPort };
}

describe('bypass transport', () => {
  it('offers every host it translates for: an NS for PREFIX::HOST from fe80::1 with the message, in Geneve from the NAT address, and creates its secret 0600', () => {
    const s = setup({ message: 'hello from the test gateway' });
    expect(statSync(s.secretFile).mode & 0o777).toBe(0o600);
    const vni = deriveVni(Uint8Array.from(Buffer.from(readFileSync(s.secretFile, 'utf8').trim(), 'hex')), HOST);
    const written = translatedSyn(s.g);
    const offers = tunnelPackets(written, vni);
    expect(offers).toHaveLength(1);
    const { packet, status, view, frame } = offers[0]!;
    expect(status).toBe(BypassStatus.FRAME);
    expect([...packet.subarray(12, 20)]).toEqual([198, 51, 100, 1, 203, 0, 113, 2]);
    expect(view.hasBypassOption).toBe(true);
    expect(Buffer.from(packet.subarray(view.messageOffset, view.messageOffset + view.messageLength)).toString()).toBe('hello from the test gateway');
    const ndp = new NdpView();
    expect(inspectNeighborMessage(frame, 0, frame.length, ndp)).toBe(NdpStatus.SOLICITATION);
    expect([...frame.subarray(ndp.targetOffset, ndp.targetOffset + 16)]).toEqual([...bytes6(SERVER6)]);
    expect([...frame.subarray(ndp.sourceOffset, ndp.sourceOffset + 16)]).toEqual([...LINK_LOCAL]);
    expect([...frame.subarray(0, 3)]).toEqual([0x33, 0x33, 0xff]);
    expect(frame[6]! & 0x03).toBe(0x02); // locally administered unicast
    // Rate-limited: a second flow within the interval sends no second offer; the interval's end does.
    expect(tunnelPackets(translatedSyn(s.g, 4001), vni)).toHaveLength(0);
    s.tick(1000);
    expect(tunnelPackets(s.g.tun.takeWritten(), vni)).toHaveLength(1);
    expect(s.counter('offersSent')).toBe(2);
    expect(s.handoff.hosts()).toMatchObject([{ host: SERVER, state: 'offered', transport: 'nat64', vni: null, bypass: { state: 'offered', vni } }]);
  });

  it('wakes for its scans only while a host is offered bypass', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const s = setup({}, undefined, 'bypass', {}, 50);
      const later = (ms: number) => letTimePass(s.g, ms, 10);
      const run = vi.spyOn(s.g.engine, 'run');
      later(500);
      expect(run).not.toHaveBeenCalled();
      expect(vi.getTimerCount()).toBe(0);
      // A host to offer: the scans run on the timer again, and the offer is repeated after its interval.
      translatedSyn(s.g);
      expect(s.counter('offersSent')).toBe(1);
      later(1_100);
      expect(s.counter('offersSent')).toBe(2);
      expect(run).toHaveBeenCalled();
      s.handoff.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps the VNI across restarts: the persistent secret is read back, not made anew', () => {
    const first = setup();
    translatedSyn(first.g);
    const before = first.handoff.hosts()[0]!.bypass!.vni;
    const secret = readFileSync(first.secretFile, 'utf8');
    const second = setup({}, first.dir);
    translatedSyn(second.g);
    expect(readFileSync(second.secretFile, 'utf8')).toBe(secret);
    expect(second.handoff.hosts()[0]!.bypass!.vni).toBe(before);
  });

  it('sends new flows of an accepted host untranslated through the tunnel, hop limit decremented, without a session', () => {
    const s = setup();
    const { vni, gatewayMac } = accepted(s);
    expect(s.handoff.hosts()[0]).toMatchObject({ transport: 'bypass', vni, bypass: { state: 'bypass', serverMac: '02:00:00:00:00:05' } });
    const sessions = s.g.table.sessionCount;
    const packet = ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 5000, dstPort: 80, tcpFlags: TCP_SYN, hopLimit: 64 });
    const out = tunnelPackets(s.g.send(packet), vni);
    expect(out).toHaveLength(1);
    const { view, frame } = out[0]!;
    expect(view.hasBypassOption).toBe(true);
    expect(view.messageLength).toBe(0);
    expect([...frame.subarray(0, 6)]).toEqual([...SERVER_MAC]);
    expect([...frame.subarray(6, 12)]).toEqual([...gatewayMac]);
    const inner = frame.subarray(14);
    expect(inner[7]).toBe(63);
    expect([...inner.subarray(8)]).toEqual([...packet.subarray(8)]);
    expect(s.g.table.sessionCount).toBe(sessions);
    expect(s.g.counter('bypassed')).toBe(1);
  });

  it('keeps a flow that has a session translated after the host accepted', () => {
    const s = setup();
    const { vni } = accepted(s);
    // The SYN that made the offer (port 4000) has a session: its next segment is translated, not tunnelled.
    const written = s.g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 4000, dstPort: 80, tcpFlags: TCP_ACK }));
    expect(tunnelPackets(written, vni)).toHaveLength(0);
    expect(written).toHaveLength(1);
    expect(written[0]![9]).toBe(6); // IPv4 TCP
    expect(s.counter('keptTranslated')).toBe(1);
  });

  it('keeps a translated connection whose session timed out translated when its client speaks first: same NAT port, no tunnel', () => {
    const s = setup({}, undefined, 'bypass', SHORT_TCP);
    const { vni, natPort } = timedOutConnection(s);
    expect(s.counter('translatedFlowsRemembered')).toBe(1);
    const again = s.g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 4000, dstPort: 80, tcpFlags: TCP_ACK }));
    expect(tunnelPackets(again, vni)).toHaveLength(0);
    expect(again).toHaveLength(1);
    expect(again[0]![9]).toBe(6);
    expect(read16(again[0]!, 20)).toBe(natPort);
    expect(s.counter('translatedFlowsRestored')).toBe(1);
    expect(s.counter('translatedFlows')).toBe(0);
    // The session is the gateway's own again, with its timers: it times out as before, it is no cache entry.
    expect(s.g.table.sessionCount).toBe(1);
    s.g.advance(11_000);
    s.g.engine.expire(Infinity);
    s.g.advance(5_000);
    s.g.engine.expire(Infinity);
    expect(s.g.table.sessionCount).toBe(0);
    expect(s.counter('translatedFlowsRemembered')).toBe(2);
    // A new connection from another port goes through the tunnel.
    expect(tunnelPackets(s.g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 4002, dstPort: 80, tcpFlags: TCP_SYN })), vni)).toHaveLength(1);
  });

  it('sends a remembered connection that its client opens anew (SYN on the same ports) through the tunnel', () => {
    const s = setup({}, undefined, 'bypass', SHORT_TCP);
    const { vni } = timedOutConnection(s);
    expect(tunnelPackets(s.g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 4000, dstPort: 80, tcpFlags: TCP_SYN })), vni)).toHaveLength(1);
    expect(s.counter('translatedFlows')).toBe(0);
    expect(s.counter('translatedFlowsRestored')).toBe(0);
  });

  it("remembers nothing with translatedFlows 0: the client's segment goes into the tunnel", () => {
    const s = setup({ translatedFlows: 0 }, undefined, 'bypass', SHORT_TCP);
    const { vni } = timedOutConnection(s);
    expect(s.counter('translatedFlowsRemembered')).toBe(0);
    expect(tunnelPackets(s.g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 4000, dstPort: 80, tcpFlags: TCP_ACK })), vni)).toHaveLength(1);
  });

  it('answers Hop Limit 1 with Time Exceeded and a packet over the tunnel MTU with Packet Too Big carrying the MTU', () => {
    const s = setup({ mtu: 1300 });
    accepted(s);
    const [exceeded] = s.g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 5000, dstPort: 53, hopLimit: 1 }));
    expect(exceeded![6]).toBe(58);
    expect(exceeded![40]).toBe(3);
    const [tooBig] = s.g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 5000, dstPort: 53, payload: new Uint8Array(1300 - 48 + 1) }));
    expect(tooBig![40]).toBe(2);
    expect((tooBig![44]! << 24) | (tooBig![45]! << 16) | (tooBig![46]! << 8) | tooBig![47]!).toBe(1300);
    expect(s.g.counter('bypassHopLimit')).toBe(1);
    expect(s.g.counter('bypassTooBig')).toBe(1);
  });

  it("writes the server's IPv6 packets to the TUN device, and drops and counts forgeries", () => {
    const s = setup();
    const { vni, gatewayMac } = accepted(s);
    const [delivered] = s.g.send(fromServer(reply(gatewayMac), vni));
    expect(delivered![0]! >>> 4).toBe(6);
    expect([...delivered!.subarray(8, 24)]).toEqual([...bytes6(SERVER6)]);
    expect(delivered![7]).toBe(63);
    expect(s.g.send(fromServer(reply(gatewayMac), vni ^ 1))).toEqual([]);
    expect(s.g.send(fromServer(reply(gatewayMac), vni, { source: '203.0.113.9' }))).toEqual([]);
    expect(s.g.send(fromServer(reply(gatewayMac), vni, { message: '' }))).toEqual([]);
    expect(s.g.send(fromServer(reply(SERVER_MAC), vni))).toEqual([]);
    expect(s.g.send(fromServer(reply(gatewayMac, '2001:db8:64::cb00:7109'), vni))).toEqual([]);
    const drops = Object.fromEntries(
      s.handoff
        .counterLines()
        .filter((l) => l.group === 'bypass')
        .map((l) => [l.name, l.value]),
    );
    expect(drops).toMatchObject({ framesIn: 1, 'drop.vni-mismatch': 1, noHost: 1, 'drop.option-from-server': 1, wrongMac: 1, wrongSource: 1 });
  });

  it("answers the server's solicitation for fe80::1 with an advertisement of the gateway MAC", () => {
    const s = setup();
    const { vni, gatewayMac } = accepted(s);
    const frame = new Uint8Array(86);
    writeNeighborSolicitation(frame, 0, { sourceMac: SERVER_MAC, source: SERVER_LINK_LOCAL, target: LINK_LOCAL });
    const out = tunnelPackets(s.g.send(fromServer(frame, vni)), vni);
    expect(out).toHaveLength(1);
    const ndp = new NdpView();
    expect(inspectNeighborMessage(out[0]!.frame, 0, out[0]!.frame.length, ndp)).toBe(NdpStatus.ADVERTISEMENT);
    expect([...out[0]!.frame.subarray(ndp.linkLayerOffset, ndp.linkLayerOffset + 6)]).toEqual([...gatewayMac]);
    expect([...out[0]!.frame.subarray(0, 6)]).toEqual([...SERVER_MAC]);
  });

  it('probes a host that stopped answering (RFC 4861 7.3) and falls back to translation for new flows, then offers again', () => {
    const s = setup();
    const { vni, gatewayMac } = accepted(s);
    s.tick(100);
    s.g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 5000, dstPort: 80, tcpFlags: TCP_SYN }));
    s.tick(1900); // reachable time over, traffic sent: the delay starts
    s.tick(5000);
    const probes: number[] = [];
    for (let i = 0; i < 3; i++) {
      probes.push(tunnelPackets(s.g.tun.takeWritten(), vni).filter((p) => p.frame[0] === SERVER_MAC[0] && p.frame[5] === SERVER_MAC[5]).length);
      s.tick(1000);
    }
    expect(probes).toEqual([1, 1, 1]);
    expect(s.counter('fallbacks')).toBe(1);
    expect(s.handoff.hosts()[0]).toMatchObject({ transport: 'nat64', bypass: { state: 'unreachable' } });
    const written = s.g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 5001, dstPort: 80, tcpFlags: TCP_SYN }));
    expect(written[0]![0]).toBe(0x45);
    expect(tunnelPackets(written, vni)).toHaveLength(0);
    s.tick(1000);
    expect(tunnelPackets(s.g.tun.takeWritten(), vni).length).toBeGreaterThanOrEqual(1);
    // It answers again: bypass once more.
    s.g.send(fromServer(advertisement(gatewayMac), vni));
    expect(s.handoff.hosts()[0]).toMatchObject({ transport: 'bypass' });
  });

  it('keeps a host that answers: traffic back confirms it, and no probe goes out', () => {
    const s = setup();
    const { vni, gatewayMac } = accepted(s);
    for (let i = 0; i < 10; i++) {
      s.g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 5000, dstPort: 80, tcpFlags: TCP_ACK }));
      s.g.send(fromServer(reply(gatewayMac), vni));
      s.tick(1000);
    }
    expect(s.counter('probesSent')).toBe(0);
    expect(s.counter('fallbacks')).toBe(0);
  });

  it('rotates the gateway MAC on schedule, takes frames to the old one during the grace period only, and tells the server the new one', () => {
    const s = setup({ macRotation: '10s', macGrace: '3s' });
    const { vni, gatewayMac } = accepted(s);
    s.g.tun.takeWritten();
    s.tick(10_000);
    expect(s.counter('macRotations')).toBe(1);
    const probe = tunnelPackets(s.g.tun.takeWritten(), vni);
    expect(probe).toHaveLength(1);
    const newMac = probe[0]!.frame.slice(6, 12);
    expect([...newMac]).not.toEqual([...gatewayMac]);
    expect(s.g.send(fromServer(reply(gatewayMac), vni))).toHaveLength(1);
    expect(s.g.send(fromServer(reply(newMac), vni))).toHaveLength(1);
    s.tick(3000);
    expect(s.g.send(fromServer(reply(gatewayMac), vni))).toEqual([]);
    expect(s.g.send(fromServer(reply(newMac), vni))).toHaveLength(1);
    expect(s.counter('wrongMac')).toBe(1);
  });

  it('comes first in mode auto: an accepted host gets the tunnel, the Geneve transport keeps the other packets on 6081', () => {
    const s = setup({}, undefined, 'auto');
    const { vni } = accepted(s);
    expect(s.handoff.hosts()).toContainEqual(expect.objectContaining({ host: SERVER, transport: 'bypass', vni }));
    const out = tunnelPackets(s.g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 5000, dstPort: 53 })), vni);
    expect(out).toHaveLength(1);
    // A Geneve control packet (not bypass) to pool4:6081 still reaches the Geneve transport, which counts it.
    const control = new Uint8Array(8);
    control.set([0, 0x80, 0x88, 0xb5, 0, 0, 0, 0]);
    s.g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 6081, dstPort: 6081, payload: control }));
    expect(s.counter('notBypass')).toBe(0);
    expect(s.handoff.counterLines().filter((l) => l.group === 'geneve' && l.value > 0).length).toBeGreaterThan(0);
  });

  it('costs nothing without the transport: the engine has no bypass hook in mode handoff', () => {
    const g = testGateway({ logLevel: 'silent' });
    const written = g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 5000, dstPort: 80, tcpFlags: TCP_SYN }));
    expect(written[0]![0]).toBe(0x45);
    expect(g.counter('bypassed')).toBe(0);
  });
});
