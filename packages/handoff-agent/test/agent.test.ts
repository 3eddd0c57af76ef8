import { describe, expect, it } from 'vitest';
import { Capability, MessageType, datagram } from '@nat64/handoff-codec';
import { HandoffAgent, PeerState } from '@nat64/handoff-agent';
import { connect } from './helpers/connect.js';
import { EPOCH, HOST, HOST2, NAT, NAT2, tcpEntry } from './helpers/entries.js';
import { Harness, ScriptedReceiver } from './helpers/harness.js';

const HOST3 = 0xc633640c;

function hosts(h: Harness): number[] {
  return h.agent
    .peers()
    .map((peer) => peer.host)
    .sort((a, b) => a - b);
}

describe('agent', () => {
  it('evicts the least recently used peer that never answered when the table is full', () => {
    const h = new Harness({ maxPeers: 2 });
    h.agent.mappingCreated(NAT, HOST, tcpEntry(0));
    h.agent.mappingCreated(NAT, HOST2, tcpEntry(1, NAT, HOST2));
    h.agent.mappingCreated(NAT, HOST, tcpEntry(2));
    h.agent.mappingCreated(NAT, HOST3, tcpEntry(3, NAT, HOST3));
    expect(hosts(h)).toEqual([HOST, HOST3]);
    expect(h.agent.counters.get('peersEvicted')).toBe(1);
  });

  it('forgets an evicted peer, even the one it looked up last', () => {
    const h = new Harness({ maxPeers: 1 });
    h.agent.mappingCreated(NAT, HOST, tcpEntry(0));
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.SILENT);
    h.agent.mappingCreated(NAT, HOST2, tcpEntry(1, NAT, HOST2));
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.UNKNOWN);
    expect(h.agent.peerState(NAT, HOST2)).toBe(PeerState.SILENT);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(2));
    expect(hosts(h)).toEqual([HOST]);
    expect(h.agent.counters.get('peersEvicted')).toBe(2);
  });

  it('never evicts a peer that answered, and refuses new hosts when only such peers are left', () => {
    const h = new Harness({ maxPeers: 1 });
    connect(h);
    h.agent.mappingCreated(NAT, HOST2, tcpEntry(1, NAT, HOST2));
    expect(hosts(h)).toEqual([HOST]);
    expect(h.agent.counters.get('peersFull')).toBe(1);
    expect(h.agent.counters.get('entriesWithoutPeer')).toBe(1);
    expect(h.take()).toEqual([]);
  });

  it('keeps one peer per (NAT address, host) pair', () => {
    const h = new Harness();
    connect(h);
    h.agent.mappingCreated(NAT2, HOST, tcpEntry(1, NAT2, HOST));
    expect(h.agent.isAuthoritative(NAT, HOST)).toBe(true);
    expect(h.agent.isAuthoritative(NAT2, HOST)).toBe(false);
    expect(h.agent.peerState(NAT2, HOST)).toBe(PeerState.SILENT);
    expect(h.agent.peerState(NAT2, HOST2)).toBe(PeerState.UNKNOWN);
  });

  it('lists peers for display', () => {
    const h = new Harness();
    const receiver = connect(h, { window: 32 });
    for (let i = 0; i < 40; i++) h.agent.mappingCreated(NAT, HOST, tcpEntry(i));
    h.now += 3;
    receiver.ack(1);
    const [peer] = h.agent.peers();
    expect(peer).toEqual({
      natAddress: NAT,
      host: HOST,
      state: PeerState.AUTHORITATIVE,
      stateName: 'authoritative',
      epoch: EPOCH,
      cookieKnown: true,
      window: 32,
      inFlight: 0,
      queued: 4,
      rtoMs: 200,
      srttMs: 3,
      lastHeardAt: h.now,
      handedOff: 36,
      releaseCumulative: 0,
      queries: 0,
      capabilities: Capability.HANDOFF_V1,
    });
  });

  it('probes a host it holds no peer for with a HELLO, and leaves a known peer as it is', () => {
    const h = new Harness();
    expect(h.agent.probe(NAT, HOST2)).toBe(PeerState.SILENT);
    const [hello] = h.take();
    expect(hello).toMatchObject({ natAddress: NAT, host: HOST2, message: { type: MessageType.HELLO, cookie: 0n, natAddress: NAT } });
    expect(h.agent.probe(NAT, HOST2)).toBe(PeerState.SILENT);
    expect(h.take()).toEqual([]);
    connect(h);
    expect(h.agent.probe(NAT, HOST)).toBe(PeerState.AUTHORITATIVE);
    expect(h.take()).toEqual([]);
    expect(h.agent.counters.get('peersCreated')).toBe(2);
  });

  it('says when tick() next has work: the flush of an open datagram, then the next HELLO', () => {
    const h = new Harness({ flushDelayMs: 5, helloRetryMs: 1000 });
    expect(h.agent.nextDeadline()).toBe(Infinity);
    const start = h.now;
    h.agent.mappingCreated(NAT, HOST, tcpEntry(0));
    // The HELLO went out at once; the fire-and-forget CREATED waits for its datagram to fill.
    expect(h.agent.nextDeadline()).toBe(start + 5);
    h.now = start + 5;
    h.agent.tick();
    expect(h.takeType(MessageType.CREATED)).toHaveLength(1);
    expect(h.agent.nextDeadline()).toBe(start + 1000);
    h.now = start + 1000;
    h.agent.tick();
    expect(h.takeType(MessageType.HELLO)).toHaveLength(2);
    expect(h.agent.nextDeadline()).toBeGreaterThan(start + 1000);
  });

  it('does not create a peer for a deletion toward an unknown host', () => {
    const h = new Harness();
    h.agent.mappingDeleted(NAT, HOST, tcpEntry(0), 1);
    expect(h.agent.peers()).toEqual([]);
    expect(h.agent.counters.get('entriesWithoutPeer')).toBe(1);
  });

  it('counts entries whose fields do not fit the wire, and sends the others', () => {
    const h = new Harness({ flushDelayMs: 0 });
    connect(h);
    h.agent.mappingCreated(NAT, HOST, { ...tcpEntry(0), time: 2 ** 53 });
    h.agent.mappingCreated(NAT, HOST, { ...tcpEntry(1), clientAddress: new Uint8Array(4) });
    h.agent.mappingDeleted(NAT, HOST, tcpEntry(2), 256);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(3));
    h.agent.flush();
    const sent = h.takeType(MessageType.CREATED);
    expect(sent.map((s) => s.message.sequence)).toEqual([1]);
    expect(h.agent.counters.get('entriesInvalid')).toBe(3);
  });

  it('throws for addresses that are not 32-bit integers', () => {
    const h = new Harness();
    expect(() => h.agent.mappingCreated(-1, HOST, tcpEntry(0))).toThrow(RangeError);
    expect(() => h.agent.mappingCreated(NAT, 2 ** 32, tcpEntry(0))).toThrow(RangeError);
  });

  it('counts a throwing event callback or send and carries on', () => {
    const errors: string[] = [];
    const sent: Uint8Array[] = [];
    const agent = new HandoffAgent({
      mode: 'full',
      epoch: EPOCH,
      clock: () => 0,
      send: (_natAddress, _host, payload) => {
        sent.push(payload.slice());
        throw new Error('socket closed');
      },
      onError: (error) => errors.push((error as Error).message),
      events: {
        onPeerUp: () => {
          throw new Error('gateway bug');
        },
      },
    });
    const receiver = new ScriptedReceiver({ agent } as unknown as Harness);
    agent.mappingCreated(NAT, HOST, tcpEntry(0));
    receiver.deliver(receiver.helloAckBytes(datagram.decode(sent[0]!).sequence));
    expect(agent.peerState(NAT, HOST)).toBe(PeerState.AUTHORITATIVE);
    // The first HELLO, the second HELLO, then onPeerUp.
    expect(errors).toEqual(['socket closed', 'socket closed', 'gateway bug']);
    expect([agent.counters.get('sendErrors'), agent.counters.get('eventErrors')]).toEqual([2, 1]);
  });
});
