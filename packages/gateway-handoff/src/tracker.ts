// The mapping tracker: turns the table's session events into the protocol's mapping changes
// (handoff v1 section 5.3: CREATED when the first session of a BIB entry toward host H is created,
// DELETED when the last one toward H ends), and applies what the receivers decide: hand-off (the
// sessions become a cache), RELEASE (the mapping ends without DELETED), a receiver coming up (every
// live mapping announced again) or going down (authority back to the gateway). Work happens per
// session event and per message, never per packet. Inside a batch (where the transport lets a
// mapping wait for the batch's end: not Geneve, whose Created rides on the mapping's first packet), a
// created session is only noted and reported when the batch ends or the table's next event comes,
// whichever is first: the datapath's loop stays small, and the batch's mappings are reported in one
// tight loop, in the order the table made them.

import { DeleteReason, createEntry, type HandoffEntry } from '@nat64/handoff-codec';
import { DELETE_REASON, PROTOCOL, TCP_STATE, type DeleteReason as TableDeleteReason, type Nat64Table, type Protocol } from '@nat64/nat64';
import type { AckedEntries } from '@nat64/handoff-agent';
import type { Counters } from '@nat64/service';
import type { SessionSubscriber } from '@nat64/gateway-engine';
import type { HandoffCounterName } from './counters.js';
import type { EvictedFlows } from './evicted-flows.js';
import { MappingTable, RECORD_HANDED_OFF } from './mapping-table.js';
import type { LiveMappings, MappingReporter } from './transports/transport.js';

export type { MappingReporter } from './transports/transport.js';

/** What the tracker asks of the gateway around it. */
export interface TrackerHooks {
  /** Whether the engine is inside a batch, whose end calls batchEnd(); default never (every session reported at once). */
  readonly inBatch?: () => boolean;
  /** What reporting a session noted during the batch threw; it goes on with the next one. Default: rethrow. */
  readonly failed?: (error: unknown) => void;
}

/** Sessions a batch may note before they are reported anyway. */
const NOTED_SESSIONS = 256;

/** Who holds authority over a peer's mappings (HandoffAgent implements it). */
export interface Authority {
  isAuthoritative(natAddress: number, host: number): boolean;
}

/** Hosts a mapping is reported to: unicast addresses outside pool4 (a hairpinned session's server is ourselves). */
function reportable(host: number, table: Nat64Table): boolean {
  const first = host >>> 24;
  // 0/8 "this network" and 127/8 loopback (RFC 1122 3.2.1.3), 224/4 multicast and 240/4 (RFC 5771, RFC 1112).
  return first !== 0 && first !== 127 && first < 224 && !table.isPoolAddress(host);
}

/** The DELETED reason (handoff v1 section 5.3) for a session the table deleted. */
function wireReason(reason: TableDeleteReason): number {
  switch (reason) {
    case DELETE_REASON.TIMEOUT:
      return DeleteReason.IDLE_TIMEOUT;
    case DELETE_REASON.TCP_CLOSED:
    case DELETE_REASON.RST:
      return DeleteReason.TCP_CLOSED;
    case DELETE_REASON.EVICTED:
      return DeleteReason.EVICTED;
    case DELETE_REASON.ADMINISTRATIVE:
      return DeleteReason.ADMINISTRATIVE;
    default:
      return DeleteReason.UNSPECIFIED;
  }
}

/**
 * A TCP session that leaves the cache after both FINs, or in TRANS (which a handed-off session only
 * reaches through a RST, since the cache evicts instead of probing idle sessions), has ended: that is
 * worth a DELETED even though it was handed off, so the receiver does not keep a dead connection.
 */
function closedTcp(table: Nat64Table, h: number): boolean {
  if (table.protocol(h) !== PROTOCOL.TCP) return false;
  const state = table.tcpState(h);
  return state === TCP_STATE.V4_FIN_V6_FIN_RCV || state === TCP_STATE.TRANS;
}

/**
 * Follows the table (subscribe it to the engine's SessionEvents) and reports to `reporter` (the
 * transport). Contract:
 * handles are read during the event, or for a session noted inside a batch, before the table's next
 * event (every deletion is one, so the handle is still that session's); the table is changed only
 * outside its own events (hand-off of sessions created on a handed-off mapping waits for batchEnd()).
 * batchEnd() must follow every batch. Entries passed to the reporter are one reused object, valid
 * during the call.
 */
