// Cache misses toward authoritative hosts (handoff v1 section 6.5): an IPv4 packet from host H to a
// NAT address and port that has no session is copied into a bounded queue for its key (protocol,
// NAT address, NAT port, H), one QUERY asks H who owns the key, and the ANSWER decides: FOUND
// restores the session (handed off) and the held packets are re-injected; NOT_FOUND,
// NOT_AUTHORITATIVE or a timeout give them back to the NAT64 as the misses they are, so they get
// exactly the answer a plain NAT64 gives (RFC 6146: UDP port unreachable, TCP and ICMP dropped).
// A miss from a host the gateway has never met (after a restart, say) starts the HELLO exchange and
// waits for it briefly: if the host's receiver turns out authoritative, the QUERY goes out then.

import { readSessionPorts, SessionPorts } from '@nat64/gateway-engine';
import type { HandoffEntry } from '@nat64/handoff-codec';
import { PeerState, QueryOutcome, QueryVerdict, type HandoffAgent } from '@nat64/handoff-agent';
import { PROTOCOL } from '@nat64/nat64';
import type { Counters } from '@nat64/service';
import type { Ipv4View } from '@nat64/xlat';
import type { HandoffCounterName } from './counters.js';
import { IMPL, SPEC } from './constants.js';
import { PacketHold, type HeldPackets, type MissLimits } from './held-packets.js';
import type { MappingTracker } from './tracker.js';

export type { MissLimits } from './held-packets.js';

const PORTS = new SessionPorts();

/** The agent calls the miss queue makes (HandoffAgent implements them). */
export type QueryAgent = Pick<HandoffAgent, 'peerState' | 'probe' | 'query'>;

/** The packets waiting for one QUERY (token > 0), or for the HELLO exchange before it (token 0); their server port is their source port. */
interface Pending extends HeldPackets {
  readonly key: string;
  token: number;
  readonly protocol: number;
  readonly natAddress: number;
  readonly natPort: number;
  readonly host: number;
}

/**
 * The miss handler and the queue behind it. Contract: `miss` is the engine's MissHandler (never throws,
 * returns false for hosts that are not authoritative, so the NAT64 answers as usual); `answered` is the
 * agent's onAnswer; `reinject` hands a packet back to the engine's inbound path (Engine.reinjectIpv4).
 * Each held packet is a copy, bounded per key, in number and in bytes.
 */
export class MissQueue {
  private readonly byKey = new Map<string, Pending>();
  private readonly byToken = new Map<number, Pending>();
  /** Keys waiting for a probed host's HELLO-ACK, by peer, with the time the probe started. */
  private readonly waiting = new Map<string, { since: number; keys: Pending[] }>();
  private nextToken = 1;
  private readonly held: PacketHold;

  constructor(
    private readonly agent: QueryAgent,
    private readonly tracker: MappingTracker,
    private readonly reinject: (buffer: Uint8Array, offset: number, length: number, vnet: Uint8Array | null) => void,
    limits: MissLimits,
    private readonly counters: Counters<HandoffCounterName>,
    private readonly clock: () => number,
    private readonly waitMs: number = IMPL.MISS_PROBE_WAIT_MS,
  ) {
    this.held = new PacketHold(limits);
  }

  /** Packets held now. */
  get packets(): number {
    return this.held.packets;
  }

  /** Keys with a QUERY out. */
  get keys(): number {
    return this.byKey.size;
  }

