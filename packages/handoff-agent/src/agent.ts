// HandoffAgent: the gateway's side of handoff protocol v1 as pure state. The gateway owns every
// socket, device and timer; it calls in with mapping changes, received datagrams, ICMP errors and
// ticks, and the agent calls back with datagrams to send and events to act on.
import { MessageType, type HandoffEntry } from '@nat64/handoff-codec';
import type { Counters } from '@nat64/service';
import { PEER_STATE_NAMES, PeerState, type QueryVerdict } from './constants.js';
import { AgentCore } from './core.js';
import type { AgentCounterName } from './counters.js';
import { helloDue, portUnreachable, restartEpoch, startProbe } from './hello.js';
import { receive } from './inbound.js';
import { abandonOpen, appendEntry, flush, retransmit } from './outbound.js';
import { Peer } from './peer.js';
import { issueClientQuery, issueQuery, queriesDue, type ClientQuestion } from './queries.js';
import { resolveOptions, type HandoffAgentOptions } from './options.js';

/** One peer as `hosts` displays it. */
export interface PeerSummary {
  natAddress: number;
  host: number;
  state: PeerState;
  stateName: string;
  /** The epoch toward this peer: the agent's, unless a new one was started toward it (Appendix B). */
  epoch: bigint;
  cookieKnown: boolean;
  /** Window in use: the receiver's, bounded by maxWindow; 1 before a HELLO-ACK. */
  window: number;
  /** Reliable messages sent and not yet acknowledged in order. */
  inFlight: number;
  /** Entries waiting to be sent reliably. */
  queued: number;
  rtoMs: number;
  /** Smoothed round-trip time; null before the first sample. */
  srttMs: number | null;
  /** Clock time of the last valid datagram from the peer; null if none. */
  lastHeardAt: number | null;
  /** Entries reported handed off to this peer. */
  handedOff: number;
  /** Every RELEASE up to this sequence number is applied. */
  releaseCumulative: number;
  queries: number;
  /** Capabilities of the receiver's last accepted HELLO-ACK (Capability bits); -1 before the first. */
  capabilities: number;
}

function checkAddress(value: number, name: string): void {
  if (!(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff)) {
    throw new RangeError(`${name} must be an IPv4 address as an integer from 0 to 2^32-1, got ${String(value)}`);
  }
}

/**
 * The gateway's handoff agent. Contract:
 * - Single-threaded and synchronous: call it from the gateway's event loop only. Nothing it does
 *   blocks or throws for anything the network says; per entry it only copies the entry into a
 *   datagram buffer from a recycled pool.
 * - mappingCreated/mappingDeleted once per mapping toward a host (the first session of a BIB entry
 *   toward H created, the last one ended). Entries are copied into datagrams during the call.
 * - tick() after every packet batch, and on a timer at nextDeadline() when no batch comes by then
 *   (for the delay bound to hold); tick(true) when the datapath is about to go idle (its input queue
 *   is drained), so that what is open leaves with that batch instead of on a wake-up of its own.
 * - receive() for every UDP payload to a NAT address on port 62863; portUnreachable() for every
 *   ICMP port unreachable quoting a datagram from A:62863 to H:62863.
 * - Throws only for programming errors: bad options, and addresses or query fields outside their range.
 */
export class HandoffAgent {
  readonly counters: Counters<AgentCounterName>;
  /** The gateway's epoch (§6.2). */
  readonly epoch: bigint;
  private readonly core: AgentCore;

  constructor(options: HandoffAgentOptions) {
    const resolved = resolveOptions(options);
    this.core = new AgentCore(resolved);
    this.counters = this.core.counters;
    this.epoch = resolved.epoch;
  }

  /**
   * A mapping toward `host` was created: the entry goes out in a CREATED. `ref`, any safe integer (say
   * where the gateway keeps the mapping, and which incarnation of that place), comes back with the
   * entry in onHandedOff; -1 for none.
   */
  mappingCreated(natAddress: number, host: number, entry: HandoffEntry, ref = -1): void {
    this.mappingChanged(natAddress, host, MessageType.CREATED, entry, 0, ref);
  }

  /** A mapping toward `host` ended: the entry (its creation time included) goes out in a DELETED with `reason` (DeleteReason). */
  mappingDeleted(natAddress: number, host: number, entry: HandoffEntry, reason: number): void {
    if (!(Number.isInteger(reason) && reason >= 0 && reason <= 0xff)) {
      this.core.count('entriesInvalid');
      return;
    }
    this.mappingChanged(natAddress, host, MessageType.DELETED, entry, reason, -1);
  }