export class MappingTracker implements SessionSubscriber, LiveMappings {
  /** Reserved for the table's session maximum: a record has a live session. */
  readonly mappings: MappingTable;
  /**
   * Set by restore() around Nat64Table.restore: the session about to be created comes from this
   * ANSWER, so its mapping is already the receiver's (no CREATED, the receiver's creation time).
   */
  private restoring: HandoffEntry | null = null;
  /** Where handed-off sessions evicted from the cache are remembered, for their client to speak first; null: nowhere. */
  evictedFlows: EvictedFlows | null = null;
  /** Tokens of sessions created on a handed-off mapping, to hand off when the batch ends. */
  private pending: number[] = [];
  private readonly entry: HandoffEntry = createEntry();
  /** Sessions created during the batch, not reported yet: noted[notedNext..notedCount). */
  private readonly noted = new Int32Array(NOTED_SESSIONS);
  private notedCount = 0;
  private notedNext = 0;
  private readonly inBatch: () => boolean;
  /** The session maximum the records are reserved for. */
  private reservedFor: number;
  private readonly reportFailed: (error: unknown) => void;
  /**
   * Whether the last host a session was created toward is reportable, kept until the batch ends: the
   * sessions of a batch mostly go to few hosts, and the pool4 test is a hashed lookup. -1: none yet.
   */
  private lastHost = -1;
  private lastReportable = false;
  private readonly scratch = new Uint8Array(16);
  /** Counter values and indexes, bumped directly on the per-session paths. */
  private readonly values: Float64Array;
  private readonly index: Readonly<Record<HandoffCounterName, number>>;

  constructor(
    private readonly table: Nat64Table,
    private readonly reporter: MappingReporter,
    private readonly authority: Authority,
    private readonly counters: Counters<HandoffCounterName>,
    /** Wall-clock microseconds since 1970, for the Time of new entries. */
    private readonly wallMicros: () => number,
    hooks: TrackerHooks = {},
  ) {
    this.mappings = new MappingTable(table.maxSessions);
    this.reservedFor = table.maxSessions;
    this.values = counters.values;
    this.index = counters.index;
    this.inBatch = hooks.inBatch ?? (() => false);
    this.reportFailed =
      hooks.failed ??
      ((error) => {
        throw error;
      });
  }

  /**
   * Inside a batch the session is noted, and reported by reportNoted(): at the batch's end, at the
   * table's next event (before a deletion could free the handle), or before anything else reads or
   * changes the mappings. A session restored from an ANSWER is reported at once (restore() marks it).
   */
  sessionCreated(table: Nat64Table, h: number): void {
    if (this.restoring === null && this.inBatch()) {
      if (this.notedCount === NOTED_SESSIONS) this.reportNoted();
      this.noted[this.notedCount++] = h;
      return;
    }
    this.reportNoted();
    this.report(table, h);
  }

  /** Reports the sessions noted during the batch, in order; one that throws goes to hooks.failed, the rest still go. */
  private reportNoted(): void {
    const table = this.table;
    const noted = this.noted;
    while (this.notedNext < this.notedCount) {
      const h = noted[this.notedNext++]!;
      try {
        this.report(table, h);
      } catch (error) {
        this.reportFailed(error);
      }
    }
    this.notedNext = 0;
    this.notedCount = 0;
  }

  private report(table: Nat64Table, h: number): void {
    const host = table.serverAddress(h);
    if (host !== this.lastHost) {
      this.lastHost = host;
      this.lastReportable = reportable(host, table);
    }
    if (!this.lastReportable) return;
    const natAddress = table.natAddress(h);
    const natPort = table.natPort(h);
    const protocol = table.protocol(h);
    const m = this.mappings;
    const b = table.bibOf(h);
    const slot = m.find(b, host);
    const restoring = this.restoring;
    const restored = restoring !== null && restoring.protocol === protocol && restoring.natAddress === natAddress && restoring.natPort === natPort;
    if (slot >= 0) {
      m.live[slot]!++;
      if (!restored && (m.flags[slot]! & RECORD_HANDED_OFF) !== 0) this.pending.push(table.sessionToken(h));
      return;
    }
    if (restored) {
      m.add(b, natAddress, host, protocol, natPort, restoring.serverPort, restoring.time, RECORD_HANDED_OFF);
      this.values[this.index.mappingsRestored]!++;
      return;
    }
    const time = this.wallMicros();
    const serverPort = table.serverPort(h);
    const added = m.add(b, natAddress, host, protocol, natPort, serverPort, time, 0);
    this.values[this.index.mappingsCreated]!++;
    this.reporter.mappingCreated(natAddress, host, this.fill(table, b, protocol, natAddress, natPort, host, serverPort, time), m.token(added));
  }

