// The stateful NAT64 tables of RFC 6146 behind one object: BIB, sessions, pool4 with port allocation, the TCP
// state machine, timers, held SYNs, events and the handoff hooks. Pure state: no I/O, time from the injected
// clock. Packet-path calls take numbers and byte offsets and return a session handle (>= 0) or a VERDICT.
//
// Hairpinning (RFC 6146 3.8): when an outbound packet's IPv4 destination is a pool4 address (`isPoolAddress`),
// the caller translates it with the outbound session as usual and then runs the resulting IPv4 packet through
// `inbound` as if it had arrived from outside; nothing else is needed here.

import { readU32, writeU32 } from '@nat64/wire';
import { addStaticBib, deleteSession, removeStaticBib } from './admin.js';
import { BIB_STATIC } from './bib.js';
import { PROTOCOL, TIMER_CLASS, VERDICT, type TcpState } from './constants.js';
import { Core } from './core.js';
import { counterSnapshot, type CounterSnapshot } from './counters.js';
import { SessionCursor, type SessionFilter } from './cursor.js';
import { inbound, outbound, serverPortKey } from './datapath.js';
import { expire } from './expiry.js';
import { release, restore, type RestoreEntry } from './handoff.js';
import { completeListener, resolveOptions, type Nat64Listener, type Nat64Options, type StaticBibEntry } from './options.js';
import { protocolSlot } from './pool4.js';
import { SESSION_HANDED_OFF } from './sessions.js';
import { classOf } from './timers.js';

const TOKEN_SPLIT = 2 ** 32;

/** What Nat64Table.reconfigure may change while the table runs. */
export type Nat64RuntimeOptions = Pick<Nat64Options, 'timeouts' | 'allowShortTimeouts' | 'maxSessions' | 'maxSessionsPerClient'>;

/**
 * Stateful NAT64 tables. Session handles and BIB handles are slot indexes: valid until the next call that
 * can delete (a packet call, expire, release, restore, an admin call), so read what you need right away.
 */
/** Ports in use on one pool4 address for one protocol. */
export interface Pool4Usage {
  /** IPv4 address as an unsigned 32-bit number. */
  address: number;
  protocol: 'tcp' | 'udp' | 'icmp';
  ports: number;
}

export class Nat64Table {
  private readonly core: Core;

  /** Static entries of the options are in place before the listener hears anything (it could not read them yet). */
  constructor(options: Nat64Options) {
    this.core = new Core(options);
    for (const entry of options.staticBib ?? []) addStaticBib(this.core, entry);
    this.core.listener = completeListener(options.listener);
  }

  /**
   * Changes what may change while the table runs; absent fields keep their current values. A new timeout
   * applies to every session of its class at once (expiry is last use plus the class's timeout); a lower
   * maxSessions deletes nothing by itself, it refuses (or evicts for) new sessions past it; a higher one
   * grows the tables for it now (a copy of what they hold), not when the old maximum fills. A bad value
   * throws a Nat64Error and changes nothing.
   */
  reconfigure(options: Nat64RuntimeOptions): void {
    const c = this.core;
    const current = {
      udp: c.timeouts[TIMER_CLASS.UDP]!,
      icmp: c.timeouts[TIMER_CLASS.ICMP]!,
      tcpEstablished: c.timeouts[TIMER_CLASS.TCP_EST]!,
      tcpTransitory: c.timeouts[TIMER_CLASS.TCP_TRANS]!,
    };
    const resolved = resolveOptions({
      pool4: [],
      clock: c.clock,
      timeouts: { ...current, ...options.timeouts },
      allowShortTimeouts: options.allowShortTimeouts ?? false,
      maxSessions: options.maxSessions ?? c.maxSessions,
      maxSessionsPerClient: options.maxSessionsPerClient ?? c.maxSessionsPerClient,
    });
    c.timeouts.set(resolved.timeouts);
    if (resolved.maxSessions > c.maxSessions) c.reserveFor(resolved.maxSessions);
    c.maxSessions = resolved.maxSessions;
    c.maxSessionsPerClient = resolved.maxSessionsPerClient;
  }

