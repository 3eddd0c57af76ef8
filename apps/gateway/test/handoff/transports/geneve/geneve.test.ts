import { Capability, MessageType, type HandoffEntry } from '@nat64/handoff-codec';
import { PeerState } from '@nat64/handoff-agent';
import { silentLogger } from '@nat64/service';
import { ipv4TextToUint32 } from '@nat64/wire';
import { describe, expect, it } from 'vitest';
import { GeneveTransport, type HandoffTransport, type TransportContext } from '@nat64/gateway-handoff';
import { POOL4, SERVER, testGateway } from '../../../support/gateway.js';

const NAT = ipv4TextToUint32(POOL4);
const HOST = ipv4TextToUint32(SERVER);

/** What the receiver's HELLO-ACK told the agent, and what the glue asked of it. */
class StubAgent {
  capabilities = -1;
  cookieLow24 = -1;
  state: PeerState = PeerState.UNKNOWN;
  readonly calls: string[] = [];
  peerCapabilities(): number {
    return this.capabilities;
  }
  peerCookieLow24(): number {
    return this.cookieLow24;
  }
  peerState(): PeerState {
    return this.state;
  }
  isAuthoritative(): boolean {
    return this.state === PeerState.AUTHORITATIVE;
  }
  portUnreachable(): void {
    this.calls.push('portUnreachable');
  }
  mappingCreated(): void {
    this.calls.push('mappingCreated');
  }
  mappingDeleted(): void {
    this.calls.push('mappingDeleted');
  }
  receive(): void {
    this.calls.push('receive');
  }
}

/** The fallback of mode auto: records the datagrams it is asked to send on UDP 62863, and keeps its context. */
function messagesStub(sent: Uint8Array[], contexts: TransportContext[]): (context: TransportContext) => HandoffTransport {
  return (context) => {
    contexts.push(context);
    return {
      send: (_nat, _host, payload) => void sent.push(payload.slice()),
      mappingCreated: () => {},
      mappingDeleted: () => {},
      peerUp: () => {},
      start: () => {},
      stop: () => {},
      tick: () => {},
      batchEnd: () => {},
      hostTransport: () => ({ transport: 'handoff', vni: null }),
      counterLines: () => [],
    };
  };
}

function setup(mode: 'geneve' | 'auto', maxDuePerTunnel?: number) {
  const g = testGateway({ logLevel: 'silent' });
  const handoffSent: Uint8Array[] = [];
  const fallbackContexts: TransportContext[] = [];
  const agent = new StubAgent();
  const announced: number[] = [];
  const context: TransportContext = {
    engine: g.engine,
    clock: g.clock.read,
    logger: silentLogger(),
    agent,
    inbound: agent,
    mappings: { announce: (_n, host) => void announced.push(host), handedOff: () => 0 },
    maxDatagram: 1372,
    key: undefined,
    failed: (error) => {
      throw error;
    },
  };
  const geneve = new GeneveTransport(context, {
    settings: { optionClass: 0xff64, keyId: 1, createdPackets: 3, refreshMs: 60_000, flowHashSeed: 0 },
    fallback: mode === 'auto' ? messagesStub(handoffSent, fallbackContexts) : null,
    ...(maxDuePerTunnel === undefined ? {} : { maxDuePerTunnel }),
  });
  geneve.start();
  /** UDP packets the gateway wrote: [source port, destination port, first payload byte after the Geneve header or -1]. */
  const written = () =>
    g.tun.takeWritten().map((p) => {
      const udp = (p[0]! & 0x0f) * 4;
      return {
        sport: (p[udp]! << 8) | p[udp + 1]!,
        dport: (p[udp + 2]! << 8) | p[udp + 3]!,
        geneveVni: (p[udp + 12]! << 16) | (p[udp + 13]! << 8) | p[udp + 14]!,
        oam: (p[udp + 9]! & 0x80) !== 0,
      };
    });
  return { g, geneve, agent, handoffSent, written, announced, fallbackContexts };
}

/** A handoff v1 header of `type` (the glue reads only the type octet), padded. */
function datagramOf(type: number): Uint8Array {
  const bytes = new Uint8Array(40);
  bytes[0] = 1;
  bytes[1] = type;
  return bytes;
}

const ENTRY: HandoffEntry = {
  protocol: 6,
  reason: 0,
  natAddress: NAT,
  natPort: 40000,
  clientAddress: new Uint8Array(16),
  clientPort: 5000,
  serverAddress: HOST,
  serverPort: 80,
  time: 1_700_000_000_000_000,
};