  sessionDeleted(table: Nat64Table, h: number, reason: TableDeleteReason): void {
    this.reportNoted();
    const host = table.serverAddress(h);
    const natAddress = table.natAddress(h);
    if (reason === DELETE_REASON.EVICTED && this.evictedFlows !== null && !closedTcp(table, h)) {
      table.copyClientAddress(h, this.scratch, 0);
      this.evictedFlows.remember(table.protocol(h), this.scratch, 0, table.clientPort(h), host, table.serverPort(h), natAddress);
      this.values[this.index.flowsEvictedRemembered]!++;
    }
    const m = this.mappings;
    const slot = m.find(table.bibOf(h), host);
    if (slot < 0 || --m.live[slot]! > 0) return;
    const time = m.time[slot]!;
    const serverPort = m.serverPort[slot]!;
    m.remove(slot);
    const values = this.values;
    const index = this.index;
    if (reason === DELETE_REASON.RELEASED) {
      values[index.mappingsReleasedQuietly]!++;
      return;
    }
    let wire = wireReason(reason);
    if (reason === DELETE_REASON.EVICTED) {
      // Handed off: the receiver holds the mapping and ends it by its own policy, unless it is over.
      if (!closedTcp(table, h)) {
        values[index.mappingsEvicted]!++;
        return;
      }
      wire = DeleteReason.TCP_CLOSED;
      values[index.mappingsClosedInCache]!++;
    }
    values[index.mappingsDeleted]!++;
    const entry = this.fill(table, table.bibOf(h), table.protocol(h), natAddress, table.natPort(h), host, serverPort, time);
    this.reporter.mappingDeleted(natAddress, host, entry, wire);
  }

  /**
   * The table frees BIB entry `b`: its mappings ended with its sessions, but whatever the tracker did
   * not see end (sessions it never saw, or deleted while it was not subscribed) goes now, without
   * DELETED, so the reused slot starts without records.
   */
  bibDeleted(_table: Nat64Table, b: number): void {
    this.reportNoted();
    this.mappings.removeBib(b);
  }

  /**
   * The receiver took authority over these entries (a Geneve acknowledgement): their sessions toward
   * it become a cache. Each is found by its key through the table's BIB entry. Returns how many
   * mappings were handed off now.
   */
  handedOff(natAddress: number, host: number, entries: readonly HandoffEntry[]): number {
    this.reportNoted();
    let count = 0;
    for (let i = 0; i < entries.length; i++) if (this.handOff(this.recordOf(entries[i]!, natAddress, host), host)) count++;
    return count;
  }

  /**
   * An authoritative receiver acknowledged the CREATED entries of one datagram of the agent's. Each
   * entry's ref is the token of the record it was reported from: a record removed since (the mapping
   * ended, or ended and came back) no longer answers to it, and the entry itself is not read. Entries
   * without a ref are found by their key. Returns how many mappings were handed off now.
   */
  acknowledged(natAddress: number, host: number, acked: AckedEntries): number {
    this.reportNoted();
    const m = this.mappings;
    let count = 0;
    for (let i = 0; i < acked.count; i++) {
      const ref = acked.ref(i);
      if (this.handOff(ref >= 0 ? m.slotOf(ref) : this.recordOf(acked.entry(i), natAddress, host), host)) count++;
    }
    return count;
  }

  /**
   * An ANSWER found `entry`: restores its sessions toward `host` as handed off, one per distinct port of
   * `serverPorts` (those the held packets came from or went to), with the receiver's mapping and no
   * CREATED. Returns how many the table refused (port taken by another client, table full, ...); with
   * `stopOnRefusal`, it stops at the first.
   */
  restore(entry: HandoffEntry, host: number, serverPorts: readonly number[], stopOnRefusal: boolean): number {
    this.reportNoted();
    let refused = 0;
    this.restoring = entry;
    try {
      for (const serverPort of new Set(serverPorts)) {
        const h = this.table.restore({
          protocol: entry.protocol as Protocol,
          clientAddress: entry.clientAddress,
          clientPort: entry.clientPort,
          natAddress: entry.natAddress,
          natPort: entry.natPort,
          serverAddress: host,
          serverPort,
        });
        if (h >= 0) continue;
        refused++;
        if (stopOnRefusal) break;
      }
    } finally {
      this.restoring = null;
    }
    return refused;
  }

  /** The receiver ended these entries (section 6.4): the mapping with the same key and owner goes, without DELETED. */
  released(natAddress: number, host: number, entries: readonly HandoffEntry[]): void {
    this.reportNoted();
    const table = this.table;
    for (const e of entries) {
      const b = table.findBibByNat(e.protocol, natAddress, e.natPort);
      if (b < 0 || table.bibClientPort(b) !== e.clientPort || !this.sameClient(b, e.clientAddress)) {
        this.counters.add('releasesStale');
        continue;
      }
      if (table.release(e.protocol, natAddress, e.natPort, host) > 0) this.counters.add('releasesApplied');
      else this.counters.add('releasesStale');
    }
  }

