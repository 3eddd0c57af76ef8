// The mapping tracker in a gateway on a FakeTun, against the fake receiver of support.ts: what it
// reports for which session events, and what it does when receivers acknowledge, release, go and
// come back.
import { DeleteReason, MessageType, type HandoffEntry } from '@nat64/handoff-codec';
import { PROTOCOL } from '@nat64/nat64';
import { ipv6TextToBytes } from '@nat64/wire';
import { describe, expect, it } from 'vitest';
import { CLIENT, POOL4, SERVER, SERVER6 } from '../support/gateway.js';
import { TCP_ACK, TCP_SYN, ipv4, ipv6, read16 } from '../../../../packages/gateway-engine/test/support/packets.js';
import { FakeReceiver, TIME, converse, testHandoff, v4, type HandoffHarness, type Sent } from './support.js';

const TCP_FIN = 0x01;
const OTHER = '203.0.113.3';
const OTHER6 = '2001:db8:64::cb00:7103';
const SHORT = { timeouts: { udp: '2s', tcpEstablished: '10s', tcpTransitory: '4s', allowBelowMinimum: true } };

function udp(h: HandoffHarness, clientPort: number, server6 = SERVER6, serverPort = 53): number {
  const [out] = h.send(ipv6({ src: CLIENT, dst: server6, protocol: 17, srcPort: clientPort, dstPort: serverPort }));
  return read16(out!, 20);
}

/** A TCP connection from the client through its handshake; returns the NAT port. */
function tcpOpen(h: HandoffHarness, clientPort: number): number {
  const [syn] = h.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: clientPort, dstPort: 80, tcpFlags: TCP_SYN }));
  const natPort = read16(syn!, 20);
  h.send(ipv4({ src: SERVER, dst: POOL4, protocol: 6, srcPort: 80, dstPort: natPort, tcpFlags: TCP_SYN | TCP_ACK }));
  h.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: clientPort, dstPort: 80, tcpFlags: TCP_ACK }));
  return natPort;
}

function tcpClose(h: HandoffHarness, clientPort: number, natPort: number): void {
  h.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: clientPort, dstPort: 80, tcpFlags: TCP_FIN | TCP_ACK }));
  h.send(ipv4({ src: SERVER, dst: POOL4, protocol: 6, srcPort: 80, dstPort: natPort, tcpFlags: TCP_FIN | TCP_ACK }));
  h.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: clientPort, dstPort: 80, tcpFlags: TCP_ACK }));
}

/**
 * Entries of the CREATED or DELETED messages among `sent` that carry the receiver's cookie (reliable
 * ones: before the HELLO exchange the agent also sends fire-and-forget copies, which receivers drop).
 */
function entries(sent: readonly Sent[], type: number): HandoffEntry[] {
  return sent.flatMap((s) => (s.message.type === type && s.message.cookie !== 0n && 'entries' in s.message ? [...s.message.entries] : []));
}

/** Talks with the receivers, recording every handoff datagram the gateway sent meanwhile. */
function talk(h: HandoffHarness, receivers: FakeReceiver[]): Sent[] {
  const seen: Sent[] = [];
  const spy = receivers.map((r) => r.answer.bind(r));
  receivers.forEach((r, i) => {
    r.answer = (sent) => {
      if (i === 0) seen.push(...sent);
      return spy[i]!(sent);
    };
  });
  converse(h, receivers);
  for (const [i, r] of receivers.entries()) r.answer = spy[i]!;
  return seen;
}

function session(h: HandoffHarness, protocol: number, natPort: number, serverPort: number, server = SERVER): number {
  return h.g.table.lookupInbound(protocol, v4(server), serverPort, v4(POOL4), natPort);
}