  private mappingChanged(
    natAddress: number,
    host: number,
    type: typeof MessageType.CREATED | typeof MessageType.DELETED,
    entry: HandoffEntry,
    reason: number,
    ref: number,
  ): void {
    const core = this.core;
    const now = core.options.clock();
    let peer = core.peers.get(natAddress, host);
    if (peer === undefined) {
      // A deletion toward a host without a peer concerns nothing any receiver holds.
      peer = type === MessageType.CREATED ? this.createPeer(natAddress, host, now) : undefined;
      if (peer === undefined) {
        core.count('entriesWithoutPeer');
        return;
      }
    } else {
      core.peers.touch(peer);
    }
    appendEntry(core, peer, type, entry, reason, ref, now);
  }

  private createPeer(natAddress: number, host: number, now: number): Peer | undefined {
    checkAddress(natAddress, 'natAddress');
    checkAddress(host, 'host');
    const core = this.core;
    if (core.peers.size >= core.peers.limit) {
      const victim = core.peers.evictable;
      if (victim === undefined) {
        core.count('peersFull');
        return undefined;
      }
      this.evict(victim);
    }
    const peer = new Peer(natAddress, host, core.options.epoch, core.options, now);
    core.peers.add(peer);
    core.count('peersCreated');
    // First contact: HELLO at once (§6.2), then on the silent schedule.
    helloDue(core, peer, now);
    core.reschedule(peer);
    return peer;
  }

  /** Evictable peers never answered: no stream, no queries, at most an open fire-and-forget datagram. */
  private evict(peer: Peer): void {
    const core = this.core;
    abandonOpen(core, peer);
    core.timers.remove(peer);
    core.peers.remove(peer);
    core.count('peersEvicted');
  }

  /**
   * Starts the HELLO exchange toward `host` if the agent holds no peer for it, without an entry: for a
   * gateway that meets a host it has no mapping toward, e.g. a cache miss after a restart, whose answer
   * may come from a receiver that holds the mapping (§6.5). Returns the peer's state afterwards (UNKNOWN
   * if the peer table is full of peers that answered, or the HELLO rate limit delays the HELLO).
   */
  probe(natAddress: number, host: number): PeerState {
    const core = this.core;
    const peer = core.peers.get(natAddress, host) ?? this.createPeer(natAddress, host, core.options.clock());
    return peer?.state ?? PeerState.UNKNOWN;
  }

  /**
   * A UDP payload arrived from `host`:`hostPort` for `natAddress`:62863. `payload` is only read during the
   * call. `authenticated`: another layer verified it (a Geneve authentication option), so with a key
   * configured an untagged datagram is accepted too.
   */
  receive(natAddress: number, host: number, hostPort: number, payload: Uint8Array, authenticated = false): void {
    receive(this.core, natAddress, host, hostPort, payload, authenticated);
  }

  /**
   * What the peer's receiver said in its last accepted HELLO-ACK: its Capability bits and the cookie
   * of the current epoch; null before any (or after a new epoch). Allocation-free. Valid from inside
   * onPeerUp on, so the gateway can pick a transport before it re-announces mappings.
   */
  peerCapabilities(natAddress: number, host: number): number {
    const peer = this.core.peers.get(natAddress, host);
    return peer === undefined || !peer.cookieKnown ? -1 : peer.capabilities;
  }

  /** The low 24 bits of the peer's cookie (the Geneve VNI, geneve-options section 5); -1 while no cookie is known. */
  peerCookieLow24(natAddress: number, host: number): number {
    const peer = this.core.peers.get(natAddress, host);
    return peer === undefined || !peer.cookieKnown ? -1 : peer.cookieLow & 0xff_ffff;
  }

  /** An ICMP port unreachable came back for a datagram of ours to `host`. */
  portUnreachable(natAddress: number, host: number): void {
    const core = this.core;
    const peer = core.peers.get(natAddress, host);
    if (peer === undefined) {
      core.count('portUnreachable');
      return;
    }
    portUnreachable(core, peer, core.options.clock());
  }

  /**
   * A packet from serverAddress:serverPort to natAddress:natPort (protocol) found no entry in the
   * gateway's cache: ask the authoritative receiver on `host` (§6.5). SENT and JOINED are followed by
   * exactly one onAnswer(token, ...); the other verdicts by none.
   */
  query(natAddress: number, host: number, protocol: number, natPort: number, serverAddress: number, serverPort: number, token: number): QueryVerdict {
    const core = this.core;
    const now = core.options.clock();
    return issueQuery(core, core.peers.get(natAddress, host), protocol, natPort, serverAddress, serverPort, token, now);
  }