  /**
   * Reports every live mapping toward `host` to `to` as created, with its original creation time:
   * after a receiver came up, or moved to another transport, or for a periodic Geneve Refresh.
   */
  announce(natAddress: number, host: number, to: MappingReporter = this.reporter): void {
    this.reportNoted();
    const table = this.table;
    const m = this.mappings;
    for (let slot = m.firstOfPeer(natAddress, host); slot >= 0; slot = m.nextOfPeer(slot)) {
      const e = this.fill(table, m.bib[slot]!, m.protocol[slot]!, natAddress, m.natPort[slot]!, host, m.serverPort[slot]!, m.time[slot]!);
      this.counters.add('mappingsReannounced');
      to.mappingCreated(natAddress, host, e, m.token(slot));
    }
  }

  /** A receiver stopped being authoritative: the gateway holds its mappings toward it again. */
  peerDown(natAddress: number, host: number): void {
    this.reportNoted();
    const m = this.mappings;
    for (let slot = m.firstOfPeer(natAddress, host); slot >= 0; slot = m.nextOfPeer(slot)) {
      if ((m.flags[slot]! & RECORD_HANDED_OFF) === 0) continue;
      m.flags[slot]! &= ~RECORD_HANDED_OFF;
      this.mark(slot, host, false);
      this.counters.add('mappingsTakenBack');
    }
  }

  /**
   * Grows the records for a session maximum raised since (a reload), once, before the batch's mappings
   * are recorded; then reports the sessions the batch noted and hands off those created on handed-off
   * mappings.
   */
  batchEnd(): void {
    if (this.table.maxSessions > this.reservedFor) {
      this.reservedFor = this.table.maxSessions;
      this.mappings.reserveUpTo(this.reservedFor);
    }
    this.reportNoted();
    this.lastHost = -1;
    const pending = this.pending;
    if (pending.length === 0) return;
    const table = this.table;
    const m = this.mappings;
    for (const token of pending) {
      const h = table.sessionFromToken(token);
      if (h < 0) continue;
      const host = table.serverAddress(h);
      const natAddress = table.natAddress(h);
      const slot = m.find(table.bibOf(h), host);
      if (slot >= 0 && (m.flags[slot]! & RECORD_HANDED_OFF) !== 0 && this.authority.isAuthoritative(natAddress, host)) {
        table.setHandedOff(h, true);
        this.counters.add('sessionsHandedOffLater');
      }
    }
    pending.length = 0;
  }

  /** Marks the sessions of mapping `slot` toward `host` handed off, or takes them back. */
  private mark(slot: number, host: number, on: boolean): void {
    const table = this.table;
    for (let h = table.firstSessionOfBib(this.mappings.bib[slot]!); h >= 0; h = table.nextSessionOfBib(h)) {
      if (table.serverAddress(h) === host) table.setHandedOff(h, on);
    }
  }

  /** Hands off the mapping of record `slot` toward `host` (-1: stale); whether it was handed off now. */
  private handOff(slot: number, host: number): boolean {
    const m = this.mappings;
    if (slot < 0) {
      this.values[this.index.handOffStale]!++;
      return false;
    }
    if ((m.flags[slot]! & RECORD_HANDED_OFF) !== 0) return false;
    m.flags[slot]! |= RECORD_HANDED_OFF;
    this.mark(slot, host, true);
    this.values[this.index.mappingsHandedOff]!++;
    return true;
  }

  /**
   * The record of the mapping of `e` toward `host`, found by its key through the table's BIB entry,
   * and only the incarnation the entry was reported from (the same creation time); -1 if none.
   */
  private recordOf(e: HandoffEntry, natAddress: number, host: number): number {
    const slot = this.mappings.find(this.table.findBibByNat(e.protocol, natAddress, e.natPort), host);
    return slot >= 0 && this.mappings.time[slot] === e.time ? slot : -1;
  }

  private sameClient(b: number, address: Uint8Array): boolean {
    const mine = this.scratch;
    this.table.copyBibClientAddress(b, mine, 0);
    for (let i = 0; i < 16; i++) if (mine[i] !== address[i]) return false;
    return true;
  }

  /** The reused entry of a mapping on BIB entry `b` (whose client it reads from the table) with these fields. */
  private fill(
    table: Nat64Table,
    b: number,
    protocol: number,
    natAddress: number,
    natPort: number,
    host: number,
    serverPort: number,
    time: number,
  ): HandoffEntry {
    const e = this.entry;
    e.protocol = protocol;
    e.reason = 0;
    e.natAddress = natAddress;
    e.natPort = natPort;
    table.copyBibClientAddress(b, e.clientAddress, 0);
    e.clientPort = table.bibClientPort(b);
    e.serverAddress = host;
    e.serverPort = serverPort;
    e.time = time;
    return e;
  }
}
