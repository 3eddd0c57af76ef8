import { describe, expect, it } from 'vitest';
import { MessageType, type Created, type HandoffMessage } from '@nat64/handoff-codec';
import { connect } from './helpers/connect.js';
import { HOST, HOST2, NAT, ports, tcpEntry } from './helpers/entries.js';
import { Harness, ScriptedReceiver } from './helpers/harness.js';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);

function batches(h: Harness): Created[] {
  return h
    .take()
    .map((sent) => sent.message)
    .filter((message): message is Created => message.type === MessageType.CREATED);
}

function create(h: Harness, from: number, count: number, host = HOST): void {
  for (let i = from; i < from + count; i++) h.agent.mappingCreated(NAT, host, tcpEntry(i));
}

function reliable(messages: HandoffMessage[]): Array<[number, number]> {
  return messages.map((message) => [message.type, message.sequence]);
}

describe('outbound', () => {
  for (const [mtu, key, perDatagram] of [
    [1500, undefined, 36],
    [1280, undefined, 30],
    [1500, KEY, 35],
  ] as const) {
    it(`fills CREATED datagrams with ${perDatagram} entries at MTU ${mtu}${key ? ' with a tag' : ''} (5.11)`, () => {
      const h = new Harness({ mtu, ...(key ? { key } : {}) });
      connect(h, key ? { key } : {});
      create(h, 0, 100);
      const full = batches(h);
      expect(full.map((batch) => batch.entries.length)).toEqual([perDatagram, perDatagram, ...(3 * perDatagram <= 100 ? [perDatagram] : [])]);
      expect(full.every((batch) => (key ? batch.tag !== undefined : batch.tag === undefined))).toBe(true);
      h.advance(5);
      const rest = batches(h);
      expect(rest.map((batch) => batch.entries.length)).toEqual([100 % perDatagram]);
      expect([...full, ...rest].flatMap((batch) => ports(batch.entries))).toEqual(ports(Array.from({ length: 100 }, (_, i) => tcpEntry(i))));
      expect([...full, ...rest].map((batch) => batch.sequence)).toEqual([...full, ...rest].map((_, i) => i + 1));
    });
  }

  it('holds a partly filled datagram until the flush delay has passed', () => {
    const h = new Harness({ flushDelayMs: 5 });
    connect(h);
    create(h, 0, 3);
    h.now += 4;
    h.agent.flush();
    expect(batches(h)).toEqual([]);
    h.now += 1;
    h.agent.flush();
    expect(batches(h).map((batch) => batch.entries.length)).toEqual([3]);
  });

  it('sends every open datagram on flush(true), whatever its age, and nothing twice', () => {
    const h = new Harness({ flushDelayMs: 5 });
    connect(h);
    connect(h, {}, NAT, HOST2);
    create(h, 0, 3);
    create(h, 10, 2, HOST2);
    h.agent.flush();
    expect(batches(h)).toEqual([]);
    h.agent.flush(true);
    expect(batches(h).map((batch) => batch.entries.length)).toEqual([3, 2]);
    expect(h.agent.nextDeadline()).toBeGreaterThan(h.now + 5);
    h.agent.flush(true);
    expect(batches(h)).toEqual([]);
  });

  it('keeps a fire-and-forget datagram for its flush delay on flush(true), so that a HELLO-ACK within it supersedes it', () => {
    const h = new Harness({ flushDelayMs: 5 });
    h.agent.mappingCreated(NAT, HOST, tcpEntry(1));
    h.agent.flush(true);
    expect(h.take().map((sent) => sent.message.type)).toEqual([MessageType.HELLO]);
    h.now += 5;
    h.agent.flush(true);
    expect(batches(h).map((batch) => [batch.entries.length, batch.sequence])).toEqual([[1, 0]]);
  });

  it('keeps a datagram the window holds back open on flush(true), taking entries until the window opens', () => {
    const h = new Harness({ flushDelayMs: 5 });
    const receiver = connect(h, { window: 1 });
    create(h, 0, 1);
    h.agent.flush(true);
    expect(batches(h).map((batch) => batch.entries.length)).toEqual([1]);
    create(h, 1, 2);
    h.agent.flush(true);
    create(h, 3, 1);
    expect(batches(h)).toEqual([]);
    receiver.ack(1);
    expect(batches(h).map((batch) => batch.entries.length)).toEqual([3]);
  });

  it('sends what is open on every flush with a delay of 0', () => {
    const h = new Harness({ flushDelayMs: 0 });
    connect(h);
    create(h, 0, 2);
    h.agent.flush();
    create(h, 2, 1);
    h.agent.flush();
    expect(batches(h).map((batch) => batch.entries.length)).toEqual([2, 1]);
  });

  it('closes the datagram when the type changes, so that changes keep their order', () => {
    const h = new Harness({ flushDelayMs: 0 });
    connect(h);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(1));
    h.agent.mappingDeleted(NAT, HOST, tcpEntry(1), 2);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(2));
    h.agent.flush();
    const sent = h.take().map((s) => s.message);
    expect(reliable(sent)).toEqual([
      [MessageType.CREATED, 1],
      [MessageType.DELETED, 2],
      [MessageType.CREATED, 3],
    ]);
    const deleted = sent[1] as Created;
    expect([deleted.entries[0]!.reason, deleted.entries[0]!.time]).toEqual([2, tcpEntry(1).time]);
  });

  it('never has more messages outstanding than the window', () => {
    const h = new Harness();
    const receiver = connect(h, { window: 4 });
    create(h, 0, 36 * 10);
    expect(batches(h).map((batch) => batch.sequence)).toEqual([1, 2, 3, 4]);
    expect(h.agent.peers()[0]).toMatchObject({ inFlight: 4, queued: 36 * 6 });
    receiver.ack(2);
    expect(batches(h).map((batch) => batch.sequence)).toEqual([5, 6]);
  });

  it('keeps the span from the oldest unacknowledged message within the window when blocks cover messages above it', () => {
    const h = new Harness();
    const receiver = connect(h, { window: 4 });
    create(h, 0, 36 * 8);
    batches(h);
    receiver.ack(0, [{ start: 2, end: 4 }]);
    expect(batches(h)).toEqual([]);
    receiver.ack(4);
    expect(batches(h).map((batch) => batch.sequence)).toEqual([5, 6, 7, 8]);
  });

  it('retransmits the same bytes after the RTO, doubling the timeout each time (6.3)', () => {
    const h = new Harness({ keepaliveMs: 3_600_000 });
    connect(h);
    create(h, 0, 36);
    const [first] = h.take();
    h.advance(40_000, 250);
    const again = h.takeType(MessageType.CREATED);
    expect(again.map((s) => s.at - first!.at)).toEqual([1000, 3000, 7000, 15000, 31000]);
    expect(again.every((s) => Buffer.from(s.bytes).equals(first!.bytes))).toBe(true);
    expect(h.agent.counters.get('retransmissions')).toBe(5);
  });

  it('backs off the RTO once per expiry of the oldest message, however many later messages expire (RFC 6298 5.5)', () => {
    const h = new Harness({ keepaliveMs: 3_600_000 });
    connect(h);
    // Ten datagrams sent 10 ms apart, never acknowledged: each expires on its own deadline.
    for (let i = 0; i < 10; i++) {
      create(h, i * 36, 36);
      h.advance(10, 10);
    }
    h.take();
    h.advance(1_200, 5);
    expect(h.agent.counters.get('retransmissions')).toBe(10);
    expect(h.agent.peers()[0]!.rtoMs).toBe(2000);
    create(h, 360, 36);
    const [fresh] = h.takeType(MessageType.CREATED);
    h.advance(2_100, 5);
    const again = h.takeType(MessageType.CREATED).filter((sent) => sent.message.sequence === fresh!.message.sequence);
    expect(again.map((sent) => sent.at - fresh!.at)).toEqual([2000]);
  });

  it('caps the doubled timeout at maxRtoMs', () => {
    const h = new Harness({ keepaliveMs: 3_600_000, maxRtoMs: 4000 });
    connect(h);
    create(h, 0, 36);
    const [first] = h.take();
    h.advance(20_000, 250);
    expect(h.takeType(MessageType.CREATED).map((s) => s.at - first!.at)).toEqual([1000, 3000, 7000, 11000, 15000, 19000]);
  });

  it('measures the RTT of acknowledged messages and times the next retransmission by it (RFC 6298)', () => {
    const h = new Harness({ minRtoMs: 1, keepaliveMs: 3_600_000 });
    const receiver = connect(h);
    create(h, 0, 36);
    h.take();
    h.now += 40;
    receiver.ack(1);
    // SRTT = 40, RTTVAR = 20, RTO = 40 + 4 * 20 = 120.
    expect(h.agent.peers()[0]).toMatchObject({ srttMs: 40, rtoMs: 120 });
    create(h, 36, 36);
    const [second] = h.take();
    h.advance(200, 10);
    expect(h.takeType(MessageType.CREATED).map((s) => s.at - second!.at)).toEqual([120]);
  });

  it('takes no RTT sample from a retransmitted message (Karn)', () => {
    const h = new Harness({ keepaliveMs: 3_600_000 });
    const receiver = connect(h);
    create(h, 0, 36);
    h.advance(1000);
    receiver.ack(1);
    expect(h.agent.peers()[0]).toMatchObject({ srttMs: null, inFlight: 0 });
  });

  it('sends fire-and-forget datagrams to a silent host without cookie or sequence, once each', () => {
    const h = new Harness({ flushDelayMs: 0 });
    create(h, 0, 40);
    h.agent.flush();
    const sent = batches(h);
    expect(sent.map((batch) => [batch.cookie, batch.sequence, batch.entries.length])).toEqual([
      [0n, 0, 36],
      [0n, 0, 4],
    ]);
    h.advance(60_000, 1000);
    expect(batches(h)).toEqual([]);
  });

  it('bounds fire-and-forget datagrams per peer and in total', () => {
    const h = new Harness({ flushDelayMs: 0, unreliablePerPeer: { perSecond: 2, burst: 3 }, unreliableTotal: { perSecond: 0, burst: 5 } });
    for (let i = 0; i < 5; i++) {
      h.agent.mappingCreated(NAT, HOST, tcpEntry(i));
      h.agent.flush();
    }
    expect(batches(h)).toHaveLength(3);
    h.now += 500;
    h.agent.mappingCreated(NAT, HOST, tcpEntry(5));
    h.agent.flush();
    expect(batches(h)).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      h.agent.mappingCreated(NAT, HOST2, tcpEntry(i, NAT, HOST2));
      h.agent.flush();
    }
    // The global bucket had 5 tokens: 4 went to HOST, 1 is left for HOST2.
    expect(batches(h)).toHaveLength(1);
    expect(h.agent.counters.get('unreliableRateLimited')).toBe(2 + 2);
  });

  it('opens no more fire-and-forget datagrams at once than the global burst could send', () => {
    const h = new Harness({ unreliableTotal: { perSecond: 0, burst: 3 } });
    for (let i = 0; i < 5; i++) h.agent.mappingCreated(NAT, HOST + i, tcpEntry(i, NAT, HOST + i));
    expect(h.agent.counters.get('unreliableRateLimited')).toBe(2);
    h.advance(5);
    expect(batches(h).map((batch) => batch.entries[0]!.natPort)).toEqual([40000, 40001, 40002]);
  });

  it('drops and counts entries past the queue bound of a peer', () => {
    const h = new Harness({ maxQueuedEntries: 100 });
    connect(h, { window: 1 });
    create(h, 0, 200);
    // One full datagram in flight, 100 entries queued, the rest dropped.
    expect(h.agent.queuedEntries).toBe(100);
    expect(h.agent.counters.get('queueOverflow')).toBe(200 - 36 - 100);
  });

  it('bounds the total of queued entries across peers', () => {
    const h = new Harness({ maxQueuedEntriesTotal: 50 });
    connect(h, { window: 1 });
    connect(h, { window: 1 }, NAT, HOST2);
    create(h, 0, 36 + 40);
    create(h, 0, 36 + 40, HOST2);
    // HOST: one datagram in flight, 40 entries queued; HOST2 gets the 10 places left.
    expect(h.agent.queuedEntries).toBe(50);
    expect(h.agent.counters.get('queueOverflow')).toBe(76 - 10);
  });

  it('copes with a re-announcement burst on onPeerUp: the window is respected and every entry arrives once, in order', () => {
    const h = new Harness();
    const receiver = new ScriptedReceiver(h, NAT, HOST, { window: 8 });
    const live = 5000;
    h.onUp = (_natAddress, host) => create(h, 0, live, host);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(0));
    receiver.answerHello();
    const delivered: number[] = [];
    let expected = 1;
    for (let round = 0; round < 400 && delivered.length < live; round++) {
      h.advance(5);
      const sent = batches(h);
      expect(h.agent.peers()[0]!.inFlight).toBeLessThanOrEqual(8);
      for (const batch of sent) {
        expect(batch.sequence).toBe(expected++);
        delivered.push(...ports(batch.entries));
      }
      if (sent.length > 0) receiver.ack(sent.at(-1)!.sequence);
    }
    expect(delivered).toEqual(ports(Array.from({ length: live }, (_, i) => tcpEntry(i))));
    expect(h.agent.counters.get('retransmissions')).toBe(0);
  });
});