  /**
   * An IPv6 packet of a client (question.protocol, clientAddress, clientPort) toward
   * serverAddress:serverPort found no session, on a flow the gateway handed off earlier: ask the
   * authoritative receiver on `host` which NAT port of `natAddress` the client holds (CLIENT-QUERY,
   * §5.12). Verdicts and onAnswer as for query(); a FOUND entry is one of this client side. `question`
   * is read during the call only (its clientAddress is copied).
   */
  clientQuery(natAddress: number, host: number, question: ClientQuestion, token: number): QueryVerdict {
    const core = this.core;
    return issueClientQuery(core, core.peers.get(natAddress, host), question, token, core.options.clock());
  }

  /** Whether `host` holds authority for the mappings of `natAddress` it acknowledged. O(1), allocation-free. */
  isAuthoritative(natAddress: number, host: number): boolean {
    const peer = this.core.peers.get(natAddress, host);
    return peer !== undefined && peer.state === PeerState.AUTHORITATIVE;
  }

  /** The state of a peer; UNKNOWN for a host the agent holds nothing about. */
  peerState(natAddress: number, host: number): PeerState {
    return this.core.peers.get(natAddress, host)?.state ?? PeerState.UNKNOWN;
  }

  /**
   * Sends every open datagram that has waited flushDelayMs (all of them with a delay of 0), or every
   * open datagram of a reliable stream whatever its age (`all`: nothing would send it before its delay
   * runs out without a wake-up of its own). A datagram the window holds back stays open either way; a
   * fire-and-forget one waits its delay (a HELLO-ACK within it supersedes it).
   */
  flush(all = false): void {
    flush(this.core, this.core.options.clock(), all);
  }

  /** flush(all), then every timer that is due: HELLOs, retransmissions, query timeouts. Cheap when nothing is due. */
  tick(all = false): void {
    const core = this.core;
    const now = core.options.clock();
    flush(core, now, all);
    const timers = core.timers;
    for (let budget = timers.size, peer = timers.peek(); peer !== undefined && peer.deadline <= now && budget > 0; budget--, peer = timers.peek()) {
      this.service(peer, now);
    }
  }

  private service(peer: Peer, now: number): void {
    const core = this.core;
    if (peer.stream.rtxAt <= now) retransmit(core, peer, now);
    if (peer.newEpochDue) {
      peer.newEpochDue = false;
      peer.repeatHelloDue = false;
      restartEpoch(core, peer, now);
    } else if (peer.repeatHelloDue) {
      peer.repeatHelloDue = false;
      if (peer.up && !peer.probing) {
        core.count('helloAfterRetries');
        startProbe(core, peer, now, true);
      }
    }
    if (peer.helloAt <= now) helloDue(core, peer, now);
    if (peer.queryAt <= now) queriesDue(core, peer, now);
    core.reschedule(peer);
  }

  /**
   * When tick() next has work to do, on the agent's clock: the earliest HELLO, retransmission or query
   * timer, or the flush delay of the oldest open datagram; Infinity when nothing waits. A gateway can
   * sleep until then instead of ticking on a fixed interval. Calls after flush() or tick() see
   * everything they changed.
   */
  nextDeadline(): number {
    const core = this.core;
    const timer = core.timers.peek()?.deadline ?? Infinity;
    const open = core.opened.head;
    return open === null ? timer : Math.min(timer, open.value.openedAt + core.options.flushDelayMs);
  }

  /** Every peer, for display (allocates; not for hot paths). */
  peers(): PeerSummary[] {
    const summaries: PeerSummary[] = [];
    for (const peer of this.core.peers.values()) {
      summaries.push({
        natAddress: peer.natAddress,
        host: peer.host,
        state: peer.state,
        stateName: PEER_STATE_NAMES[peer.state],
        epoch: peer.epoch,
        cookieKnown: peer.cookieKnown,
        window: peer.stream.window,
        inFlight: peer.stream.inFlight,
        queued: peer.stream.queuedEntries,
        rtoMs: peer.rto.rto,
        srttMs: peer.rto.samples > 0 ? peer.rto.srtt : null,
        lastHeardAt: peer.lastHeardAt < 0 ? null : peer.lastHeardAt,
        handedOff: peer.handedOff,
        releaseCumulative: peer.releases.cumulative,
        queries: peer.queries?.byId.size ?? 0,
        capabilities: peer.capabilities,
      });
    }
    return summaries;
  }

  /** Entries waiting to be sent reliably, toward every peer. */
  get queuedEntries(): number {
    return this.core.queuedEntries;
  }

  /** Datagram buffers allocated so far (they are recycled, never freed). */
  get buffersAllocated(): number {
    return this.core.pool.allocated;
  }
}
