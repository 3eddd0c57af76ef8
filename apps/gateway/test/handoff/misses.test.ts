// The miss queue in a gateway on a FakeTun, against the fake receiver of support.ts: packets for a
// handed-off mapping that left the cache come back through QUERY and ANSWER; every other miss gets
// the plain NAT64's answer.
import { MessageType } from '@nat64/handoff-codec';
import { PROTOCOL } from '@nat64/nat64';
import { describe, expect, it, vi } from 'vitest';
import { CLIENT, POOL4, SERVER, SERVER6 } from '../support/gateway.js';
import { TCP_ACK, TCP_SYN, addr4, ipv4, ipv6, read16 } from '../../../../packages/gateway-engine/test/support/packets.js';
import { FakeReceiver, TIME, converse, letTimePass, testHandoff, v4, type HandoffHarness } from './support.js';
import { ipv6TextToBytes } from '@nat64/wire';

const SHORT = { timeouts: { udp: '2s', tcpEstablished: '10s', allowBelowMinimum: true } };
const PSH = 0x08;

/** A UDP mapping handed off to the server's receiver and then evicted from the cache; returns its NAT port. */
function evictedUdp(h: HandoffHarness, receiver: FakeReceiver): number {
  const [out] = h.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
  converse(h, [receiver]);
  h.g.advance(3_000);
  h.g.engine.expire(Infinity);
  expect(h.g.table.sessionCount).toBe(0);
  return read16(out!, 20);
}

/** A TCP connection handed off to the server's receiver and then evicted from the cache; returns its NAT port. */
function evictedTcp(h: HandoffHarness, receiver: FakeReceiver, clientPort: number): number {
  const [syn] = h.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: clientPort, dstPort: 80, tcpFlags: TCP_SYN }));
  const natPort = read16(syn!, 20);
  h.send(ipv4({ src: SERVER, dst: POOL4, protocol: 6, srcPort: 80, dstPort: natPort, tcpFlags: TCP_SYN | TCP_ACK }));
  h.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: clientPort, dstPort: 80, tcpFlags: TCP_ACK }));
  converse(h, [receiver]);
  h.g.advance(11_000);
  h.g.engine.expire(Infinity);
  expect(h.g.table.sessionCount).toBe(0);
  return natPort;
}

function fromServer(natPort: number, srcPort = 53): Uint8Array {
  return ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort, dstPort: natPort, payload: Uint8Array.of(1, 2, 3) });
}

/** Whether `packet` is an ICMPv4 port unreachable toward the server. */
function portUnreachable(packet: Uint8Array): boolean {
  return packet[0] === 0x45 && packet[9] === 1 && addr4(packet, 16) === SERVER && packet[20] === 3 && packet[21] === 3;
}