  /**
   * IPv6 -> IPv4. Finds or creates the session for (protocol, client address at `clientAddress[offset..+16)`,
   * client port, server IPv4 address, server port) and applies the packet's TCP flags to it. ICMP: ports are
   * the echo identifier and serverPort is ignored. Returns the session handle or a VERDICT. With `newMapping`
   * false, a flow whose client holds no BIB entry gets VERDICT.NEW_MAPPING and nothing is made or counted (so
   * a caller can look at a new flow before it takes a NAT port, at no cost to established flows); the next
   * call for that flow makes it without looking it up again, unless the table changed in between.
   */
  outbound(
    protocol: number,
    clientAddress: Uint8Array,
    offset: number,
    clientPort: number,
    serverAddress: number,
    serverPort: number,
    tcpFlags = 0,
    newMapping = true,
  ): number {
    return outbound(this.core, protocol, clientAddress, offset, clientPort, serverAddress, serverPort, tcpFlags, newMapping);
  }

  /**
   * IPv4 -> IPv6. Finds or creates the session for (protocol, server address and port, NAT address and port).
   * `packet[start, end)` is the IPv4 packet, copied only if an unsolicited SYN is held (VERDICT.HELD_SYN).
   */
  inbound(
    protocol: number,
    serverAddress: number,
    serverPort: number,
    natAddress: number,
    natPort: number,
    tcpFlags = 0,
    packet?: Uint8Array,
    start = 0,
    end = packet?.length ?? 0,
  ): number {
    return inbound(this.core, protocol, serverAddress, serverPort, natAddress, natPort, tcpFlags, packet, start, end);
  }

  /** Outbound lookup that neither creates nor refreshes (an ICMPv6 error's inner packet): handle or NO_SESSION. */
  lookupOutbound(protocol: number, clientAddress: Uint8Array, offset: number, clientPort: number, serverAddress: number, serverPort: number): number {
    const h = this.core.sessions.findOut(protocol, clientAddress, offset, clientPort, serverAddress, serverPortKey(protocol, serverPort));
    return h >= 0 ? h : VERDICT.NO_SESSION;
  }

  /** Inbound lookup that neither creates nor refreshes (an ICMPv4 error's inner packet): handle or NO_SESSION. */
  lookupInbound(protocol: number, serverAddress: number, serverPort: number, natAddress: number, natPort: number): number {
    const h = this.core.sessions.findIn(protocol, natAddress, natPort, serverAddress, serverPortKey(protocol, serverPort));
    return h >= 0 ? h : VERDICT.NO_SESSION;
  }

  /** The BIB entry of a client transport address, or VERDICT.NO_BIB. */
  findBibByClient(protocol: number, clientAddress: Uint8Array, offset: number, clientPort: number): number {
    const b = this.core.bibs.findByClient(
      protocol,
      readU32(clientAddress, offset),
      readU32(clientAddress, offset + 4),
      readU32(clientAddress, offset + 8),
      readU32(clientAddress, offset + 12),
      clientPort,
    );
    return b >= 0 ? b : VERDICT.NO_BIB;
  }

  /** The BIB entry of a NAT transport address, or VERDICT.NO_BIB. */
  findBibByNat(protocol: number, natAddress: number, natPort: number): number {
    const b = this.core.bibs.findByNat(protocol, natAddress, natPort);
    return b >= 0 ? b : VERDICT.NO_BIB;
  }

  /**
   * Processes the timers due at `now` (O(expired)): deletes, evicts, moves idle ESTABLISHED TCP sessions to
   * TRANS, and returns copies of the held IPv4 SYNs whose TCP_INCOMING_SYN ran out (send ICMP port
   * unreachable for each). At most `budget` sessions per call; what is left stays due for the next call.
   */
  expire(now: number = this.core.clock(), budget = Infinity): readonly Uint8Array[] {
    return expire(this.core, now, budget);
  }

