// The client speaks first (handoff v1 section 5.12): an IPv6 packet of a flow that this gateway
// handed off and evicted from its cache, toward a host whose receiver is authoritative, is copied
// into a bounded queue for its key (protocol, client address and port, host), one CLIENT-QUERY asks
// the host's receiver which NAT port the client holds, and the ANSWER decides. FOUND: the session is
// restored on that port (handed off) and the held packets are re-injected, so the connection goes on
// with the same NAT address and port. NOT_FOUND, NOT_AUTHORITATIVE or a timeout: the packets go back
// to the NAT64 as they came (UDP and ICMP echo get a new mapping, TCP without a SYN is dropped). When
// the port has meanwhile gone to another client, the old connection cannot come back: a TCP client
// gets a RST at once, UDP and echo flows get a new mapping; either way it is counted.
//
// Which packets are asked about: UDP datagrams and ICMP echoes whose flow the memory of evicted
// flows (evicted-flows.ts) holds and whose client holds no mapping now, and TCP segments other than
// a SYN that found no session (a plain NAT64 drops those, so asking costs a new connection nothing;
// this also brings connections back after a gateway restart, when the memory is empty). A new flow
// costs one memory lookup, no round trip.

import { QueryOutcome, QueryVerdict, PeerState, type HandoffAgent } from '@nat64/handoff-agent';
import type { HandoffEntry } from '@nat64/handoff-codec';
import { PROTOCOL } from '@nat64/nat64';
import type { Counters } from '@nat64/service';
import type { ClientMissHandler } from '@nat64/gateway-engine';
import type { Ipv6View } from '@nat64/xlat';
import type { HandoffCounterName } from './counters.js';
import type { EvictedFlows } from './evicted-flows.js';
import { PacketHold, type HeldPackets, type MissLimits } from './held-packets.js';
import type { MappingTracker } from './tracker.js';

/** The agent calls the client-miss queue makes (HandoffAgent implements them). */
export type ClientQueryAgent = Pick<HandoffAgent, 'peerState' | 'probe' | 'clientQuery'>;

/** Tokens of client queries start here, apart from those of the miss queue (1 to 2^31 - 1). */
export const CLIENT_TOKEN_BASE = 0x8000_0000;

/** The packets waiting for one CLIENT-QUERY; their server port is their destination port. */
interface Pending extends HeldPackets {
  readonly key: string;
  token: number;
  readonly protocol: number;
  readonly natAddress: number;
  readonly host: number;
  readonly clientAddress: Uint8Array;
  readonly clientPort: number;
  /** The memory of evicted flows held the flow: the gateway handed it off itself. */
  readonly remembered: boolean;
}

/** What the queue does with packets it hands back, on the engine (Engine.reinjectIpv6, Engine.resetTcp). */
export interface ClientMissOutput {
  reinject(buffer: Uint8Array, offset: number, length: number, vnet: Uint8Array | null): void;
  resetTcp(buffer: Uint8Array, offset: number, length: number): boolean;
}

/**
 * The client-miss handler and its queue. Contract: `miss` is the engine's ClientMissHandler (never
 * throws; false leaves the packet to the NAT64 as today); `answered` takes the agent's answers for
 * tokens from CLIENT_TOKEN_BASE on. Each held packet is a copy, bounded per key, in number and bytes.
 */
export class ClientMissQueue {
  private readonly byKey = new Map<string, Pending>();
  private readonly byToken = new Map<number, Pending>();
  private nextToken = CLIENT_TOKEN_BASE;
  private readonly held: PacketHold;
  /** Where a TCP segment not in the memory is asked about: the pool4 addresses, then those a receiver came up for. */
  private readonly natAddresses: number[];

  constructor(
    private readonly agent: ClientQueryAgent,
    private readonly tracker: MappingTracker,
    private readonly evicted: EvictedFlows,
    private readonly output: ClientMissOutput,
    limits: MissLimits,
    private readonly counters: Counters<HandoffCounterName>,
    pool4: readonly number[] = [],
  ) {
    this.held = new PacketHold(limits);
    this.natAddresses = [...pool4];
  }

  /** Packets held now. */
  get packets(): number {
    return this.held.packets;
  }

  /** Whether new flows are worth a lookup: the memory of evicted flows holds some (ClientMissHandler.armed). */
  get armed(): boolean {
    return this.evicted.size > 0;
  }

