// The state behind a Nat64Table and the mutations every path shares: making and deleting BIB entries and
// sessions (with their events and counters), port allocation with paired pooling, eviction of handed-off
// sessions under the session maximum, and the TCP/timer update a packet makes to a session it found.

import { BibTable, BIB_STATIC } from './bib.js';
import { ClientTable } from './clients.js';
import { DELETE_REASON, IMPL, PROTOCOL, TCP_STATE, TIMER_CLASS, VERDICT, type DeleteReason } from './constants.js';
import { COUNTER, newCounterValues } from './counters.js';
import { KeyedHash } from './hash.js';
import { HeldSyns } from './held-syn.js';
import { completeListener, resolveOptions, type Nat64Listener, type Nat64Options } from './options.js';
import { NewFlowMemo } from './new-flow.js';
import { Pool4, protocolSlot } from './pool4.js';
import { HANDED_OFF_LIST_OFFSET, SESSION_HANDED_OFF, SESSION_RST, SessionTable, TIMER_LIST_COUNT } from './sessions.js';
import { STEP_ACTION_SHIFT, STEP_STATE_MASK, TIMER_ACTION, tcpStep } from './tcp.js';
import { appendTimer, classOf, insertTimerSorted, listOf, touchTimer, unlinkTimer } from './timers.js';

const DELETE_COUNTER: readonly number[] = [
  COUNTER.sessionsTimedOut,
  COUNTER.sessionsTcpClosed,
  COUNTER.sessionsRst,
  COUNTER.sessionsEvicted,
  COUNTER.sessionsReleased,
  COUNTER.sessionsDeletedByOperator,
];

/** The timer class of a fresh session of this protocol in this TCP state. */
export function timerClassFor(protocol: number, state: number): number {
  if (protocol === PROTOCOL.UDP) return TIMER_CLASS.UDP;
  if (protocol === PROTOCOL.ICMP) return TIMER_CLASS.ICMP;
  return state === TCP_STATE.ESTABLISHED || state === TCP_STATE.V4_FIN_RCV || state === TCP_STATE.V6_FIN_RCV ? TIMER_CLASS.TCP_EST : TIMER_CLASS.TCP_TRANS;
}

export class Core {
  readonly clock: () => number;
  readonly hash: KeyedHash;
  readonly pool: Pool4;
  readonly clients: ClientTable;
  readonly bibs: BibTable;
  readonly sessions: SessionTable;
  readonly held: HeldSyns;
  readonly counters = newCounterValues();
  readonly timeouts: Float64Array;
  readonly addressDependentFiltering: boolean;
  readonly dropUnsolicitedTcp: boolean;
  /** Static BIB entries of the options, reserved for beside the session maximum. */
  private readonly staticBibs: number;
  /** These two change with Nat64Table.reconfigure, like the timeouts (in place). */
  maxSessions: number;
  maxSessionsPerClient: number;
  /** Installed by the table once the configured static entries are in (see Nat64Table's constructor). */
  listener: Nat64Listener = completeListener(undefined);
  staticCount = 0;
  /** Moves with every session and BIB entry made or deleted: a lookup's answer holds while it stays the same. */
  changes = 0;
  readonly newFlow = new NewFlowMemo();

  constructor(options: Nat64Options) {
    const resolved = resolveOptions(options);
    this.clock = options.clock;
    this.hash = new KeyedHash(options.secret);
    this.pool = new Pool4(
      options.pool4,
      (options.reservedPorts ?? []).map((r) => [r.protocol, r.port] as const),
    );
    // The tables reserve their slots for the session maximum (SlotTable): a dynamic BIB entry lives only
    // while it has sessions and a client record while it has BIB entries, so static entries aside, neither
    // outnumbers the sessions. Past it (static entries added later) they double; a maximum raised by
    // reconfigure grows them at once (reserveFor).
    const initial = resolved.initialCapacity;
    this.staticBibs = options.staticBib?.length ?? 0;
    const bibBound = resolved.maxSessions + this.staticBibs;
    this.clients = new ClientTable(this.hash, initial, bibBound);
    this.bibs = new BibTable(this.hash, this.clients, initial, bibBound);
    this.sessions = new SessionTable(this.hash, this.clients, this.bibs, initial, resolved.maxSessions);
    this.held = new HeldSyns(this.hash, resolved.maxHeldSyns);
    this.timeouts = resolved.timeouts;
    this.addressDependentFiltering = resolved.addressDependentFiltering;
    this.dropUnsolicitedTcp = resolved.dropUnsolicitedTcp;
    this.maxSessions = resolved.maxSessions;
    this.maxSessionsPerClient = resolved.maxSessionsPerClient;
  }