describe('MappingTracker', () => {
  it('reports the first session of a mapping toward each host as CREATED, and later ones not at all', () => {
    const h = testHandoff();
    const server = new FakeReceiver(v4(SERVER));
    const other = new FakeReceiver(v4(OTHER));
    const natPort = udp(h, 40_000);
    expect(udp(h, 40_000, SERVER6, 54)).toBe(natPort);
    expect(udp(h, 40_000, OTHER6)).toBe(natPort);
    const sent = talk(h, [server, other]);
    const created = entries(sent, MessageType.CREATED);
    expect(created).toEqual([
      {
        protocol: PROTOCOL.UDP,
        reason: 0,
        natAddress: v4(POOL4),
        natPort,
        clientAddress: ipv6TextToBytes(CLIENT),
        clientPort: 40_000,
        serverAddress: v4(SERVER),
        serverPort: 53,
        time: TIME,
      },
      expect.objectContaining({ natPort, serverAddress: v4(OTHER), serverPort: 53 }),
    ]);
    expect(server.log.filter((line) => line.startsWith('Created'))).toHaveLength(1);
    expect(other.log.filter((line) => line.startsWith('Created'))).toHaveLength(1);
    expect(h.handoff.counters.get('mappingsCreated')).toBe(2);
  });

  it('reports DELETED with the reason when the last session toward a host ends while the gateway holds authority', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    receiver.authoritative = false;
    const natPort = udp(h, 40_000);
    udp(h, 40_000, SERVER6, 54);
    const tcpPort = tcpOpen(h, 41_000);
    talk(h, [receiver]);
    tcpClose(h, 41_000, tcpPort);
    h.g.advance(5_000);
    h.g.engine.expire(Infinity);
    const deleted = entries(talk(h, [receiver]), MessageType.DELETED);
    expect(deleted).toEqual([
      expect.objectContaining({ protocol: PROTOCOL.UDP, natPort, clientPort: 40_000, serverPort: 53, time: TIME, reason: DeleteReason.IDLE_TIMEOUT }),
      expect.objectContaining({ protocol: PROTOCOL.TCP, natPort: tcpPort, clientPort: 41_000, serverPort: 80, time: TIME, reason: DeleteReason.TCP_CLOSED }),
    ]);
    expect(receiver.held.size).toBe(0);
    expect(h.handoff.tracker.mappings.count).toBe(0);
  });

  it('hands off the sessions of an acknowledged mapping, and sessions created on it later when their batch ends', () => {
    const h = testHandoff();
    const receiver = new FakeReceiver(v4(SERVER));
    const natPort = udp(h, 40_000);
    talk(h, [receiver]);
    expect(h.g.table.isHandedOff(session(h, PROTOCOL.UDP, natPort, 53))).toBe(true);
    udp(h, 40_000, SERVER6, 54);
    expect(h.g.table.isHandedOff(session(h, PROTOCOL.UDP, natPort, 54))).toBe(true);
    expect(h.handoff.counters.get('sessionsHandedOffLater')).toBe(1);
    expect(entries(talk(h, [receiver]), MessageType.CREATED)).toEqual([]);
  });

  it('says nothing when a handed-off mapping leaves the cache, but reports a TCP connection that closed in it', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    udp(h, 40_000);
    const open = tcpOpen(h, 41_000);
    const closed = tcpOpen(h, 42_000);
    talk(h, [receiver]);
    tcpClose(h, 42_000, closed);
    h.g.advance(11_000);
    h.g.engine.expire(Infinity);
    expect(h.g.table.sessionCount).toBe(0);
    const deleted = entries(talk(h, [receiver]), MessageType.DELETED);
    expect(deleted).toEqual([expect.objectContaining({ natPort: closed, reason: DeleteReason.TCP_CLOSED })]);
    expect([...receiver.held.values()].map((e) => e.natPort).sort()).toEqual([open, expect.any(Number)].sort());
    expect(h.handoff.counters.get('mappingsEvicted')).toBe(2);
    expect(h.handoff.counters.get('mappingsClosedInCache')).toBe(1);
  });

  it('ends a mapping the receiver released without reporting it, and keeps one held by another client', () => {
    const h = testHandoff();
    const receiver = new FakeReceiver(v4(SERVER));
    const natPort = udp(h, 40_000);
    const kept = udp(h, 40_001);
    talk(h, [receiver]);
    const keptEntry = receiver.held.get(`17/${v4(POOL4)}/${kept}`)!;
    // The receiver releases the first mapping, and an entry of the second whose owner it got wrong.
    receiver.held.set(`17/${v4(POOL4)}/${kept}`, { ...keptEntry, clientPort: 999 });
    h.send(receiver.release(v4(POOL4), [`17/${v4(POOL4)}/${natPort}`, `17/${v4(POOL4)}/${kept}`]));
    expect(session(h, PROTOCOL.UDP, natPort, 53)).toBeLessThan(0);
    expect(session(h, PROTOCOL.UDP, kept, 53)).toBeGreaterThanOrEqual(0);
    const sent = talk(h, [receiver]);
    expect(entries(sent, MessageType.DELETED)).toEqual([]);
    expect(sent.some((s) => s.message.type === MessageType.ACK)).toBe(true);
    expect(h.handoff.counters.get('releasesApplied')).toBe(1);
    expect(h.handoff.counters.get('releasesStale')).toBe(1);
    expect(h.handoff.counters.get('mappingsReleasedQuietly')).toBe(1);
  });

  it('takes authority back from a receiver that stops answering, and announces every live mapping when it returns', () => {
    const h = testHandoff({}, { tuning: { helloRetryMs: 100, initialRtoMs: 100, minRtoMs: 50, keepaliveMs: 1000 } });
    const receiver = new FakeReceiver(v4(SERVER));
    const first = udp(h, 40_000);
    const second = udp(h, 40_001);
    talk(h, [receiver]);
    const h1 = session(h, PROTOCOL.UDP, first, 53);
    expect(h.g.table.isHandedOff(h1)).toBe(true);
    receiver.answering = false;
    for (let i = 0; i < 200 && h.handoff.agent.isAuthoritative(v4(POOL4), v4(SERVER)); i++) {
      h.tick(200);
      h.take();
    }
    expect(h.g.table.isHandedOff(h1)).toBe(false);
    expect(h.handoff.counters.get('mappingsTakenBack')).toBe(2);
    receiver.answering = true;
    let created: HandoffEntry[] = [];
    for (let i = 0; i < 100 && !h.handoff.agent.isAuthoritative(v4(POOL4), v4(SERVER)); i++) {
      h.g.advance(1000);
      created.push(...entries(talk(h, [receiver]), MessageType.CREATED));
    }
    created = [...created, ...entries(talk(h, [receiver]), MessageType.CREATED)];
    expect(created.map((e) => e.natPort).sort()).toEqual([first, second].sort());
    expect(created.every((e) => e.time === TIME)).toBe(true);
    expect(h.g.table.isHandedOff(session(h, PROTOCOL.UDP, first, 53))).toBe(true);
    // Both mappings predate the first HELLO-ACK too, so each peer-up announced both.
    expect(h.handoff.counters.get('mappingsReannounced')).toBe(4);
  });

  it('counts an acknowledgement for a mapping that ended in the meantime, and hands nothing off', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    udp(h, 40_000);
    talk(h, [receiver]);
    udp(h, 40_001);
    h.tick(10);
    const created = h.take().handoff;
    expect(created.map((s) => s.message.type)).toEqual([MessageType.CREATED]);
    h.g.advance(3_000);
    h.g.engine.expire(Infinity);
    h.send(...receiver.answer(created));
    expect(h.handoff.counters.get('handOffStale')).toBe(1);
  });

  it('takes an acknowledgement for a mapping whose record was reused by another one as stale', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    udp(h, 40_000);
    talk(h, [receiver]);
    const record = (natPort: number) => h.handoff.tracker.mappings.find(h.g.table.bibOf(session(h, PROTOCOL.UDP, natPort, 53)), v4(SERVER));
    const ended = record(udp(h, 40_001));
    h.tick(10);
    const created = h.take().handoff;
    h.g.advance(3_000);
    h.g.engine.expire(Infinity);
    // Both records are free again; the next two mappings take them, one of them the ended mapping's.
    const natPorts = [udp(h, 40_002), udp(h, 40_003)];
    expect(natPorts.map(record)).toContain(ended);
    h.send(...receiver.answer(created));
    expect(h.handoff.counters.get('handOffStale')).toBe(1);
    expect(natPorts.map((natPort) => h.g.table.isHandedOff(session(h, PROTOCOL.UDP, natPort, 53)))).toEqual([false, false]);
    talk(h, [receiver]);
    expect(natPorts.map((natPort) => h.g.table.isHandedOff(session(h, PROTOCOL.UDP, natPort, 53)))).toEqual([true, true]);
  });

  it('takes an acknowledgement for a mapping that ended and came back with the same key and time as stale', () => {
    // A static BIB entry keeps the key when its session ends, and the test clock gives every mapping
    // the same creation time: only the record's token tells the incarnation the CREATED was for.
    const h = testHandoff({ ...SHORT, staticBib: [{ protocol: 'udp', ipv6: `[${CLIENT}]:40001`, ipv4: `${POOL4}:40001` }] });
    const receiver = new FakeReceiver(v4(SERVER));
    udp(h, 40_000);
    talk(h, [receiver]);
    expect(udp(h, 40_001)).toBe(40_001);
    const record = h.handoff.tracker.mappings.find(h.g.table.bibOf(session(h, PROTOCOL.UDP, 40_001, 53)), v4(SERVER));
    h.tick(10);
    const created = h.take().handoff;
    expect(entries(created, MessageType.CREATED).map((e) => [e.natPort, e.time])).toEqual([[40_001, TIME]]);
    // Only this mapping ends (the first one is kept alive), so the next mapping takes its record.
    h.g.advance(1_500);
    udp(h, 40_000);
    h.g.advance(1_500);
    h.g.engine.expire(Infinity);
    expect(h.handoff.tracker.mappings.count).toBe(1);
    expect(udp(h, 40_001)).toBe(40_001);
    expect(h.handoff.tracker.mappings.find(h.g.table.bibOf(session(h, PROTOCOL.UDP, 40_001, 53)), v4(SERVER))).toBe(record);
    h.send(...receiver.answer(created));
    expect(h.handoff.counters.get('handOffStale')).toBe(1);
    expect(h.g.table.isHandedOff(session(h, PROTOCOL.UDP, 40_001, 53))).toBe(false);
    talk(h, [receiver]);
    expect(h.g.table.isHandedOff(session(h, PROTOCOL.UDP, 40_001, 53))).toBe(true);
  });

  it('finds mappings by their BIB entry: two hosts on one entry end apart, and a freed entry’s reused slot starts a mapping of its own', () => {
    const h = testHandoff(SHORT);
    const receiver = new FakeReceiver(v4(SERVER));
    const other = new FakeReceiver(v4(OTHER));
    receiver.authoritative = false;
    other.authoritative = false;
    const natPort = udp(h, 40_000);
    const b = h.g.table.bibOf(session(h, PROTOCOL.UDP, natPort, 53));
    h.g.advance(1_500);
    expect(udp(h, 40_000, OTHER6)).toBe(natPort);
    talk(h, [receiver, other]);
    expect(h.handoff.tracker.mappings.count).toBe(2);
    h.g.advance(1_000);
    h.g.engine.expire(Infinity);
    expect(entries(talk(h, [receiver, other]), MessageType.DELETED)).toEqual([expect.objectContaining({ natPort, serverAddress: v4(SERVER) })]);
    expect(h.handoff.tracker.mappings.find(b, v4(OTHER))).toBeGreaterThanOrEqual(0);
    h.g.advance(2_000);
    h.g.engine.expire(Infinity);
    talk(h, [receiver, other]);
    expect(other.held.size).toBe(0);
    expect(h.g.table.sessionCount).toBe(0);
    expect(h.handoff.tracker.mappings.count).toBe(0);
    // The next client's BIB entry takes the freed slot: its mapping is new, reported as such.
    const again = udp(h, 40_001);
    expect(h.g.table.bibOf(session(h, PROTOCOL.UDP, again, 53))).toBe(b);
    const created = entries(talk(h, [receiver]), MessageType.CREATED);
    expect(created).toEqual([expect.objectContaining({ natPort: again, clientPort: 40_001, serverAddress: v4(SERVER) })]);
    expect(h.handoff.tracker.mappings.count).toBe(1);
  });

  it('hands off a mapping made on the reused slot of a handed-off BIB entry that left the cache, takes it back when its receiver goes, announces it when it returns', () => {
    const h = testHandoff(SHORT, { tuning: { helloRetryMs: 100, initialRtoMs: 100, minRtoMs: 50, keepaliveMs: 1000 } });
    const receiver = new FakeReceiver(v4(SERVER));
    const natPort = udp(h, 40_000);
    const b = h.g.table.bibOf(session(h, PROTOCOL.UDP, natPort, 53));
    talk(h, [receiver]);
    expect(h.g.table.isHandedOff(session(h, PROTOCOL.UDP, natPort, 53))).toBe(true);
    h.g.advance(3_000);
    h.g.engine.expire(Infinity);
    expect(h.handoff.counters.get('mappingsEvicted')).toBe(1);
    expect(h.handoff.tracker.mappings.count).toBe(0);
    const again = udp(h, 40_001);
    const h2 = session(h, PROTOCOL.UDP, again, 53);
    expect(h.g.table.bibOf(h2)).toBe(b);
    expect(entries(talk(h, [receiver]), MessageType.CREATED)).toEqual([expect.objectContaining({ natPort: again, clientPort: 40_001 })]);
    expect(h.g.table.isHandedOff(h2)).toBe(true);
    expect(h.handoff.counters.get('mappingsHandedOff')).toBe(2);
    expect(h.handoff.counters.get('handOffStale')).toBe(0);
    receiver.answering = false;
    for (let i = 0; i < 200 && h.handoff.agent.isAuthoritative(v4(POOL4), v4(SERVER)); i++) {
      h.tick(200);
      h.take();
      udp(h, 40_001);
    }
    expect(h.g.table.isHandedOff(session(h, PROTOCOL.UDP, again, 53))).toBe(false);
    expect(h.handoff.counters.get('mappingsTakenBack')).toBe(1);
    receiver.answering = true;
    const announced: HandoffEntry[] = [];
    for (let i = 0; i < 100 && !h.handoff.agent.isAuthoritative(v4(POOL4), v4(SERVER)); i++) {
      h.g.advance(500);
      udp(h, 40_001);
      announced.push(...entries(talk(h, [receiver]), MessageType.CREATED));
    }
    expect(announced).toEqual([expect.objectContaining({ natPort: again, clientPort: 40_001, serverAddress: v4(SERVER) })]);
    expect(h.g.table.isHandedOff(session(h, PROTOCOL.UDP, again, 53))).toBe(true);
  });

  it('drops the records a BIB entry leaves when the table frees it, without reporting them', () => {
    const h = testHandoff();
    const receiver = new FakeReceiver(v4(SERVER));
    receiver.authoritative = false;
    const natPort = udp(h, 40_000);
    talk(h, [receiver]);
    const b = h.g.table.bibOf(session(h, PROTOCOL.UDP, natPort, 53));
    const tracker = h.handoff.tracker;
    tracker.bibDeleted(h.g.table, b);
    expect(tracker.mappings.count).toBe(0);
    expect(tracker.mappings.firstOfBib(b)).toBe(-1);
    // Its session's deletion finds no record to report.
    h.g.table.deleteSession(session(h, PROTOCOL.UDP, natPort, 53));
    expect(entries(talk(h, [receiver]), MessageType.DELETED)).toEqual([]);
  });

  it('reports a mapping made and ended within one batch in the table’s order: CREATED, then DELETED', () => {
    const h = testHandoff();
    const receiver = new FakeReceiver(v4(SERVER));
    udp(h, 40_000);
    talk(h, [receiver]);
    const table = h.g.table;
    h.g.engine.run(() => {
      const made = table.restore({
        protocol: PROTOCOL.UDP,
        clientAddress: ipv6TextToBytes(CLIENT)!,
        clientPort: 40_001,
        natAddress: v4(POOL4),
        natPort: 7000,
        serverAddress: v4(SERVER),
        serverPort: 53,
      });
      table.deleteSession(made);
    });
    const seen = talk(h, [receiver]).filter((s) => s.message.type === MessageType.CREATED || s.message.type === MessageType.DELETED);
    expect(seen.map((s) => s.message.type)).toEqual([MessageType.CREATED, MessageType.DELETED]);
    const expected = { protocol: PROTOCOL.UDP, natPort: 7000, clientPort: 40_001, serverPort: 53, time: TIME };
    expect(entries(seen, MessageType.CREATED)).toEqual([expect.objectContaining(expected)]);
    expect(entries(seen, MessageType.DELETED)).toEqual([expect.objectContaining({ ...expected, reason: DeleteReason.ADMINISTRATIVE })]);
    expect(receiver.held.size).toBe(1);
    expect(h.handoff.tracker.mappings.count).toBe(1);
  });

  it('reports every mapping of a batch that makes more than the tracker notes before reporting', () => {
    const h = testHandoff();
    const receiver = new FakeReceiver(v4(SERVER));
    const client = ipv6TextToBytes(CLIENT)!;
    const table = h.g.table;
    h.g.engine.run(() => {
      for (let i = 0; i < 600; i++) {
        table.restore({
          protocol: PROTOCOL.UDP,
          clientAddress: client,
          clientPort: 20_000 + i,
          natAddress: v4(POOL4),
          natPort: 20_000 + i,
          serverAddress: v4(SERVER),
          serverPort: 53,
        });
      }
    });
    expect(h.handoff.counters.get('mappingsCreated')).toBe(600);
    talk(h, [receiver]);
    expect(receiver.held.size).toBe(600);
    expect(h.handoff.counters.get('mappingsHandedOff')).toBe(600);
  });

  it('goes on reporting the mappings of a batch after one whose report fails, and counts the failure', () => {
    const h = testHandoff();
    const receiver = new FakeReceiver(v4(SERVER));
    udp(h, 39_999);
    talk(h, [receiver]);
    const transport = h.handoff.transport;
    const report = transport.mappingCreated.bind(transport);
    transport.mappingCreated = (natAddress, host, entry, ref) => {
      if (entry.clientPort === 40_001) throw new Error('transport bug');
      report(natAddress, host, entry, ref);
    };
    const packet = (clientPort: number) => ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: clientPort, dstPort: 53 });
    expect(h.send(packet(40_000), packet(40_001), packet(40_002))).toHaveLength(3);
    expect(h.handoff.counters.get('eventErrors')).toBe(1);
    expect(h.handoff.counters.get('mappingsCreated')).toBe(4);
    // The batch's end sent them: the failure stopped neither the report of 40002 nor the flush.
    expect(entries(h.outbox, MessageType.CREATED).map((e) => e.clientPort)).toEqual([40_000, 40_002]);
  });

  it('grows its records for a session maximum raised at runtime at the next batch’s end', () => {
    const h = testHandoff({ limits: { maxSessions: 1000 } });
    const tracker = h.handoff.tracker;
    expect(tracker.mappings.capacity).toBe(1000);
    h.g.table.reconfigure({ maxSessions: 5000 });
    udp(h, 40_000);
    expect(tracker.mappings.capacity).toBe(5000);
    expect(tracker.mappings.count).toBe(1);
  });

  it('reports no mapping toward a pool4 address (hairpinning)', () => {
    const h = testHandoff();
    h.send(ipv6({ src: CLIENT, dst: '2001:db8:64::c633:6401', protocol: 17, srcPort: 40_000, dstPort: 53 }));
    expect(h.handoff.counters.get('mappingsCreated')).toBe(0);
    expect(h.outbox).toEqual([]);
  });

  it('tells pool4 from other hosts session by session within one batch', () => {
    const h = testHandoff();
    const toPool = (port: number) => ipv6({ src: CLIENT, dst: '2001:db8:64::c633:6401', protocol: 17, srcPort: port, dstPort: 53 });
    const toServer = (port: number, server6 = SERVER6) => ipv6({ src: CLIENT, dst: server6, protocol: 17, srcPort: port, dstPort: 53 });
    h.send(toPool(40_000), toServer(40_001), toServer(40_002), toPool(40_003), toServer(40_004, OTHER6), toPool(40_005));
    expect(h.handoff.counters.get('mappingsCreated')).toBe(3);
    expect(h.handoff.tracker.mappings.count).toBe(3);
  });
});