  // Session fields.

  protocol(h: number): number {
    return this.core.sessions.protocol[h]!;
  }

  clientPort(h: number): number {
    return this.core.bibs.clientPort[this.core.sessions.bib[h]!]!;
  }

  /** Writes the client IPv6 address (16 bytes) at out[offset]; returns offset + 16. */
  copyClientAddress(h: number, out: Uint8Array, offset: number): number {
    return this.copyBibClientAddress(this.core.sessions.bib[h]!, out, offset);
  }

  natAddress(h: number): number {
    return this.core.bibs.natAddress[this.core.sessions.bib[h]!]!;
  }

  natPort(h: number): number {
    return this.core.bibs.natPort[this.core.sessions.bib[h]!]!;
  }

  serverAddress(h: number): number {
    return this.core.sessions.serverAddress[h]!;
  }

  /** The server port (0 for ICMP sessions). */
  serverPort(h: number): number {
    return this.core.sessions.serverPort[h]!;
  }

  /** RFC 6146 3.5.2.2 state of a TCP session; CLOSED for UDP and ICMP. */
  tcpState(h: number): TcpState {
    return this.core.sessions.state[h]! as TcpState;
  }

  isHandedOff(h: number): boolean {
    return (this.core.sessions.flags[h]! & SESSION_HANDED_OFF) !== 0;
  }

  /** Time of last use, in the clock's milliseconds. */
  lastUsed(h: number): number {
    return this.core.sessions.lastUse[h]!;
  }

  /** When the session's timer runs out, in the clock's milliseconds. */
  expiresAt(h: number): number {
    const s = this.core.sessions;
    return s.lastUse[h]! + this.core.timeouts[classOf(s.list[h]!)]!;
  }

  /** The session's BIB entry. */
  bibOf(h: number): number {
    return this.core.sessions.bib[h]!;
  }

  /**
   * The first session of BIB entry `b`, or -1; `nextSessionOfBib` gives the ones after it. Walk without
   * deleting in between (marking sessions handed off or back is fine).
   */
  firstSessionOfBib(b: number): number {
    return this.core.bibs.sessionHead[b]!;
  }

  /** The session after `h` on its BIB entry's list, or -1. */
  nextSessionOfBib(h: number): number {
    return this.core.sessions.bibNext[h]!;
  }

  // BIB entry fields.

  bibProtocol(b: number): number {
    return this.core.bibs.protocol[b]!;
  }

  bibClientPort(b: number): number {
    return this.core.bibs.clientPort[b]!;
  }

  /** Writes the BIB entry's client IPv6 address (16 bytes) at out[offset]; returns offset + 16. */
  copyBibClientAddress(b: number, out: Uint8Array, offset: number): number {
    const address = this.core.clients.address;
    const o = this.core.bibs.client[b]! * 4;
    writeU32(out, offset, address[o]!);
    writeU32(out, offset + 4, address[o + 1]!);
    writeU32(out, offset + 8, address[o + 2]!);
    writeU32(out, offset + 12, address[o + 3]!);
    return offset + 16;
  }

  bibNatAddress(b: number): number {
    return this.core.bibs.natAddress[b]!;
  }

  bibNatPort(b: number): number {
    return this.core.bibs.natPort[b]!;
  }

  isStaticBib(b: number): boolean {
    return (this.core.bibs.flags[b]! & BIB_STATIC) !== 0;
  }

  // Handoff hooks.

  /**
   * Marks a session handed off (kept as a cache: its expiry and memory pressure evict it, reason EVICTED) or
   * authoritative again.
   */
  setHandedOff(h: number, handedOff: boolean): void {
    this.core.setHandedOff(h, handedOff);
  }