describe('MissQueue', () => {
  it('brings back an idle TCP connection the cache evicted when the server sends first, and the client can answer', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    const natPort = evictedTcp(h, receiver, 41_000);

    const data = ipv4({ src: SERVER, dst: POOL4, protocol: 6, srcPort: 80, dstPort: natPort, tcpFlags: TCP_ACK | PSH, payload: Uint8Array.of(0x68, 0x69) });
    expect(h.send(data)).toEqual([]);
    expect(h.outbox.map((s) => s.message.type)).toEqual([MessageType.QUERY]);
    const delivered = converse(h, [receiver]);
    expect(delivered).toHaveLength(1);
    const six = delivered[0]!;
    expect(six[0]! >> 4).toBe(6);
    expect(read16(six, 42)).toBe(41_000);
    expect(six.subarray(six.length - 2)).toEqual(Uint8Array.of(0x68, 0x69));
    const restored = h.g.table.lookupInbound(PROTOCOL.TCP, v4(SERVER), 80, v4(POOL4), natPort);
    expect(h.g.table.isHandedOff(restored)).toBe(true);

    const [reply] = h.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 41_000, dstPort: 80, tcpFlags: TCP_ACK }));
    expect([addr4(reply!, 12), read16(reply!, 20)]).toEqual([POOL4, natPort]);
    expect(h.handoff.counters.get('missesQueried')).toBe(1);
    expect(h.handoff.counters.get('missesRestored')).toBe(1);
    expect(h.handoff.counters.get('mappingsRestored')).toBe(1);
    // The receiver already holds the mapping: nothing was announced again.
    expect(receiver.log.filter((line) => line.startsWith('Created'))).toHaveLength(1);
  });

  it('with tun.offload, hands a held 30 KiB TCP segment back with its offload header: it leaves whole', () => {
    const h = testHandoff({ ...SHORT, 'tun.offload': true });
    const receiver = new FakeReceiver(v4(SERVER));
    const natPort = evictedTcp(h, receiver, 41_002);

    // A segment the kernel did not split (TSO): TCPv4, 1448 bytes per segment, checksum from byte 20 + 16.
    const segment = ipv4({
      src: SERVER,
      dst: POOL4,
      protocol: 6,
      srcPort: 80,
      dstPort: natPort,
      tcpFlags: TCP_ACK,
      payload: new Uint8Array(30_000).fill(7),
      dontFragment: true,
    });
    h.g.tun.injectWithHeader(segment, [1, 1, 40, 0, 0xa8, 0x05, 20, 0, 16, 0]);
    h.g.tun.flush();
    expect(h.g.counter('missTaken')).toBe(1);
    const delivered = converse(h, [receiver]);
    // Whole, not refused with Fragmentation Needed: it went back through the offload path.
    expect(delivered.map((p) => p.length)).toEqual([40 + 20 + 30_000]);
    expect(h.g.counter('offloaded')).toBe(1);
    expect(h.handoff.counters.get('missesRestored')).toBe(1);
  });

  it('restores one session per server port the held packets came from', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    const natPort = evictedUdp(h, receiver);
    h.send(fromServer(natPort, 53), fromServer(natPort, 54), fromServer(natPort, 53));
    expect(h.handoff.counters.get('missesJoined')).toBe(2);
    const delivered = converse(h, [receiver]);
    expect(delivered.map((p) => read16(p, 40)).sort()).toEqual([53, 53, 54]);
    expect(h.g.table.sessionCount).toBe(2);
    expect(h.handoff.misses.packets).toBe(0);
  });

  it('gives a miss back to the NAT64 when the receiver holds no mapping for it', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    const natPort = evictedUdp(h, receiver);
    h.send(fromServer(natPort === 5555 ? 5556 : 5555));
    const answered = converse(h, [receiver]);
    expect(answered.filter(portUnreachable)).toHaveLength(1);
    expect(h.handoff.counters.get('missesNotFound')).toBe(1);
    expect(h.g.counter('noBib')).toBe(1);
  });

  it('leaves misses from a host that holds no authority to the NAT64 at once', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    receiver.authoritative = false;
    const natPort = evictedUdp(h, receiver);
    const answered = h.send(fromServer(natPort));
    expect(answered.filter(portUnreachable)).toHaveLength(1);
    // The expiry's DELETED has left with the expiry's batch; no QUERY follows it.
    expect(h.outbox.map((sent) => sent.message.type)).toEqual([MessageType.DELETED]);
    expect(h.handoff.counters.get('missesQueried')).toBe(0);
  });

  it('gives the packets back when the query is never answered', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    const natPort = evictedUdp(h, receiver);
    receiver.answering = false;
    h.send(fromServer(natPort));
    const written: Uint8Array[] = [];
    for (let i = 0; i < 50 && h.handoff.misses.packets > 0; i++) {
      h.tick(200);
      written.push(...h.take().packets);
    }
    expect(written.filter(portUnreachable)).toHaveLength(1);
    expect(h.handoff.counters.get('missesTimedOut')).toBe(1);
    expect(h.handoff.agent.counters.get('queryRetransmissions')).toBeGreaterThan(0);
  });

  it('asks a host it never met (after a restart) whether it holds authority, then finds the mapping there', () => {
    const h = testHandoff(SHORT, { epoch: 0x1111n });
    const receiver = new FakeReceiver(v4(SERVER));
    // What the receiver kept from the gateway's previous life.
    receiver.held.set(`17/${v4(POOL4)}/50000`, {
      protocol: PROTOCOL.UDP,
      reason: 0,
      natAddress: v4(POOL4),
      natPort: 50_000,
      clientAddress: ipv6TextToBytes(CLIENT)!,
      clientPort: 40_000,
      serverAddress: v4(SERVER),
      serverPort: 53,
      time: TIME - 1,
    });
    expect(h.send(fromServer(50_000), fromServer(50_000))).toEqual([]);
    expect(h.outbox.map((s) => s.message.type)).toEqual([MessageType.HELLO]);
    const delivered = converse(h, [receiver]);
    expect(delivered.map((p) => [p[0]! >> 4, read16(p, 42)])).toEqual([
      [6, 40_000],
      [6, 40_000],
    ]);
    expect(receiver.log).toEqual([`Initialized ${POOL4}`]);
    expect(h.handoff.counters.get('missesAwaitingHost')).toBe(1);
    expect(h.handoff.counters.get('missesQueried')).toBe(1);
    expect(h.handoff.counters.get('missesRestored')).toBe(2);
  });

  it('gives the packets back when a host it never met does not answer in time, and asks it no more', () => {
    const h = testHandoff(SHORT);
    expect(h.send(fromServer(50_000))).toEqual([]);
    h.tick(500);
    expect(h.take().packets).toEqual([]);
    h.tick(600);
    expect(h.take().packets.filter(portUnreachable)).toHaveLength(1);
    expect(h.handoff.counters.get('missesTimedOut')).toBe(1);
    expect(h.send(fromServer(50_001)).filter(portUnreachable)).toHaveLength(1);
    expect(h.handoff.counters.get('missesAwaitingHost')).toBe(1);
  });

  it('wakes for housekeeping only while packets wait for a host to answer', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const h = testHandoff(SHORT, {}, 50);
      const later = (ms: number) => letTimePass(h.g, ms);
      const run = vi.spyOn(h.g.engine, 'run');
      later(500);
      expect(run).not.toHaveBeenCalled();
      expect(vi.getTimerCount()).toBe(0);
      // A host never met: its packet waits for the HELLO-ACK, and only housekeeping gives it back.
      h.send(fromServer(50_000));
      later(1_100);
      expect(h.take().packets.filter(portUnreachable)).toHaveLength(1);
      expect(h.handoff.counters.get('missesTimedOut')).toBe(1);
      h.handoff.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('holds a bounded number of packets per key and in all, and drops the rest', () => {
    const h = testHandoff({ ...SHORT, handoff: { missQueue: { packetsPerKey: 2, packets: 3 } } });
    const receiver = new FakeReceiver(v4(SERVER));
    const natPort = evictedUdp(h, receiver);
    h.send(fromServer(natPort), fromServer(natPort), fromServer(natPort));
    expect(h.handoff.counters.get('missesDropped')).toBe(1);
    h.send(fromServer(natPort + 1), fromServer(natPort + 2));
    expect(h.handoff.counters.get('missesDropped')).toBe(2);
    expect(h.handoff.misses.packets).toBe(3);
    expect(h.handoff.misses.keys).toBe(2);
  });
});
