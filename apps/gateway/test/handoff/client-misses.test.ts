// The client-miss queue in a gateway on a FakeTun, against the fake receiver of support.ts: flows
// handed off and evicted from the cache come back on their NAT port through CLIENT-QUERY when the
// client speaks first; new flows leave at once; connections that cannot come back get a RST.
import { MessageType } from '@nat64/handoff-codec';
import { describe, expect, it } from 'vitest';
import { CLIENT, POOL4, SERVER, SERVER6 } from '../support/gateway.js';
import { TCP_ACK, TCP_SYN, addr4, ipv4, ipv6, read16 } from '../../../../packages/gateway-engine/test/support/packets.js';
import { FakeReceiver, converse, testHandoff, v4, type HandoffHarness } from './support.js';

const SHORT = { timeouts: { udp: '2s', tcpEstablished: '10s', icmp: '2s', allowBelowMinimum: true } };
const PSH = 0x08;
const RST = 0x04;

function udpFromClient(clientPort: number): Uint8Array {
  return ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: clientPort, dstPort: 53, payload: Uint8Array.of(1, 2, 3) });
}

/** A UDP flow handed off to the server's receiver and then evicted from the cache; returns its NAT port. */
function evictedUdp(h: HandoffHarness, receiver: FakeReceiver, clientPort = 40_000): number {
  const [out] = h.send(udpFromClient(clientPort));
  converse(h, [receiver]);
  h.g.advance(3_000);
  h.g.engine.expire(Infinity);
  expect(h.g.table.sessionCount).toBe(0);
  return read16(out!, 20);
}

/** A TCP connection handed off and then evicted; returns its NAT port. */
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

function clientQueries(h: HandoffHarness): number {
  return h.outbox.filter((sent) => sent.message.type === MessageType.CLIENT_QUERY).length;
}

describe('ClientMissQueue', () => {
  it('brings an evicted UDP flow back on its NAT port when the client sends first, without a new CREATED', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    const natPort = evictedUdp(h, receiver);
    expect(h.handoff.evictedFlows.size).toBe(1);

    expect(h.send(udpFromClient(40_000))).toEqual([]);
    expect(clientQueries(h)).toBe(1);
    const delivered = converse(h, [receiver]);
    expect(delivered).toHaveLength(1);
    expect([addr4(delivered[0]!, 12), read16(delivered[0]!, 20)]).toEqual([POOL4, natPort]);
    expect(h.handoff.counters.get('clientMissesRestored')).toBe(1);
    expect(h.handoff.evictedFlows.size).toBe(0);
    expect(receiver.log.filter((line) => line.startsWith('Created'))).toHaveLength(1);
    // The restored session is the cache again: the next datagram goes straight through.
    expect(h.send(udpFromClient(40_000)).map((p) => read16(p, 20))).toEqual([natPort]);
  });

  it('lets a new UDP flow leave at once, without asking', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    evictedUdp(h, receiver);
    expect(h.send(udpFromClient(40_001))).toHaveLength(1);
    expect(clientQueries(h)).toBe(0);
    expect(h.handoff.counters.get('clientMissesQueried')).toBe(0);
  });

  it('brings an evicted TCP connection back on its NAT port when the client sends first', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    const natPort = evictedTcp(h, receiver, 41_000);
    const data = ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 41_000, dstPort: 80, tcpFlags: TCP_ACK | PSH, payload: Uint8Array.of(0x68, 0x69) });
    expect(h.send(data)).toEqual([]);
    const delivered = converse(h, [receiver]);
    expect(delivered.map((p) => [addr4(p, 12), read16(p, 20)])).toEqual([[POOL4, natPort]]);
    expect(h.handoff.counters.get('clientMissesRestored')).toBe(1);
    expect(h.g.table.sessionCount).toBe(1);
  });

  it('brings an evicted ICMP echo mapping back on its identifier', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    const echo = () => ipv6({ src: CLIENT, dst: SERVER6, protocol: 58, icmp: { type: 128, code: 0, rest: (7 << 16) | 1 } });
    const [first] = h.send(echo());
    const identifier = read16(first!, 24);
    converse(h, [receiver]);
    h.g.advance(3_000);
    h.g.engine.expire(Infinity);
    expect(h.g.table.sessionCount).toBe(0);
    expect(h.send(echo())).toEqual([]);
    const delivered = converse(h, [receiver]);
    expect(delivered.map((p) => read16(p, 24))).toEqual([identifier]);
    expect(h.handoff.counters.get('clientMissesRestored')).toBe(1);
  });

  it('gives a UDP flow the receiver no longer holds a new mapping', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    evictedUdp(h, receiver);
    receiver.held.clear();
    h.send(udpFromClient(40_000));
    const delivered = converse(h, [receiver]);
    expect(delivered).toHaveLength(1);
    expect(h.handoff.counters.get('clientMissesNotFound')).toBe(1);
    expect(h.g.table.sessionCount).toBe(1);
  });

  it('answers the client of a TCP connection the receiver no longer holds with a RST', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    evictedTcp(h, receiver, 41_001);
    receiver.held.clear();
    const data = ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 41_001, dstPort: 80, tcpFlags: TCP_ACK | PSH, payload: Uint8Array.of(1) });
    h.send(data);
    const delivered = converse(h, [receiver]);
    expect(delivered).toHaveLength(1);
    const rst = delivered[0]!;
    expect(rst[0]! >> 4).toBe(6);
    expect([read16(rst, 40), read16(rst, 42), rst[40 + 13]! & RST]).toEqual([80, 41_001, RST]);
    expect(h.handoff.counters.get('clientConnectionsGone')).toBe(1);
    expect(h.g.counter('tcpResetsSent')).toBe(1);
  });

  it('asks about a TCP segment without a session that the memory does not hold, and drops it quietly on NOT_FOUND', () => {
    const h = testHandoff({ ...SHORT, handoff: { evictedFlows: 0 } });
    const receiver = new FakeReceiver(v4(SERVER));
    evictedTcp(h, receiver, 41_002);
    expect(h.handoff.evictedFlows.size).toBe(0);
    h.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 41_003, dstPort: 80, tcpFlags: TCP_ACK }));
    expect(clientQueries(h)).toBe(1);
    expect(converse(h, [receiver])).toEqual([]);
    expect(h.handoff.counters.get('clientMissesNotFound')).toBe(1);
    expect(h.g.counter('noSession')).toBe(1);
  });

  it('gives a UDP flow whose NAT port went to another client toward another host a new mapping, counted', () => {
    // One UDP port: the other client takes the evicted flow's port at once.
    const h = testHandoff({ ...SHORT, pool4: [{ address: POOL4, udp: '40000-40000' }] });
    const receiver = new FakeReceiver(v4(SERVER));
    expect(evictedUdp(h, receiver)).toBe(40_000);
    const other = ipv6({ src: CLIENT, dst: '2001:db8:64::cb00:7103', protocol: 17, srcPort: 40_009, dstPort: 53, payload: Uint8Array.of(9) });
    expect(h.send(other).map((p) => read16(p, 20))).toEqual([40_000]);
    h.send(udpFromClient(40_000));
    const answered = converse(h, [receiver]);
    expect(h.handoff.counters.get('clientRestoreConflicts')).toBe(1);
    expect(h.handoff.counters.get('clientMissesNewMapping')).toBe(1);
    // No port is left for a new mapping: the client hears so (RFC 6146 3.5.1.1), as from a plain NAT64.
    expect(answered.map((p) => [p[0]! >> 4, p[6], p[40]])).toEqual([[6, 58, 1]]);
  });
});
