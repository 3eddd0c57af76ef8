import { HANDOFF_PORT, MessageType } from '@nat64/handoff-codec';
import { describe, expect, it } from 'vitest';
import { PeerState } from '@nat64/handoff-agent';
import { Harness, ScriptedReceiver } from './helpers/harness.js';
import { COOKIE, HOST, NAT, tcpEntry } from './helpers/entries.js';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

describe('agent transport hooks', () => {
  it("tells the receiver's capabilities and the VNI of its cookie once a HELLO-ACK is accepted, and nothing before", () => {
    const h = new Harness();
    const receiver = new ScriptedReceiver(h);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(9999));
    expect(h.agent.peerCapabilities(NAT, HOST)).toBe(-1);
    expect(h.agent.peerCookieLow24(NAT, HOST)).toBe(-1);
    receiver.answerHello();
    expect(h.agent.peerCapabilities(NAT, HOST)).toBe(1);
    expect(h.agent.peerCookieLow24(NAT, HOST)).toBe(Number(COOKIE & 0xffffffn));
    expect(h.agent.peerCapabilities(NAT, HOST + 1)).toBe(-1);
  });

  it('with a key, accepts an untagged reply only when the transport authenticated it (a Geneve authentication option)', () => {
    const h = new Harness({ key: KEY });
    const receiver = new ScriptedReceiver(h);
    h.agent.mappingCreated(NAT, HOST, tcpEntry(9999));
    const hello = h.log.filter((sent) => sent.message.type === MessageType.HELLO).at(-1)!;
    const untagged = receiver.helloAckBytes(hello.message.sequence);
    h.agent.receive(NAT, HOST, HANDOFF_PORT, untagged);
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.SILENT);
    expect(h.agent.counters.get('authenticationFailed')).toBe(1);
    h.agent.receive(NAT, HOST, HANDOFF_PORT, untagged, true);
    expect(h.agent.peerState(NAT, HOST)).toBe(PeerState.AUTHORITATIVE);
  });
});