  /** Inserts a handed-off session reported by the authority; see RestoreEntry. Handle or VERDICT. */
  restore(entry: RestoreEntry): number {
    return restore(this.core, entry);
  }

  /** Deletes the sessions on a NAT transport address (toward one server address if given); returns how many. */
  release(protocol: number, natAddress: number, natPort: number, serverAddress?: number): number {
    return release(this.core, protocol, natAddress, natPort, serverAddress);
  }

  /**
   * A number naming this session until it is deleted, unlike the handle whose slot is reused (for the fragment
   * tracker, which must not follow a reused slot). Safe integer: generation * 2^32 + handle.
   */
  sessionToken(h: number): number {
    return this.core.sessions.generation[h]! * TOKEN_SPLIT + h;
  }

  /** The session a token names, or VERDICT.NO_SESSION if it has been deleted since. */
  sessionFromToken(token: number): number {
    const s = this.core.sessions;
    const h = token % TOKEN_SPLIT;
    if (h < 0 || h >= s.highWater || s.protocol[h] === 0 || s.generation[h]! !== Math.floor(token / TOKEN_SPLIT)) {
      return VERDICT.NO_SESSION;
    }
    return h;
  }

  // Administration.

  addStaticBib(entry: StaticBibEntry): number {
    return addStaticBib(this.core, entry);
  }

  removeStaticBib(protocol: number, natAddress: number, natPort: number): boolean {
    return removeStaticBib(this.core, protocol, natAddress, natPort);
  }

  /** Deletes one session (reason ADMINISTRATIVE). */
  deleteSession(h: number): void {
    deleteSession(this.core, h);
  }

  setListener(listener: Partial<Nat64Listener> | undefined): void {
    this.core.listener = completeListener(listener);
  }

  /** Whether an IPv4 address is in pool4 (a destination that must hairpin). */
  isPoolAddress(address: number): boolean {
    return this.core.pool.indexOf(address) >= 0;
  }

  /** A cursor over the sessions matching `filter`, for listing without stalling the datapath. */
  cursor(filter: SessionFilter = {}): SessionCursor {
    return new SessionCursor(this.core, filter);
  }

  get sessionCount(): number {
    return this.core.sessions.count;
  }

  get bibCount(): number {
    return this.core.bibs.count;
  }

  /** The session maximum in force (options, then reconfigure). */
  get maxSessions(): number {
    return this.core.maxSessions;
  }

  /** Every counter and gauge with its explanation. */
  counters(): CounterSnapshot[] {
    const c = this.core;
    const s = c.sessions;
    return counterSnapshot(c.counters, {
      sessionsTcp: s.perProtocol[6]!,
      sessionsUdp: s.perProtocol[17]!,
      sessionsIcmp: s.perProtocol[1]!,
      sessionsHandedOff: s.handedOff,
      bibEntries: c.bibs.count,
      bibStatic: c.staticCount,
      clients: c.clients.count,
      heldSynsNow: c.held.count,
      bytesAllocated: c.bytesAllocated(),
    });
  }

  /** Ports in use per pool4 address and protocol (allocates; for metrics). */
  portsInUse(): Pool4Usage[] {
    const pool = this.core.pool;
    const usage: Pool4Usage[] = [];
    for (let a = 0; a < pool.size; a++) {
      for (const protocol of ['tcp', 'udp', 'icmp'] as const) {
        const slot = protocolSlot(protocol === 'tcp' ? PROTOCOL.TCP : protocol === 'udp' ? PROTOCOL.UDP : PROTOCOL.ICMP);
        usage.push({ address: pool.addresses[a]!, protocol, ports: pool.portsInUse(slot, a) });
      }
    }
    return usage;
  }

  /** Bytes of typed arrays (and held copies) in use by the tables; slots reserved but never used are not counted. */
  bytesAllocated(): number {
    return this.core.bytesAllocated();
  }
}
