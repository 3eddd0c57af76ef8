import { describe, expect, it } from 'vitest';
import { AnswerStatus, MessageType, type ClientQuery, type HandoffEntry, type Query } from '@nat64/handoff-codec';
import { PeerState, QueryOutcome, QueryVerdict } from '@nat64/handoff-agent';
import { connect } from './helpers/connect.js';
import { HOST, HOST2, NAT, tcpEntry } from './helpers/entries.js';
import { Harness } from './helpers/harness.js';
import { hex, u32hex } from './helpers/hex.js';

const UDP = 17;

function queries(h: Harness): Query[] {
  return h.takeType(MessageType.QUERY).map((sent) => sent.message as Query);
}

/** The entry a receiver holds for (UDP, NAT, 40001): 2001:db8::3 port 54321 toward 198.51.100.10:53 (Appendix A). */
const held: HandoffEntry = {
  protocol: UDP,
  reason: 0,
  natAddress: NAT,
  natPort: 40001,
  clientAddress: hex('20010db8000000000000000000000003'),
  clientPort: 54321,
  serverAddress: HOST,
  serverPort: 53,
  time: 1552903650250000,
};

describe('queries', () => {
  it('refuses queries toward hosts that are not authoritative, sending nothing', () => {
    const h = new Harness();
    expect(h.agent.query(NAT, HOST, UDP, 40001, HOST, 53, 1)).toBe(QueryVerdict.NOT_AUTHORITATIVE);
    connect(h, { authoritative: false });
    expect(h.agent.query(NAT, HOST, UDP, 40001, HOST, 53, 2)).toBe(QueryVerdict.NOT_AUTHORITATIVE);
    h.agent.mappingCreated(NAT, HOST2, tcpEntry(0, NAT, HOST2));
    expect(h.agent.query(NAT, HOST2, UDP, 40001, HOST2, 53, 3)).toBe(QueryVerdict.NOT_AUTHORITATIVE);
    expect(queries(h)).toEqual([]);
    expect(h.agent.counters.get('queriesNotAuthoritative')).toBe(3);
    h.advance(60_000, 1000);
    expect(h.events.answers).toEqual([]);
  });

  it('sends a QUERY padded to the size of an ANSWER (Appendix A) and reports FOUND with the entry', () => {
    const h = new Harness();
    const receiver = connect(h);
    expect(h.agent.query(NAT, HOST, UDP, 40001, HOST, 53, 77)).toBe(QueryVerdict.SENT);
    const [sent] = h.take();
    expect(sent!.bytes).toEqual(
      hex(`
        01 06 0048  0000 0000                 # version 1, QUERY, length 72, flags, reserved
        0123456789abcdef 8899aabbccddeeff     # epoch, cookie
        ${u32hex(sent!.message.sequence)}     # request identifier (random)
        11 00 9c41  c0000201  c633640a        # UDP, reserved, NAT port 40001, NAT address, server
        0035 0000                             # server port 53, reserved
        00000000000000000000000000000000000000000000000000000000  # padding, 28 octets
      `),
    );
    receiver.answer(sent!.message.sequence, AnswerStatus.FOUND, held);
    expect(h.events.answers).toEqual([{ token: 77, outcome: QueryOutcome.FOUND, entry: held }]);
    expect(h.agent.peers()[0]!.queries).toBe(0);
  });

  it('reports NOT_FOUND and NOT_AUTHORITATIVE once each, and counts a repeated ANSWER as unmatched', () => {
    const h = new Harness();
    const receiver = connect(h);
    h.agent.query(NAT, HOST, UDP, 1, HOST, 53, 1);
    h.agent.query(NAT, HOST, UDP, 2, HOST, 53, 2);
    const [first, second] = queries(h);
    receiver.answer(first!.sequence, AnswerStatus.NOT_FOUND);
    receiver.answer(first!.sequence, AnswerStatus.NOT_FOUND);
    receiver.answer(second!.sequence, 9);
    expect(h.events.answers).toEqual([
      { token: 1, outcome: QueryOutcome.NOT_FOUND, entry: null },
      { token: 2, outcome: QueryOutcome.NOT_AUTHORITATIVE, entry: null },
    ]);
    expect(h.agent.counters.get('answersUnmatched')).toBe(1);
    // NOT_AUTHORITATIVE makes the agent ask with a HELLO whether the receiver still is.
    expect(h.takeType(MessageType.HELLO)).toHaveLength(1);
  });

  it('retransmits with the same request identifier on the RTO, doubling, then times out', () => {
    const h = new Harness({ queryRetries: 3, keepaliveMs: 3_600_000 });
    connect(h);
    const start = h.now;
    h.agent.query(NAT, HOST, UDP, 40001, HOST, 53, 5);
    h.advance(20_000, 250);
    const sent = h.takeType(MessageType.QUERY);
    expect(sent.map((s) => s.at - start)).toEqual([0, 1000, 3000, 7000]);
    expect(new Set(sent.map((s) => s.message.sequence)).size).toBe(1);
    expect(h.events.answers).toEqual([{ token: 5, outcome: QueryOutcome.TIMED_OUT, entry: null }]);
    expect(h.agent.counters.get('queriesTimedOut')).toBe(1);
  });

  it('sends one QUERY for concurrent misses on the same key and answers every token', () => {
    const h = new Harness();
    const receiver = connect(h);
    expect(h.agent.query(NAT, HOST, UDP, 40001, HOST, 53, 1)).toBe(QueryVerdict.SENT);
    expect(h.agent.query(NAT, HOST, UDP, 40001, 0xcb007101, 53, 2)).toBe(QueryVerdict.JOINED);
    expect(h.agent.query(NAT, HOST, 6, 40001, HOST, 53, 3)).toBe(QueryVerdict.SENT);
    const sent = queries(h);
    expect(sent).toHaveLength(2);
    receiver.answer(sent[0]!.sequence, AnswerStatus.NOT_FOUND);
    expect(h.events.answers.map((answer) => answer.token)).toEqual([1, 2]);
  });

  it('bounds queries outstanding per peer and in total', () => {
    const h = new Harness({ maxQueriesPerPeer: 2, maxQueries: 3 });
    connect(h);
    connect(h, {}, NAT, HOST2);
    expect([1, 2, 3].map((port) => h.agent.query(NAT, HOST, UDP, port, HOST, 53, port))).toEqual([
      QueryVerdict.SENT,
      QueryVerdict.SENT,
      QueryVerdict.PEER_LIMIT,
    ]);
    expect([1, 2].map((port) => h.agent.query(NAT, HOST2, UDP, port, HOST2, 53, 10 + port))).toEqual([QueryVerdict.SENT, QueryVerdict.TOTAL_LIMIT]);
    expect(h.agent.counters.get('queriesLimited')).toBe(2);
  });

  it('ignores an ANSWER whose entry is not the key asked about, or fails 6.4 (6.5)', () => {
    const h = new Harness();
    const receiver = connect(h);
    h.agent.query(NAT, HOST, UDP, 40001, HOST, 53, 1);
    const [sent] = queries(h);
    receiver.answer(sent!.sequence, AnswerStatus.FOUND, { ...held, natPort: 40002 });
    receiver.answer(sent!.sequence, AnswerStatus.FOUND, { ...held, natAddress: NAT + 1 });
    expect(h.events.answers).toEqual([]);
    expect(h.agent.counters.get('answersUnmatched')).toBe(1);
    expect(h.agent.counters.get('entriesRejected')).toBe(1);
    receiver.answer(sent!.sequence, AnswerStatus.FOUND, held);
    expect(h.events.answers.map((answer) => answer.outcome)).toEqual([QueryOutcome.FOUND]);
  });

  it('ends waiting queries as NOT_AUTHORITATIVE when the receiver gives up authority', () => {
    const h = new Harness({ keepaliveMs: 1000 });
    const receiver = connect(h);
    h.agent.query(NAT, HOST, UDP, 40001, HOST, 53, 1);
    h.advance(1000);
    receiver.answerHello({ authoritative: false });
    expect(h.events.answers).toEqual([{ token: 1, outcome: QueryOutcome.NOT_AUTHORITATIVE, entry: null }]);
    expect(h.events.down).toEqual([{ natAddress: NAT, host: HOST, state: PeerState.ACKNOWLEDGING }]);
    h.advance(60_000, 1000);
    expect(h.events.answers).toHaveLength(1);
  });

  it('throws for query fields outside their range', () => {
    const h = new Harness();
    expect(() => h.agent.query(NAT, HOST, 256, 1, HOST, 53, 1)).toThrow(RangeError);
    expect(() => h.agent.query(NAT, HOST, UDP, 65536, HOST, 53, 1)).toThrow(RangeError);
  });
});

