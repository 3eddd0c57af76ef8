import { describe, expect, it } from 'vitest';
import { MessageType, Reliability, type Created, type Hello } from '@nat64/handoff-codec';
import { PeerState } from '@nat64/handoff-agent';
import { connect } from './helpers/connect.js';
import { COOKIE, EPOCH, HOST, NAT, tcpEntry } from './helpers/entries.js';
import { Harness, ScriptedReceiver } from './helpers/harness.js';
import { hex, u32hex } from './helpers/hex.js';

function hellos(harness: Harness): Hello[] {
  return harness.takeType(MessageType.HELLO).map((sent) => sent.message as Hello);
}

describe('hello', () => {
  it('sends HELLO with cookie 0 on first contact (Appendix A)', () => {
    const h = new Harness();
    h.agent.mappingCreated(NAT, HOST, tcpEntry(0));
    const [first] = h.take();
    expect(first!.message.type).toBe(MessageType.HELLO);
    expect([first!.natAddress, first!.host]).toEqual([NAT, HOST]);
    expect(first!.bytes).toEqual(
      hex(`
        01 01 0024  0000 0000               # version 1, HELLO, length 36, flags, reserved
        0123456789abcdef                    # epoch
        0000000000000000                    # cookie 0: asks for one
        ${u32hex(first!.message.sequence)}  # request identifier (random)
        c0000201  0001 0000                 # NAT address 192.0.2.1, HANDOFF_V1, reserved
      `),
    );
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.SILENT);
  });

  it('learns the cookie from HELLO-ACK and sends the second HELLO carrying it (6.2)', () => {
    const h = new Harness();
    const receiver = new ScriptedReceiver(h);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(0));
    const [first] = hellos(h);
    receiver.answerHello({ window: 64 });
    const [second] = hellos(h);
    expect(second!.cookie).toBe(COOKIE);
    expect(second!.sequence).not.toBe(first!.sequence);
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.AUTHORITATIVE);
    expect(h.events.up).toEqual([{ natAddress: NAT, host: HOST, state: PeerState.AUTHORITATIVE }]);
    const [summary] = h.agent.peers();
    expect(summary).toMatchObject({ cookieKnown: true, window: 64, stateName: 'authoritative', epoch: EPOCH });
    // The answer to the second HELLO changes nothing.
    receiver.answerHello({ window: 64 });
    expect(h.events.up).toHaveLength(1);
    expect(hellos(h)).toEqual([]);
  });

  it('drops HELLO-ACKs to no outstanding HELLO, of another epoch, or with cookie 0 as stale', () => {
    const h = new Harness();
    const receiver = new ScriptedReceiver(h);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(0));
    const [hello] = hellos(h);
    receiver.deliver(receiver.helloAckBytes((hello!.sequence + 1) >>> 0));
    receiver.deliver(receiver.helloAckBytes(hello!.sequence, { epoch: EPOCH + 1n }));
    receiver.deliver(receiver.helloAckBytes(hello!.sequence, { cookie: 0n }));
    expect(h.agent.counters.get('stale')).toBe(3);
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.SILENT);
    receiver.deliver(receiver.helloAckBytes(hello!.sequence));
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.AUTHORITATIVE);
  });

  it('becomes acknowledging toward a receiver that is not authoritative, and in mode announce', () => {
    const full = new Harness();
    connect(full, { authoritative: false });
    expect(full.agent.peerState(NAT, HOST)).toBe(PeerState.ACKNOWLEDGING);
    const announce = new Harness({ mode: 'announce' });
    connect(announce);
    expect(announce.agent.peerState(NAT, HOST)).toBe(PeerState.ACKNOWLEDGING);
    expect(announce.agent.isAuthoritative(NAT, HOST)).toBe(false);
  });

  it('retries HELLO toward a silent host with new request identifiers, doubling from 1 s up to the interval', () => {
    const h = new Harness();
    const start = h.now;
    h.agent.mappingCreated(NAT, HOST, tcpEntry(0));
    h.advance(200_000, 500);
    const sent = h.takeType(MessageType.HELLO);
    expect(sent.map((s) => s.at - start)).toEqual([0, 1000, 3000, 7000, 15000, 31000, 63000, 123000, 183000]);
    expect(new Set(sent.map((s) => s.message.sequence)).size).toBe(sent.length);
    expect(sent.every((s) => s.message.cookie === 0n)).toBe(true);
  });

  it('sends a keepalive HELLO with the cookie and stays up while it is answered', () => {
    const h = new Harness({ keepaliveMs: 10_000 });
    const receiver = connect(h);
    const start = h.now;
    for (let i = 0; i < 3; i++) {
      h.advance(10_000, 1000);
      const [keepalive] = h.takeType(MessageType.HELLO);
      expect(keepalive!.at - start).toBe(10_000 * (i + 1));
      expect(keepalive!.message.cookie).toBe(COOKIE);
      receiver.answerHello();
    }
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.AUTHORITATIVE);
    expect(h.events.down).toEqual([]);
  });

  it('loses a peer whose HELLOs go unanswered, then brings it back with onPeerUp when it answers', () => {
    const h = new Harness({ keepaliveMs: 10_000, helloAttemptsBeforeLost: 3 });
    const receiver = connect(h);
    const start = h.now;
    h.advance(10_000 + 7_000, 500);
    // Keepalive, retries 1 s and 2 s later, lost 4 s after the last: straight back to Cookie 0 (6.2).
    expect(hellos(h).map((hello) => hello.cookie)).toEqual([COOKIE, COOKIE, COOKIE, 0n]);
    expect(h.events.down).toEqual([{ natAddress: NAT, host: HOST, state: PeerState.SILENT }]);
    expect(h.agent.isAuthoritative(NAT, HOST)).toBe(false);
    expect(h.now - start).toBe(17_000);
    receiver.answerHello();
    expect(h.events.up.map((event) => event.state)).toEqual([PeerState.AUTHORITATIVE, PeerState.AUTHORITATIVE]);
  });

  it('calls a host port-closed on ICMP port unreachable, backs its HELLOs off beyond the interval and sends only what it opened before', () => {
    const h = new Harness({ helloIntervalMs: 60_000, helloMaxIntervalMs: 240_000 });
    h.agent.mappingCreated(NAT, HOST, tcpEntry(0));
    const start = h.now;
    h.agent.portUnreachable(NAT, HOST);
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.PORT_CLOSED);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(1));
    h.advance(800_000, 1000);
    const sent = h.takeType(MessageType.HELLO).map((s) => s.at - start);
    expect(sent).toEqual([0, 60_000, 120_000, 240_000, 480_000, 720_000]);
    expect(h.agent.counters.get('portUnreachable')).toBe(1);
    // The entry opened before the unreachable came leaves once; the one after it is suppressed.
    const created = h.takeType(MessageType.CREATED);
    expect(created).toHaveLength(1);
    expect((created[0]!.message as Created).entries).toEqual([tcpEntry(0)]);
    expect(h.agent.counters.get('portClosedSuppressed')).toBe(1);
  });

  it('probes a peer that answers when a port unreachable comes back, and calls it port-closed if the probe fails', () => {
    const h = new Harness({ helloAttemptsBeforeLost: 2 });
    connect(h);
    h.agent.portUnreachable(NAT, HOST);
    expect(hellos(h).map((hello) => hello.cookie)).toEqual([COOKIE]);
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.AUTHORITATIVE);
    h.advance(5_000, 500);
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.PORT_CLOSED);
    expect(h.events.down.map((event) => event.state)).toEqual([PeerState.PORT_CLOSED]);
  });

  it('adopts a changed cookie at once and sends every outstanding message again under it', () => {
    const h = new Harness({ keepaliveMs: 5_000 });
    const receiver = connect(h);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(1));
    h.agent.flush();
    h.now += 5;
    h.agent.flush();
    const [created] = h.takeType(MessageType.CREATED);
    expect(created!.message.cookie).toBe(COOKIE);
    h.advance(5_000);
    h.takeType(MessageType.CREATED);
    receiver.script.cookie = 0x1111n;
    receiver.answerHello();
    expect(h.agent.counters.get('cookieChanged')).toBe(1);
    const [keepalive, second] = hellos(h);
    expect([keepalive!.cookie, second!.cookie]).toEqual([COOKIE, 0x1111n]);
    const [again] = h.takeType(MessageType.CREATED);
    expect([again!.message.sequence, again!.message.cookie]).toEqual([1, 0x1111n]);
    expect(h.events.up).toHaveLength(1);
  });

  it('repeats the HELLO exchange with cookie 0 after RETRIES_BEFORE_HELLO retransmissions (6.2)', () => {
    const h = new Harness({ keepaliveMs: 3_600_000 });
    const receiver = connect(h);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(1));
    h.now += 5;
    h.agent.flush();
    const sentAt = h.now;
    h.take();
    h.advance(70_000, 500);
    const retransmissions = h.takeType(MessageType.CREATED).map((s) => s.at - sentAt);
    expect(retransmissions).toEqual([1000, 3000, 7000, 15000, 31000, 63000]);
    expect(retransmissions).toHaveLength(Reliability.RETRIES_BEFORE_HELLO);
    const [repeat] = hellos(h);
    expect(repeat!.cookie).toBe(0n);
    expect(h.agent.counters.get('helloAfterRetries')).toBe(1);
    receiver.answerHello();
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.AUTHORITATIVE);
    expect(h.agent.peers()[0]!.inFlight).toBe(1);
  });

  it('starts a new epoch toward a receiver that answers HELLO but acknowledges nothing (6.3, Appendix B)', () => {
    const h = new Harness({ keepaliveMs: 3_600_000 });
    const receiver = connect(h);
    const reannounced: number[] = [];
    h.onUp = () => {
      reannounced.push(h.now);
      h.agent.mappingCreated(NAT, HOST, tcpEntry(7));
    };
    h.agent.mappingCreated(NAT, HOST, tcpEntry(1));
    h.now += 5;
    h.agent.flush();
    // The receiver answers every HELLO of the first epoch and never acknowledges.
    let restartHello: Hello | undefined;
    for (let step = 0; step < 600 && restartHello === undefined; step++) {
      h.advance(1000);
      for (const hello of hellos(h)) {
        if (hello.epoch === EPOCH) receiver.deliver(receiver.helloAckBytes(hello.sequence));
        else restartHello = hello;
      }
    }
    expect(h.agent.counters.get('epochsRestarted')).toBe(1);
    const created = h.takeType(MessageType.CREATED).filter((s) => s.message.epoch === EPOCH);
    // 6 retransmissions, the repeated exchange, 6 more without progress.
    expect(created).toHaveLength(1 + 2 * Reliability.RETRIES_BEFORE_HELLO);
    expect(h.events.down.map((event) => event.state)).toEqual([PeerState.SILENT]);
    expect(h.agent.counters.get('entriesAbandoned')).toBe(1);
    expect(restartHello!.cookie).toBe(0n);
    const epoch = restartHello!.epoch;
    expect(epoch).not.toBe(EPOCH);
    receiver.script.epoch = epoch;
    receiver.deliver(receiver.helloAckBytes(restartHello!.sequence));
    expect(reannounced).toHaveLength(1);
    h.now += 5;
    h.agent.flush();
    const [fresh] = h.takeType(MessageType.CREATED).map((s) => s.message as Created);
    expect([fresh!.epoch, fresh!.sequence, fresh!.entries[0]!.natPort]).toEqual([epoch, 1, 40007]);
  });
});
