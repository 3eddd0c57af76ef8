// The contract between handoff (handoff.ts: the agent, the mapping tracker, the miss queue) and the
// ways it reaches the IPv4 hosts. One transport is chosen once from `handoff.transport` (index.ts)
// and built with a TransportContext; nothing else in the gateway knows which one runs.
//
// What a transport is for, and how it does each part:
// (a) Mapping events. The tracker reports each mapping toward a host (the first session of a BIB
//     entry toward it created, the last one deleted) to mappingCreated/mappingDeleted, and asks
//     peerUp() when a receiver comes up. A transport carries them (the messages transport hands them
//     to the agent's reliable stream; Geneve puts them on data packets as options), or watches them
//     to know which hosts have translated flows. A transport that needs every session, not only
//     mappings, subscribes to `context.engine.events` in start().
// (b) The packet path. A transport that carries packets itself registers engine hooks in start() and
//     removes them in stop(): `onOutput` (translated IPv4 packets toward a host, Geneve wraps them),
//     `onLocal`/`onLocalError`/`onTunnelError` (its own ports on pool4 addresses, through a
//     LocalSocket), or `onBypass`, the hook ahead of the NAT64 table for IPv6 packets it carries
//     untranslated (offered the packet toward PREFIX::HOST, it takes it or leaves it to the NAT64; a
//     flow that already has a session, `context.engine.table`, stays translated; bypass/ uses it).
//     Two transports share a reserved port through `interceptLocal` (bypass in front of Geneve on 6081). Every per-host and per-flow
//     decision is the transport's, from per-host state of its own.
// (c) Life. Everything it owns (sockets, tables, engine hooks) is wired by start() and unwired by
//     stop(); tick(), where it has one, runs on handoff's housekeeping timer (IMPL.HOUSEKEEPING_MS)
//     while hasHousework() says it has work (tunnels to refresh, hosts to scan), so an idle gateway
//     is not woken for it; batchEnd() at the end of every engine batch, both inside engine.run().
//     Nothing here may keep the process alive: handoff owns the timer.
// (d) What operators see: hostTransport() fills the transport columns of `hosts` for each agent
//     peer, and hostsWithoutPeer() (optional) lists hosts it reaches that the agent has no peer for
//     (a host carried without translation holds no mapping); counterLines() adds its counters to
//     `stats` (in groups of its own, or 'handoff' for counters that were always shown there).
//
// Rules every transport follows: every method runs on the gateway's event loop; none throws for
// anything a packet says (a bad packet is a counted drop; a bug inside an engine hook it registered
// goes to context.failed, never out into the packet path); nothing allocates per forwarded packet;
// payloads and entries passed in are borrowed for the duration of the call; nothing calls the
// context before start(). Adding a transport is a folder under transports/ and a line in index.ts.

import type { PeerState } from '@nat64/handoff-agent';
import type { HandoffEntry } from '@nat64/handoff-codec';
import type { Logger } from '@nat64/service';
import type { Engine } from '@nat64/gateway-engine';
import type { BypassRow, HostRow } from '../hosts.js';

/** Where what the hosts send goes (the agent, behind handoff's guard; or a transport composing another). */
export interface HandoffInbound {
  /** A handoff datagram from a host's receiver; `authenticated`: it came inside a verified envelope. */
  receive(natAddress: number, host: number, hostPort: number, payload: Uint8Array, authenticated?: boolean): void;
  /** Nothing listens for handoff on the host (ICMP port unreachable about what we sent). */
  portUnreachable(natAddress: number, host: number): void;
}

