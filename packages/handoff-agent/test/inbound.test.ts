import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageType, verifyDatagram, type Ack, type HandoffEntry } from '@nat64/handoff-codec';
import { connect } from './helpers/connect.js';
import { COOKIE, EPOCH, HOST, NAT, NAT2, ports, tcpEntry } from './helpers/entries.js';
import { Harness, ScriptedReceiver, encode } from './helpers/harness.js';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);

function create(h: Harness, from: number, count: number): void {
  for (let i = from; i < from + count; i++) h.agent.mappingCreated(NAT, HOST, tcpEntry(i));
}

function acks(h: Harness): Ack[] {
  return h.takeType(MessageType.ACK).map((sent) => sent.message as Ack);
}

function ackSummary(h: Harness): Array<[number, Array<[number, number]>]> {
  return acks(h).map((ack) => [ack.cumulative, ack.blocks.map((block): [number, number] => [block.start, block.end])]);
}

describe('inbound', () => {
  it('reports acknowledged CREATED entries as handed off to an authoritative peer in mode full', () => {
    const h = new Harness();
    const receiver = connect(h);
    create(h, 0, 40);
    h.advance(5);
    expect(h.events.handedOff).toEqual([]);
    receiver.ack(1);
    expect(h.events.handedOff.map((event) => ports(event.entries))).toEqual([ports(Array.from({ length: 36 }, (_, i) => tcpEntry(i)))]);
    expect(h.events.handedOff[0]!.entries[5]).toEqual(tcpEntry(5));
    receiver.ack(2);
    expect(h.events.handedOff.map((event) => event.entries.length)).toEqual([36, 4]);
    expect(h.agent.peers()[0]!.handedOff).toBe(40);
    const counters = ['reliableSent', 'entriesSent', 'acksReceived', 'ackedMessages', 'entriesHandedOff'] as const;
    expect(counters.map((name) => h.agent.counters.get(name))).toEqual([2, 40, 2, 2, 40]);
  });

  it('hands over acknowledged entries for the call only: read later, they throw instead of reading a reused datagram', () => {
    const h = new Harness();
    const receiver = connect(h);
    create(h, 0, 3);
    h.advance(5);
    receiver.ack(1);
    expect(h.events.handedOff.map((event) => event.entries.length)).toEqual([3]);
    const kept = h.lastAcked!;
    expect(kept.count).toBe(0);
    expect(() => kept.ref(0)).toThrow(RangeError);
    expect(() => kept.entry(0)).toThrow(RangeError);
  });

  it('hands back the ref each CREATED entry was made with, -1 where it had none', () => {
    const h = new Harness();
    const receiver = connect(h);
    // Any safe integer: the gateway passes a record's slot and generation.
    h.agent.mappingCreated(NAT, HOST, tcpEntry(0), 2 ** 52 + 700);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(1));
    h.agent.mappingCreated(NAT, HOST, tcpEntry(2), 0);
    h.advance(5);
    for (let i = 3; i < 40; i++) h.agent.mappingCreated(NAT, HOST, tcpEntry(i), 1000 + i);
    h.advance(5);
    receiver.ack(1);
    receiver.ack(2);
    receiver.ack(3);
    expect(h.events.handedOff.map((event) => [ports(event.entries), event.refs])).toEqual([
      [ports([tcpEntry(0), tcpEntry(1), tcpEntry(2)]), [2 ** 52 + 700, -1, 0]],
      [ports(Array.from({ length: 36 }, (_, i) => tcpEntry(3 + i))), Array.from({ length: 36 }, (_, i) => 1003 + i)],
      [ports([tcpEntry(39)]), [1039]],
    ]);
  });

  it('never reports a hand-off in mode announce, toward a receiver that is not authoritative, or for DELETED', () => {
    for (const [mode, authoritative] of [
      ['announce', true],
      ['full', false],
    ] as const) {
      const h = new Harness({ mode });
      const receiver = connect(h, { authoritative });
      create(h, 0, 36);
      receiver.ack(1);
      expect(h.agent.counters.get('ackedMessages')).toBe(1);
      expect(h.events.handedOff).toEqual([]);
    }
    const h = new Harness({ flushDelayMs: 0 });
    const receiver = connect(h);
    h.agent.mappingDeleted(NAT, HOST, tcpEntry(1), 1);
    h.agent.flush();
    receiver.ack(1);
    expect(h.agent.counters.get('ackedMessages')).toBe(1);
    expect(h.events.handedOff).toEqual([]);
  });

  it('reports hand-offs in sequence order when blocks acknowledge messages above a gap', () => {
    const h = new Harness();
    const receiver = connect(h);
    create(h, 0, 36 * 3);
    receiver.ack(0, [{ start: 2, end: 3 }]);
    expect(h.events.handedOff).toEqual([]);
    receiver.ack(1);
    expect(h.events.handedOff.map((event) => event.entries[0]!.natPort)).toEqual([40000, 40036, 40072]);
  });

  it('retransmits only what the blocks of an ACK leave unacknowledged', () => {
    const h = new Harness({ keepaliveMs: 3_600_000 });
    const receiver = connect(h);
    create(h, 0, 36 * 3);
    h.take();
    receiver.ack(0, [{ start: 2, end: 2 }]);
    h.advance(1000);
    expect(h.takeType(MessageType.CREATED).map((s) => s.message.sequence)).toEqual([1, 3]);
  });

  it('moves its retransmission deadline with every ACK, so that no timer waits for what was acknowledged', () => {
    const h = new Harness({ keepaliveMs: 3_600_000 });
    const receiver = connect(h);
    const start = h.now;
    const rto = h.agent.peers()[0]!.rtoMs;
    // Sequence 1 leaves full at once, sequence 2 on its flush deadline, 5 ms later.
    create(h, 0, 40);
    h.advance(5);
    expect(h.takeType(MessageType.CREATED).map((s) => s.message.sequence)).toEqual([1, 2]);
    expect(h.agent.nextDeadline()).toBe(start + rto);
    receiver.ack(1);
    expect(h.agent.nextDeadline()).toBe(start + 5 + rto);
    receiver.ack(2);
    expect(h.agent.nextDeadline()).toBeGreaterThan(start + 5 + rto);
    // Sequences 3 and 4 now, 5 three milliseconds later: a block that acknowledges 4 leaves 3's
    // deadline, an ACK of 3 and 4 leaves 5's.
    const later = h.agent.peers()[0]!.rtoMs;
    create(h, 100, 72);
    h.advance(3);
    create(h, 200, 36);
    receiver.ack(2, [{ start: 4, end: 4 }]);
    expect(h.agent.nextDeadline()).toBe(start + 5 + later);
    receiver.ack(4);
    expect(h.agent.nextDeadline()).toBe(start + 8 + later);
    receiver.ack(5);
    expect(h.agent.nextDeadline()).toBeGreaterThan(start + 8 + later);
  });

  it('ignores ACK parts that acknowledge numbers never sent', () => {
    const h = new Harness({ keepaliveMs: 3_600_000 });
    const receiver = connect(h);
    create(h, 0, 36);
    receiver.ack(5);
    receiver.ack(0, [{ start: 2, end: 9 }]);
    expect(h.agent.counters.get('ackIgnored')).toBe(2);
    expect(h.agent.peers()[0]!.inFlight).toBe(1);
  });

  it('applies RELEASEs in sequence order, reports each entry once, and acknowledges every one (6.3)', () => {
    const h = new Harness();
    const receiver = connect(h);
    const one = [tcpEntry(1), tcpEntry(2)];
    const two = [tcpEntry(3)];
    const three = [tcpEntry(4)];
    receiver.deliver(receiver.releaseBytes(1, one));
    expect(ackSummary(h)).toEqual([[1, []]]);
    receiver.deliver(receiver.releaseBytes(1, one));
    expect(ackSummary(h)).toEqual([[1, []]]);
    receiver.deliver(receiver.releaseBytes(3, three));
    expect(ackSummary(h)).toEqual([[1, [[3, 3]]]]);
    expect(h.events.released.map((event) => ports(event.entries))).toEqual([[40001, 40002]]);
    receiver.deliver(receiver.releaseBytes(2, two));
    expect(ackSummary(h)).toEqual([[3, []]]);
    expect(h.events.released.map((event) => ports(event.entries))).toEqual([[40001, 40002], [40003], [40004]]);
    expect(h.events.released[0]!.entries[0]).toEqual(tcpEntry(1));
    expect(h.agent.counters.get('releaseDuplicates')).toBe(1);
    expect(h.agent.counters.get('releasesHeld')).toBe(1);
  });

  it('drops a RELEASE beyond its window without acknowledging it', () => {
    const h = new Harness();
    const receiver = connect(h);
    // Window 16 (RELEASE_WINDOW): with N = 0, 16 is held and 17 is beyond.
    receiver.deliver(receiver.releaseBytes(17, [tcpEntry(1)]));
    expect(ackSummary(h)).toEqual([]);
    expect(h.agent.counters.get('releaseBeyondWindow')).toBe(1);
    receiver.deliver(receiver.releaseBytes(16, [tcpEntry(1)]));
    expect(ackSummary(h)).toEqual([[0, [[16, 16]]]]);
  });

  it('drops single RELEASE entries that 6.4 rejects and still acknowledges the message', () => {
    const h = new Harness();
    const receiver = connect(h);
    const foreign = tcpEntry(1, NAT2);
    const unknownProtocol: HandoffEntry = { ...tcpEntry(2), protocol: 47 };
    const icmpWithPort: HandoffEntry = { ...tcpEntry(3), protocol: 1 };
    const icmp: HandoffEntry = { ...tcpEntry(4), protocol: 1, serverPort: 0 };
    const udp: HandoffEntry = { ...tcpEntry(5), protocol: 17 };
    receiver.release([foreign, unknownProtocol, icmpWithPort, icmp, udp]);
    expect(h.events.released.map((event) => ports(event.entries))).toEqual([[40004, 40005]]);
    expect(h.agent.counters.get('entriesRejected')).toBe(3);
    expect(ackSummary(h)).toEqual([[1, []]]);
  });

  it('drops and counts replies of another epoch or cookie, other ports, unknown hosts and receiver-bound types', () => {
    const h = new Harness();
    const receiver = connect(h);
    create(h, 0, 36);
    receiver.deliver(encode({ type: MessageType.ACK, version: 1, flags: 0, epoch: EPOCH + 1n, cookie: COOKIE, sequence: 0, cumulative: 1, blocks: [] }));
    receiver.deliver(encode({ type: MessageType.ACK, version: 1, flags: 0, epoch: EPOCH, cookie: COOKIE + 1n, sequence: 0, cumulative: 1, blocks: [] }));
    receiver.deliver(receiver.ackBytes(1), 5353);
    h.agent.receive(NAT, 0xcb007101, 62863, receiver.ackBytes(1));
    receiver.deliver(encode({ type: MessageType.HELLO, version: 1, flags: 0, epoch: EPOCH, cookie: COOKIE, sequence: 1, natAddress: NAT, capabilities: 1 }));
    expect(h.agent.counters.get('stale')).toBe(2);
    expect(h.agent.counters.get('wrongPort')).toBe(1);
    expect(h.agent.counters.get('unknownPeer')).toBe(1);
    expect(h.agent.counters.get('unexpectedType')).toBe(1);
    expect(h.agent.peers()[0]!.inFlight).toBe(1);
    receiver.ack(1);
    expect(h.agent.peers()[0]!.inFlight).toBe(0);
  });

  it('with a key, tags every datagram and drops untagged or wrongly tagged replies (6.7)', () => {
    const h = new Harness({ key: KEY, flushDelayMs: 0 });
    const receiver = new ScriptedReceiver(h, NAT, HOST, { key: KEY });
    h.agent.mappingCreated(NAT, HOST, tcpEntry(0));
    const [hello] = h.take();
    receiver.deliver(new ScriptedReceiver(h).helloAckBytes(hello!.message.sequence));
    receiver.deliver(new ScriptedReceiver(h, NAT, HOST, { key: new Uint8Array(32) }).helloAckBytes(hello!.message.sequence));
    expect(h.agent.counters.get('authenticationFailed')).toBe(2);
    receiver.deliver(receiver.helloAckBytes(hello!.message.sequence));
    h.agent.mappingCreated(NAT, HOST, tcpEntry(1));
    h.agent.flush();
    receiver.release([tcpEntry(2)]);
    h.agent.query(NAT, HOST, 6, 40000, HOST, 443, 1);
    const sent = h.take();
    expect(sent.map((s) => s.message.type).sort()).toEqual([MessageType.HELLO, MessageType.CREATED, MessageType.ACK, MessageType.QUERY].sort());
    for (const s of [hello!, ...sent]) expect(verifyDatagram(s.bytes, 0, s.bytes.length, KEY)).toBe(true);
    expect(sent.find((s) => s.message.type === MessageType.QUERY)!.bytes.length).toBe(88);
  });

  it('never throws on garbage, and counts every datagram', () => {
    const h = new Harness();
    const receiver = connect(h);
    create(h, 0, 36);
    const valid = [
      receiver.ackBytes(1, [{ start: 3, end: 4 }]),
      receiver.releaseBytes(1, [tcpEntry(1)]),
      receiver.answerBytes(5, 0, tcpEntry(1)),
      receiver.helloAckBytes(7),
    ];
    const mutated = fc
      .tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(200), fc.nat(255)), { maxLength: 6 }), fc.option(fc.nat(200), { nil: undefined }))
      .map(([bytes, changes, cut]) => {
        const out = bytes.slice(0, cut ?? bytes.length);
        for (const [at, value] of changes) if (at < out.length) out[at] = value;
        return out;
      });
    let delivered = h.agent.counters.get('datagramsReceived');
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated), (bytes) => {
        expect(() => receiver.deliver(bytes)).not.toThrow();
        delivered++;
      }),
      { numRuns: 2000 },
    );
    expect(h.agent.counters.get('datagramsReceived')).toBe(delivered);
    expect(() => h.advance(120_000, 1000)).not.toThrow();
  });
});