  /** The engine's MissHandler: takes packets from authoritative hosts (and unknown ones, probed), leaves the rest to the NAT64. */
  miss(v: Ipv4View, _verdict: number, vnet: Uint8Array | null = null): boolean {
    const natAddress = v.dst;
    const host = v.src;
    const state = this.agent.peerState(natAddress, host);
    const peerKey = `${natAddress}/${host}`;
    const waiting = this.waiting.get(peerKey);
    if (state !== PeerState.AUTHORITATIVE && state !== PeerState.UNKNOWN && waiting === undefined) return false;
    if (!readSessionPorts(v, true, PORTS)) return false;
    const { protocol, near: natPort, server: serverPort } = PORTS;
    // Only a reply answers a client's echo mapping; a server's own echo request has no mapping to find.
    if (protocol === PROTOCOL.ICMP && v.icmpType !== SPEC.ICMP4_ECHO_REPLY) return false;
    const key = `${protocol}/${natAddress}/${natPort}/${host}`;
    const pending = this.byKey.get(key);
    if (this.held.full(pending, v.end - v.start)) {
      this.counters.add('missesDropped');
      return true;
    }
    if (pending !== undefined) {
      this.held.hold(pending, v.buf, v.start, v.end, serverPort, vnet);
      this.counters.add('missesJoined');
      return true;
    }
    const created: Pending = { key, token: 0, protocol, natAddress, natPort, host, packets: [], headers: [], serverPorts: [] };
    if (state === PeerState.AUTHORITATIVE) {
      const verdict = this.ask(created, serverPort);
      if (verdict === QueryVerdict.NOT_AUTHORITATIVE) return false;
      if (verdict !== QueryVerdict.SENT && verdict !== QueryVerdict.JOINED) {
        this.counters.add('missesQueryRefused');
        return true;
      }
      this.counters.add('missesQueried');
    } else {
      // A host never met (UNKNOWN), or one being probed for another key: wait for its HELLO-ACK.
      let list = waiting;
      if (list === undefined) {
        if (this.agent.probe(natAddress, host) === PeerState.UNKNOWN) return false;
        list = { since: this.clock(), keys: [] };
        this.waiting.set(peerKey, list);
      }
      list.keys.push(created);
      this.counters.add('missesAwaitingHost');
    }
    this.byKey.set(key, created);
    this.held.hold(created, v.buf, v.start, v.end, serverPort, vnet);
    return true;
  }

  /** A receiver came up: the keys waiting for it are asked about now, or given back if it holds no authority. */
  peerUp(natAddress: number, host: number, state: PeerState): void {
    const peerKey = `${natAddress}/${host}`;
    const list = this.waiting.get(peerKey);
    if (list === undefined) return;
    this.waiting.delete(peerKey);
    for (const pending of list.keys) {
      const verdict = state === PeerState.AUTHORITATIVE ? this.ask(pending, pending.serverPorts[0]!) : QueryVerdict.NOT_AUTHORITATIVE;
      if (verdict === QueryVerdict.SENT || verdict === QueryVerdict.JOINED) this.counters.add('missesQueried');
      else this.giveBack(pending, 'missesNotFound');
    }
  }

  /** Whether packets wait for a probed host's HELLO-ACK, so that tick() has work. O(1). */
  get awaitingHosts(): boolean {
    return this.waiting.size > 0;
  }

  /** Gives back the keys whose probed host stayed silent for the wait (call from the agent's timer). */
  tick(): void {
    if (this.waiting.size === 0) return;
    const now = this.clock();
    for (const [peerKey, list] of this.waiting) {
      if (now - list.since < this.waitMs) continue;
      this.waiting.delete(peerKey);
      for (const pending of list.keys) this.giveBack(pending, 'missesTimedOut');
    }
  }

  /** The agent's onAnswer. `entry` is valid during the call only. */
  answered(token: number, outcome: QueryOutcome, entry: HandoffEntry | null): void {
    const pending = this.byToken.get(token);
    if (pending === undefined) return;
    this.byToken.delete(token);
    if (outcome === QueryOutcome.FOUND && entry !== null) {
      // The agent matched the entry to the key: its NAT address, port and protocol are the pending ones.
      this.counters.add('restoreFailed', this.tracker.restore(entry, pending.host, pending.serverPorts, false));
      this.giveBack(pending, 'missesRestored');
    } else {
      this.giveBack(pending, outcome === QueryOutcome.TIMED_OUT ? 'missesTimedOut' : 'missesNotFound');
    }
  }

  /** Forgets every held packet (shutdown). */
  clear(): void {
    this.byKey.clear();
    this.byToken.clear();
    this.waiting.clear();
    this.held.clear();
  }

  /** Sends the QUERY for a key; the first packet's source port is the "as seen from" of section 5.8. */
  private ask(pending: Pending, serverPort: number): QueryVerdict {
    const token = this.nextToken;
    this.nextToken = token >= 0x7fff_ffff ? 1 : token + 1;
    const verdict = this.agent.query(pending.natAddress, pending.host, pending.protocol, pending.natPort, pending.host, serverPort, token);
    if (verdict === QueryVerdict.SENT || verdict === QueryVerdict.JOINED) {
      pending.token = token;
      this.byToken.set(token, pending);
    }
    return verdict;
  }

  /** Ends a key: each held packet goes through the inbound path once more, never to the miss handler. */
  private giveBack(pending: Pending, counter: 'missesRestored' | 'missesNotFound' | 'missesTimedOut'): void {
    this.byKey.delete(pending.key);
    this.held.release(pending);
    this.counters.add(counter, pending.packets.length);
    for (const [i, packet] of pending.packets.entries()) this.reinject(packet, 0, packet.length, pending.headers[i]!);
  }
}