describe('client queries', () => {
  const clientQueries = (h: Harness): ClientQuery[] => h.takeType(MessageType.CLIENT_QUERY).map((sent) => sent.message as ClientQuery);
  const ask = (h: Harness, token: number, clientPort = 54321, protocol = UDP) =>
    h.agent.clientQuery(NAT, HOST, { protocol, clientAddress: held.clientAddress, clientPort, serverAddress: HOST, serverPort: 53 }, token);

  it('sends a CLIENT-QUERY padded to the size of an ANSWER (Appendix A) and reports FOUND with the entry', () => {
    const h = new Harness();
    const receiver = connect(h);
    expect(ask(h, 9)).toBe(QueryVerdict.SENT);
    const [sent] = h.take();
    expect(sent!.bytes).toEqual(
      hex(`
        01 09 0048  0000 0000                 # version 1, CLIENT-QUERY, length 72, flags, reserved
        0123456789abcdef 8899aabbccddeeff     # epoch, cookie
        ${u32hex(sent!.message.sequence)}     # request identifier (random)
        11 00 d431  c0000201  c633640a        # UDP, reserved, client port 54321, NAT address, server
        20010db8000000000000000000000003      # client 2001:db8::3
        0035 0000                             # server port 53, reserved
        000000000000000000000000              # padding, 12 octets
      `),
    );
    receiver.answer(sent!.message.sequence, AnswerStatus.FOUND, held);
    expect(h.events.answers).toEqual([{ token: 9, outcome: QueryOutcome.FOUND, entry: held }]);
    expect(h.agent.counters.get('clientQueriesSent')).toBe(1);
    expect(h.agent.peers()[0]!.queries).toBe(0);
  });

  it('refuses toward hosts that are not authoritative, sending nothing', () => {
    const h = new Harness();
    expect(ask(h, 1)).toBe(QueryVerdict.NOT_AUTHORITATIVE);
    connect(h, { authoritative: false });
    expect(ask(h, 2)).toBe(QueryVerdict.NOT_AUTHORITATIVE);
    expect(h.takeType(MessageType.CLIENT_QUERY)).toEqual([]);
  });

  it('joins concurrent misses of one client side and answers every token', () => {
    const h = new Harness();
    const receiver = connect(h);
    expect(ask(h, 1)).toBe(QueryVerdict.SENT);
    expect(ask(h, 2)).toBe(QueryVerdict.JOINED);
    expect(ask(h, 3, 54322)).toBe(QueryVerdict.SENT);
    expect(ask(h, 4, 54321, 6)).toBe(QueryVerdict.SENT);
    // A QUERY by NAT port is a question of its own.
    expect(h.agent.query(NAT, HOST, UDP, 40001, HOST, 53, 5)).toBe(QueryVerdict.SENT);
    const sent = clientQueries(h);
    expect(sent).toHaveLength(3);
    receiver.answer(sent[0]!.sequence, AnswerStatus.NOT_FOUND);
    expect(h.events.answers.map((answer) => answer.token)).toEqual([1, 2]);
  });

  it('ignores a FOUND entry of another client side', () => {
    const h = new Harness();
    const receiver = connect(h);
    ask(h, 1);
    const [sent] = clientQueries(h);
    receiver.answer(sent!.sequence, AnswerStatus.FOUND, { ...held, clientPort: 1 });
    receiver.answer(sent!.sequence, AnswerStatus.FOUND, { ...held, protocol: 6 });
    receiver.answer(sent!.sequence, AnswerStatus.FOUND, { ...held, clientAddress: hex('20010db8000000000000000000000004') });
    expect(h.events.answers).toEqual([]);
    expect(h.agent.counters.get('answersUnmatched')).toBe(3);
    receiver.answer(sent!.sequence, AnswerStatus.FOUND, { ...held, natPort: 999 });
    expect(h.events.answers).toEqual([{ token: 1, outcome: QueryOutcome.FOUND, entry: { ...held, natPort: 999 } }]);
  });

  it('retransmits with the same request identifier on the RTO, doubling, then times out', () => {
    const h = new Harness({ queryRetries: 3, keepaliveMs: 3_600_000 });
    connect(h);
    const start = h.now;
    ask(h, 5);
    h.advance(20_000, 250);
    const sent = h.takeType(MessageType.CLIENT_QUERY);
    expect(sent.map((s) => s.at - start)).toEqual([0, 1000, 3000, 7000]);
    expect(new Set(sent.map((s) => s.message.sequence)).size).toBe(1);
    expect(h.events.answers).toEqual([{ token: 5, outcome: QueryOutcome.TIMED_OUT, entry: null }]);
  });

  it('shares the per-peer bound with QUERY', () => {
    const h = new Harness({ maxQueriesPerPeer: 2 });
    connect(h);
    expect(h.agent.query(NAT, HOST, UDP, 1, HOST, 53, 1)).toBe(QueryVerdict.SENT);
    expect(ask(h, 2)).toBe(QueryVerdict.SENT);
    expect(ask(h, 3, 1)).toBe(QueryVerdict.PEER_LIMIT);
  });

  it('throws for fields outside their range', () => {
    const h = new Harness();
    expect(() =>
      h.agent.clientQuery(NAT, HOST, { protocol: UDP, clientAddress: new Uint8Array(4), clientPort: 1, serverAddress: HOST, serverPort: 53 }, 1),
    ).toThrow(RangeError);
    expect(() => ask(h, 1, 65536)).toThrow(RangeError);
  });
});