  /** Kept below 2^30, a small integer to V8; an answer 2^30 changes old is never asked about. */
  private changed(): void {
    this.changes = (this.changes + 1) & 0x3fff_ffff;
  }

  count(counter: number): void {
    this.counters[counter]!++;
  }

  /** Counts a verdict under its counter and returns it. */
  verdict(verdict: number, counter: number): number {
    this.counters[counter]!++;
    return verdict;
  }

  /**
   * Makes room for one more session: true if there is room, evicting the least recently used handed-off
   * session if needed. Eviction can delete BIB entries and client records, so callers look them up after.
   */
  ensureRoom(): boolean {
    if (this.sessions.count < this.maxSessions) return true;
    return this.evictLeastRecentlyUsed();
  }

  evictLeastRecentlyUsed(): boolean {
    const s = this.sessions;
    let victim = -1;
    for (let list = HANDED_OFF_LIST_OFFSET; list < TIMER_LIST_COUNT; list++) {
      const head = s.listHead[list]!;
      if (head >= 0 && (victim < 0 || s.lastUse[head]! < s.lastUse[victim]!)) victim = head;
    }
    if (victim < 0) return false;
    this.deleteSession(victim, DELETE_REASON.EVICTED);
    return true;
  }

  /**
   * A new dynamic BIB entry for a client transport address that has none (RFC 6146 3.5.1.1), in the client's
   * paired pool4 address if it has one, or a verdict. For TCP, `serverAddress`/`serverPort` name the server
   * the opening SYN goes to: a SYN that server sent unsolicited and that is held gets its NAT port if free.
   */
  allocateBib(
    protocol: number,
    a0: number,
    a1: number,
    a2: number,
    a3: number,
    clientPort: number,
    client: number,
    serverAddress: number,
    serverPort: number,
  ): number {
    const pool = this.pool;
    const slot = protocolSlot(protocol);
    const paired = client >= 0 && this.clients.bibs[client]! > 0;
    let a = -1;
    let port = -1;
    if (protocol === PROTOCOL.TCP && this.held.count > 0) {
      // RFC 6146 3.5.2.2 simultaneous open: the IPv4 peer already aims at a NAT port; meet it there, so the
      // held SYN is answered instead of timing out with a port unreachable.
      const held = this.held;
      for (let i = held.nextFromServer(-1, serverAddress, serverPort); i >= 0; i = held.nextFromServer(i, serverAddress, serverPort)) {
        const candidate = pool.indexOf(held.natAddress[i]!);
        if (candidate < 0 || (paired && candidate !== this.clients.pool[client]!)) continue;
        if (pool.claim(slot, candidate, held.natPort[i]!)) {
          a = candidate;
          port = held.natPort[i]!;
          break;
        }
      }
    }
    if (port < 0 && paired) {
      // Paired pooling (RFC 4787 REQ-2): while the client holds mappings, it stays on its address.
      a = this.clients.pool[client]!;
      port = pool.allocate(slot, a, clientPort, this.hash.portOffset(protocol, a0 | 0, a1 | 0, a2 | 0, a3 | 0, pool.addresses[a]! | 0));
    } else if (port < 0) {
      const n = pool.size;
      const start = (this.hash.address6(a0 | 0, a1 | 0, a2 | 0, a3 | 0) >>> 0) % n;
      for (let k = 0; k < n && port < 0; k++) {
        a = (start + k) % n;
        if (pool.available(slot, a, clientPort) > 0) {
          port = pool.allocate(slot, a, clientPort, this.hash.portOffset(protocol, a0 | 0, a1 | 0, a2 | 0, a3 | 0, pool.addresses[a]! | 0));
        }
      }
    }
    if (port < 0) return this.verdict(VERDICT.POOL_EXHAUSTED, COUNTER.poolExhausted);
    if (client < 0) client = this.clients.insert(a0, a1, a2, a3);
    return this.createBib(protocol, client, clientPort, pool.addresses[a]!, port, a, 0);
  }

  /** Records a BIB entry whose NAT port the caller has marked used in pool4. */
  createBib(protocol: number, client: number, clientPort: number, natAddress: number, natPort: number, poolIndex: number, flags: number): number {
    const clients = this.clients;
    if (clients.bibs[client]! === 0) clients.pool[client] = poolIndex;
    clients.bibs[client]!++;
    const capacity = this.bibs.capacity;
    const b = this.bibs.insert(protocol, client, clientPort, natAddress, natPort, poolIndex, flags);
    this.changed();
    if (this.bibs.capacity !== capacity) this.count(COUNTER.tableGrowths);
    if ((flags & BIB_STATIC) !== 0) this.staticCount++;
    this.count(COUNTER.bibCreated);
    this.listener.bibCreated(b);
    return b;
  }