  /**
   * The engine's ClientMissHandler (for `noSession` false the engine has checked that the client holds
   * no mapping: with endpoint-independent mapping a live one would serve every host, nothing to ask).
   */
  miss(v: Ipv6View, protocol: number, clientPort: number, host: number, serverPort: number, noSession: boolean, vnet: Uint8Array | null = null): boolean {
    const buf = v.buf;
    const clientOffset = v.srcOffset;
    let natAddress = this.evicted.recall(protocol, buf, clientOffset, clientPort, host, serverPort);
    const remembered = natAddress >= 0;
    if (!remembered) {
      if (!noSession) return false;
      natAddress = this.authoritativeAddress(host);
      if (natAddress < 0) {
        // A host never met (after a restart): ask it for a HELLO now, so that the segment's retransmission finds it.
        const first = this.natAddresses[0];
        if (first !== undefined && this.agent.peerState(first, host) === PeerState.UNKNOWN && this.agent.probe(first, host) !== PeerState.UNKNOWN) {
          this.counters.add('clientMissesAwaitingHost');
        }
        return false;
      }
    } else if (this.agent.peerState(natAddress, host) !== PeerState.AUTHORITATIVE) {
      return false;
    }
    const key = `${protocol}/${hex(buf, clientOffset)}/${clientPort}/${host}`;
    const pending = this.byKey.get(key);
    if (this.held.full(pending, v.end - v.start)) {
      this.counters.add('clientMissesDropped');
      return true;
    }
    if (pending !== undefined) {
      this.held.hold(pending, buf, v.start, v.end, serverPort, vnet);
      this.counters.add('clientMissesJoined');
      return true;
    }
    // A real copy: the receive buffer is a Buffer, whose slice() would only be a view into it.
    const clientAddress = new Uint8Array(16);
    clientAddress.set(buf.subarray(clientOffset, clientOffset + 16));
    const token = this.nextToken;
    this.nextToken = token >= 0xffff_fffe ? CLIENT_TOKEN_BASE : token + 1;
    const verdict = this.agent.clientQuery(natAddress, host, { protocol, clientAddress, clientPort, serverAddress: host, serverPort }, token);
    if (verdict !== QueryVerdict.SENT && verdict !== QueryVerdict.JOINED) {
      if (verdict !== QueryVerdict.NOT_AUTHORITATIVE) this.counters.add('clientMissesQueryRefused');
      return false;
    }
    const created: Pending = { key, token, protocol, natAddress, host, clientAddress, clientPort, remembered, packets: [], headers: [], serverPorts: [] };
    this.byKey.set(key, created);
    this.byToken.set(token, created);
    this.counters.add('clientMissesQueried');
    this.held.hold(created, buf, v.start, v.end, serverPort, vnet);
    return true;
  }

  /** The agent's onAnswer for client tokens. `entry` is valid during the call only. */
  answered(token: number, outcome: QueryOutcome, entry: HandoffEntry | null): void {
    const pending = this.byToken.get(token);
    if (pending === undefined) return;
    this.byToken.delete(token);
    this.byKey.delete(pending.key);
    for (const serverPort of new Set(pending.serverPorts)) {
      this.evicted.forget(pending.protocol, pending.clientAddress, 0, pending.clientPort, pending.host, serverPort);
    }
    if (outcome === QueryOutcome.FOUND && entry !== null) {
      // The agent matched the entry to the client asked about; its NAT address and port are the receiver's.
      if (this.tracker.restore(entry, pending.host, pending.serverPorts, true) === 0) {
        this.giveBack(pending, 'clientMissesRestored');
        return;
      }
      // The NAT port went to another client toward another host meanwhile: the old connection is over.
      this.counters.add('clientRestoreConflicts');
      if (pending.protocol === PROTOCOL.TCP) this.reset(pending);
      else this.giveBack(pending, 'clientMissesNewMapping');
      return;
    }
    // A TCP connection this gateway handed off that the receiver no longer holds (it gave way to a new
    // client on its NAT port toward the same host, or the receiver ended it) is over as well.
    if (outcome === QueryOutcome.NOT_FOUND && pending.remembered && pending.protocol === PROTOCOL.TCP) {
      this.counters.add('clientConnectionsGone');
      this.reset(pending);
      return;
    }
    this.giveBack(pending, outcome === QueryOutcome.TIMED_OUT ? 'clientMissesTimedOut' : 'clientMissesNotFound');
  }

  /** Answers the first held segment with a RST to the client and drops the rest. */
  private reset(pending: Pending): void {
    const first = pending.packets[0]!;
    if (this.output.resetTcp(first, 0, first.length)) this.counters.add('clientResetsSent');
    this.held.release(pending);
  }

  /** A receiver came up for `natAddress`: a TCP segment without a session toward its host may be asked about on it. */
  peerUp(natAddress: number, state: PeerState): void {
    if (state === PeerState.AUTHORITATIVE && !this.natAddresses.includes(natAddress)) this.natAddresses.push(natAddress);
  }

  /** Forgets every held packet (shutdown). */
  clear(): void {
    this.byKey.clear();
    this.byToken.clear();
    this.held.clear();
  }

  /** The first NAT address whose receiver on `host` is authoritative, or -1. */
  private authoritativeAddress(host: number): number {
    for (const natAddress of this.natAddresses) if (this.agent.peerState(natAddress, host) === PeerState.AUTHORITATIVE) return natAddress;
    return -1;
  }

  private giveBack(pending: Pending, counter: HandoffCounterName): void {
    this.counters.add(counter, pending.packets.length);
    this.held.release(pending);
    for (const [i, packet] of pending.packets.entries()) this.output.reinject(packet, 0, packet.length, pending.headers[i]!);
  }
}

/**
 * The queue as the engine's ClientMissHandler, a bug in `miss` counted through `failed` rather than
 * thrown into the datapath. A class, not an object literal: the datapath reads `armed` for every UDP
 * datagram and echo, and V8 inlines a getter of a class's prototype where it calls the generic
 * property load for a getter of a literal.
 */
export class ClientMissHook implements ClientMissHandler {
  constructor(
    private readonly queue: ClientMissQueue,
    private readonly failed: (error: unknown) => void,
  ) {}

  get armed(): boolean {
    return this.queue.armed;
  }

  miss(v: Ipv6View, protocol: number, clientPort: number, server: number, serverPort: number, noSession: boolean, vnet: Uint8Array | null): boolean {
    try {
      return this.queue.miss(v, protocol, clientPort, server, serverPort, noSession, vnet);
    } catch (error) {
      this.failed(error);
      return false;
    }
  }
}

function hex(buf: Uint8Array, offset: number): string {
  let text = '';
  for (let i = offset; i < offset + 16; i++) text += (buf[i]! + 0x100).toString(16).slice(1);
  return text;
}