/** The agent calls a transport may make besides its inbound (HandoffAgent implements them). */
export interface TransportAgent {
  /** A mapping change as an entry of the agent's reliable stream (CREATED/DELETED datagrams); `ref` comes back in onHandedOff. */
  mappingCreated(natAddress: number, host: number, entry: HandoffEntry, ref?: number): void;
  mappingDeleted(natAddress: number, host: number, entry: HandoffEntry, reason: number): void;
  isAuthoritative(natAddress: number, host: number): boolean;
  peerState(natAddress: number, host: number): PeerState;
  /** Capabilities of the receiver's last HELLO-ACK, or -1 before one. */
  peerCapabilities(natAddress: number, host: number): number;
  /** The low 24 bits of the receiver's cookie, or -1 before a HELLO-ACK. */
  peerCookieLow24(natAddress: number, host: number): number;
}

/**
 * Where mapping events go (the tracker's reporter; every transport is one). `ref` is the tracker's
 * record of the mapping: a transport that hands the entry to the agent passes it on.
 */
export interface MappingReporter {
  mappingCreated(natAddress: number, host: number, entry: HandoffEntry, ref?: number): void;
  mappingDeleted(natAddress: number, host: number, entry: HandoffEntry, reason: number): void;
}

/** The live mappings handoff tracks (MappingTracker implements it). */
export interface LiveMappings {
  /** Reports every live mapping toward `host` to `to` as created, with its original creation time. */
  announce(natAddress: number, host: number, to: MappingReporter): void;
  /** The receiver took authority over these entries (their sessions become a cache); returns how many were handed off. */
  handedOff(natAddress: number, host: number, entries: readonly HandoffEntry[]): number;
}

/** What handoff gives a transport when it is built. */
export interface TransportContext {
  readonly engine: Engine;
  /** The engine's batch clock, in ms. */
  readonly clock: () => number;
  readonly logger: Logger;
  readonly agent: TransportAgent;
  /** Where received handoff datagrams and ICMP port unreachable go: the agent, or a transport that composes this one. */
  readonly inbound: HandoffInbound;
  readonly mappings: LiveMappings;
  /** The largest handoff datagram the agent sends (handoff.mtu minus IPv4 and UDP headers). */
  readonly maxDatagram: number;
  /** handoff.key, the shared authentication key, if any. */
  readonly key: Uint8Array | undefined;
  /** A bug caught in one of the transport's engine hooks: counted (handoff.eventErrors) and logged at most once a minute. */
  readonly failed: (error: unknown) => void;
}

/** The transport columns of one row of `hosts`. */
export interface HostTransport {
  /** How the gateway reaches the host: 'handoff' (messages), 'geneve', ... */
  transport: string;
  /** The tunnel's VNI, null without a tunnel. */
  vni: number | null;
  /** A host offered NAT64 bypass: its tunnel's details. */
  bypass?: BypassRow;
}

/** A counter line of `stats`. */
export interface CounterLine {
  group: string;
  name: string;
  value: number;
  explanation: string;
}

/** One way of reaching the hosts. See the header for the contract. */
export interface HandoffTransport extends MappingReporter {
  /** The agent's send: one handoff datagram toward the host's receiver (copied; the agent reuses its buffer). */
  send(natAddress: number, host: number, payload: Uint8Array): void;
  /** A receiver came up (or became authoritative): its live mappings must reach it again. */
  peerUp(natAddress: number, host: number): void;
  start(): void;
  stop(): void;
  /** Housekeeping, every IMPL.HOUSEKEEPING_MS while hasHousework() holds; absent where there is none. */
  tick?(): void;
  /** Whether tick() has work without a new packet; absent: whenever tick is there. Asked at every batch end, so O(1). */
  hasHousework?(): boolean;
  batchEnd(): void;
  hostTransport(natAddress: number, host: number): HostTransport;
  /** Rows of `hosts` for hosts the agent has no peer for; absent: none. */
  hostsWithoutPeer?(): HostRow[];
  counterLines(): CounterLine[];
}

/** Whether `transport` (none: null) wants its tick() on the housekeeping timer now. */
export function needsHousekeeping(transport: HandoffTransport | null): boolean {
  return transport !== null && transport.tick !== undefined && (transport.hasHousework?.() ?? true);
}