  deleteBib(b: number, reason: DeleteReason): void {
    const bibs = this.bibs;
    this.listener.bibDeleted(b, reason);
    if ((bibs.flags[b]! & BIB_STATIC) !== 0) this.staticCount--;
    this.pool.markFree(protocolSlot(bibs.protocol[b]!), bibs.poolIndex[b]!, bibs.natPort[b]!);
    const client = bibs.client[b]!;
    bibs.remove(b);
    this.changed();
    if (--this.clients.bibs[client]! === 0) this.clients.remove(client);
  }

  /** Grows the tables for a session maximum raised at runtime, now rather than under the traffic that fills them. */
  reserveFor(maxSessions: number): void {
    this.clients.reserveUpTo(maxSessions + this.staticBibs);
    this.bibs.reserveUpTo(maxSessions + this.staticBibs);
    this.sessions.reserveUpTo(maxSessions);
  }

  /** A session of BIB entry `b`, on the timer list of its class, announced to the listener. */
  createSession(protocol: number, b: number, serverAddress: number, serverPort: number, state: number, flags: number, now: number): number {
    const s = this.sessions;
    const capacity = s.capacity;
    const h = s.insert(protocol, b, serverAddress, serverPort, state, flags);
    this.changed();
    if (s.capacity !== capacity) this.count(COUNTER.tableGrowths);
    if ((flags & SESSION_HANDED_OFF) !== 0) s.handedOff++;
    appendTimer(s, listOf(timerClassFor(protocol, state), flags), h, now);
    this.clients.sessions[this.bibs.client[b]!]!++;
    this.listener.sessionCreated(h);
    return h;
  }

  /** Deletes a session, and its BIB entry if that was its last session and the entry is not static. */
  deleteSession(h: number, reason: DeleteReason): void {
    const s = this.sessions;
    const bibs = this.bibs;
    this.listener.sessionDeleted(h, reason);
    this.count(DELETE_COUNTER[reason]!);
    unlinkTimer(s, h);
    const b = s.bib[h]!;
    this.clients.sessions[bibs.client[b]!]!--;
    s.remove(h);
    this.changed();
    if (bibs.sessionHead[b]! < 0 && (bibs.flags[b]! & BIB_STATIC) === 0) this.deleteBib(b, reason);
  }

  /** Whether BIB entry `b` has a session with this server address (address-dependent filtering). */
  hasSessionWith(b: number, serverAddress: number): boolean {
    const s = this.sessions;
    for (let h = this.bibs.sessionHead[b]!; h >= 0; h = s.bibNext[h]!) {
      if (s.serverAddress[h] === serverAddress) return true;
    }
    return false;
  }

  /** What a packet does to a session it found: the TCP state machine, then the timer. */
  refresh(h: number, fromV6: boolean, tcpFlags: number, now: number): void {
    const s = this.sessions;
    if (s.protocol[h] !== PROTOCOL.TCP) {
      touchTimer(s, s.list[h]!, h, now);
      return;
    }
    const state = s.state[h]!;
    const step = tcpStep(state, fromV6, tcpFlags);
    const next = step & STEP_STATE_MASK;
    if (next !== state) {
      s.state[h] = next;
      if (next === TCP_STATE.TRANS) s.flags[h]! |= SESSION_RST;
      else if (state === TCP_STATE.TRANS) s.flags[h]! &= ~SESSION_RST;
    }
    const action = step >>> STEP_ACTION_SHIFT;
    if (action === TIMER_ACTION.EST) touchTimer(s, listOf(TIMER_CLASS.TCP_EST, s.flags[h]!), h, now);
    else if (action === TIMER_ACTION.TRANS) touchTimer(s, listOf(TIMER_CLASS.TCP_TRANS, s.flags[h]!), h, now);
  }

  /** Marks or unmarks a session as handed off, moving it between the authoritative and cache timer lists. */
  setHandedOff(h: number, on: boolean): void {
    const s = this.sessions;
    const was = (s.flags[h]! & SESSION_HANDED_OFF) !== 0;
    if (was === on) return;
    const lastUse = s.lastUse[h]!;
    unlinkTimer(s, h);
    if (on) {
      s.flags[h]! |= SESSION_HANDED_OFF;
      s.handedOff++;
    } else {
      s.flags[h]! &= ~SESSION_HANDED_OFF;
      s.handedOff--;
    }
    insertTimerSorted(s, listOf(classOf(s.list[h]!), s.flags[h]!), h, lastUse, IMPL.HANDOFF_SORT_STEPS);
  }

  /** Bytes allocated for all tables. */
  bytesAllocated(): number {
    return (
      this.clients.bytesAllocated() + this.bibs.bytesAllocated() + this.sessions.bytesAllocated() + this.pool.bytesAllocated() + this.held.bytesAllocated()
    );
  }
}