describe('geneve', () => {
  it('in mode auto, sends HELLOs both ways and other messages as handoff datagrams while a host has no tunnel', () => {
    const { geneve, handoffSent, written } = setup('auto');
    geneve.send(NAT, HOST, datagramOf(MessageType.HELLO));
    geneve.send(NAT, HOST, datagramOf(MessageType.CREATED));
    expect(handoffSent.map((d) => d[1])).toEqual([MessageType.HELLO, MessageType.CREATED]);
    expect(written()).toEqual([{ sport: 6081, dport: 6081, geneveVni: 0, oam: true }]);
  });

  it('moves a host whose receiver announces Geneve into a tunnel with its cookie VNI, and sends everything there', () => {
    const { geneve, agent, handoffSent, written, announced } = setup('auto');
    agent.state = PeerState.AUTHORITATIVE;
    agent.capabilities = Capability.HANDOFF_V1 | Capability.GENEVE;
    agent.cookieLow24 = 0xabcdef;
    geneve.reconsider(NAT, HOST, true);
    expect(geneve.hostTransport(NAT, HOST)).toEqual({ transport: 'geneve', vni: 0xabcdef });
    expect(announced).toEqual([HOST]);
    geneve.send(NAT, HOST, datagramOf(MessageType.HELLO));
    expect(handoffSent).toEqual([]);
    expect(written()).toEqual([{ sport: 6081, dport: 6081, geneveVni: 0xabcdef, oam: true }]);
    // Mapping changes become options and Deleted control packets, not agent messages.
    geneve.mappingCreated(NAT, HOST, ENTRY);
    expect(geneve.tunnels.get(NAT, HOST)!.due.size).toBe(1);
    geneve.mappingDeleted(NAT, HOST, ENTRY, 1);
    expect(geneve.tunnels.get(NAT, HOST)!.due.size).toBe(0);
    expect(written()).toEqual([{ sport: 6081, dport: 6081, geneveVni: 0xabcdef, oam: true }]);
    expect(agent.calls).toEqual([]);
    expect(geneve.counters.get('deletedSent')).toBe(1);
  });

  it('has housework for the timer only while it has a tunnel', () => {
    const { geneve, agent } = setup('geneve');
    expect(geneve.hasHousework()).toBe(false);
    agent.state = PeerState.AUTHORITATIVE;
    agent.capabilities = Capability.HANDOFF_V1 | Capability.GENEVE;
    agent.cookieLow24 = 0xabcdef;
    geneve.reconsider(NAT, HOST, true);
    expect(geneve.hasHousework()).toBe(true);
    agent.capabilities = Capability.HANDOFF_V1;
    geneve.reconsider(NAT, HOST, false);
    expect(geneve.tunnels.size).toBe(0);
    expect(geneve.hasHousework()).toBe(false);
  });

  it('sends a new mapping as a reliable CREATED inside a control packet when too many options already wait on the tunnel', () => {
    const { geneve, agent } = setup('auto', 2);
    agent.state = PeerState.AUTHORITATIVE;
    agent.capabilities = Capability.GENEVE;
    agent.cookieLow24 = 7;
    geneve.reconsider(NAT, HOST, false);
    for (const natPort of [40000, 40001, 40002]) geneve.mappingCreated(NAT, HOST, { ...ENTRY, natPort });
    expect(geneve.tunnels.get(NAT, HOST)!.due.size).toBe(2);
    expect(agent.calls).toEqual(['mappingCreated']);
    expect(geneve.counters.get('dueFull')).toBe(1);
  });

  it('keeps a host on handoff messages when its receiver does not announce Geneve, and takes it back when it stops', () => {
    const { geneve, agent } = setup('auto');
    agent.state = PeerState.AUTHORITATIVE;
    agent.capabilities = Capability.HANDOFF_V1;
    agent.cookieLow24 = 5;
    geneve.reconsider(NAT, HOST, true);
    expect(geneve.hostTransport(NAT, HOST).transport).toBe('handoff');
    geneve.mappingCreated(NAT, HOST, ENTRY);
    expect(agent.calls).toEqual(['mappingCreated']);
    agent.capabilities = Capability.GENEVE;
    geneve.reconsider(NAT, HOST, true);
    expect(geneve.hostTransport(NAT, HOST).transport).toBe('geneve');
    agent.capabilities = Capability.HANDOFF_V1;
    geneve.reconsider(NAT, HOST, true);
    expect(geneve.hostTransport(NAT, HOST).transport).toBe('handoff');
    expect(geneve.counters.get('switchedToHandoff')).toBe(1);
  });

  it('closes the tunnel of a host whose port 6081 is closed and lets the agent probe it, but ignores 62863 errors for tunnel hosts', () => {
    const { geneve, agent, fallbackContexts } = setup('auto');
    agent.state = PeerState.AUTHORITATIVE;
    agent.capabilities = Capability.GENEVE;
    agent.cookieLow24 = 5;
    geneve.reconsider(NAT, HOST, true);
    fallbackContexts[0]!.inbound.portUnreachable(NAT, HOST);
    expect(agent.calls).toEqual([]);
    (geneve as unknown as { genevePortUnreachable(n: number, h: number): void }).genevePortUnreachable(NAT, HOST);
    expect(geneve.hostTransport(NAT, HOST).transport).toBe('handoff');
    expect(agent.calls).toEqual(['portUnreachable']);
    // Still refused until the receiver speaks Geneve again.
    geneve.reconsider(NAT, HOST, true);
    expect(geneve.hostTransport(NAT, HOST).transport).toBe('handoff');
  });

  it('in mode auto, hands a datagram from 62863 to the agent through its fallback, then puts the host in a tunnel if it announced Geneve', () => {
    const { geneve, agent, fallbackContexts, announced } = setup('auto');
    agent.state = PeerState.AUTHORITATIVE;
    agent.capabilities = Capability.HANDOFF_V1 | Capability.GENEVE;
    agent.cookieLow24 = 9;
    fallbackContexts[0]!.inbound.receive(NAT, HOST, 62863, datagramOf(MessageType.HELLO_ACK));
    expect(agent.calls).toEqual(['receive']);
    expect(geneve.hostTransport(NAT, HOST)).toEqual({ transport: 'geneve', vni: 9 });
    expect(announced).toEqual([HOST]);
  });

  it('in mode geneve, sends every message as a control packet and nothing on 62863', () => {
    const { geneve, handoffSent, written } = setup('geneve');
    geneve.send(NAT, HOST, datagramOf(MessageType.HELLO));
    geneve.send(NAT, HOST, datagramOf(MessageType.CREATED));
    expect(handoffSent).toEqual([]);
    expect(written().map((p) => p.oam)).toEqual([true, true]);
  });
});
