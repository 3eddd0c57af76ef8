// Random sequences of operations run against the table and against a plain Map-based model of RFC 6146
// tables (UDP and ICMP; the TCP state machine has its own tests); after every step they must agree.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Nat64Table, PROTOCOL, VERDICT } from '@nat64/nat64';
import { client, NAT_1, NAT_2, SECRET, SERVER_1, SERVER_2, TestClock, v4 } from './support.js';

const { UDP, ICMP } = PROTOCOL;
type Proto = typeof UDP | typeof ICMP;
const POOL = [NAT_1, NAT_2];
const SERVERS = [SERVER_1, SERVER_2, v4(198, 51, 100, 30)];
// Small on purpose, so exhaustion, parity fallback, limits and eviction happen often.
const RANGE = { min: 2000, max: 2003 };
const MAX_SESSIONS = 4;
const PER_CLIENT = 3;
const TIMEOUT: Record<Proto, number> = { [UDP]: 120_000, [ICMP]: 60_000 };

interface MSession {
  proto: Proto;
  c: number;
  cport: number;
  s: number;
  sport: number;
  bib: string;
  lastUse: number;
  handedOff: boolean;
  handle: number;
}
interface MBib {
  proto: Proto;
  c: number;
  cport: number;
  natAddress: number;
  natPort: number;
  sessions: Set<string>;
}

type Op =
  | { kind: 'out'; proto: Proto; c: number; cport: number; s: number; sport: number }
  | { kind: 'in'; proto: Proto; pick: number; known: boolean; a: number; natPort: number; s: number; sport: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'handoff'; pick: number }
  | { kind: 'restore'; proto: Proto; c: number; cport: number; a: number; natPort: number; s: number; sport: number; known: boolean; pick: number }
  | { kind: 'release'; pick: number; withServer: boolean; s: number }
  | { kind: 'delete'; pick: number };

const proto = fc.constantFrom<Proto>(UDP, ICMP);
// Three even client ports to one odd, so even NAT ports run out and parity must fall back.
const cport = fc.constantFrom(40_000, 40_002, 40_004, 40_001);
const clientIndex = fc.nat(3);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('out' as const), proto, c: clientIndex, cport, s: fc.nat(2), sport: fc.constantFrom(53, 123) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('in' as const),
      proto,
      pick: fc.nat(50),
      known: fc.boolean(),
      a: fc.nat(1),
      natPort: fc.integer({ min: 1998, max: 2005 }),
      s: fc.nat(2),
      sport: fc.constantFrom(53, 123),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(1_000, 10_000, 30_000, 61_000, 121_000) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('handoff' as const), pick: fc.nat(50) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('restore' as const),
      proto,
      c: clientIndex,
      cport,
      a: fc.nat(1),
      natPort: fc.constantFrom(1990, 2000, 2001, 2003),
      s: fc.nat(2),
      sport: fc.constantFrom(53, 123),
      known: fc.boolean(),
      pick: fc.nat(50),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat(50), withServer: fc.boolean(), s: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat(50) }) },
);

class Model {
  readonly sessions = new Map<string, MSession>();
  readonly bibs = new Map<string, MBib>();
  readonly byNat = new Map<string, string>();
  readonly paired = new Map<number, number>();
  readonly deleted = { timeout: 0, evicted: 0, released: 0 };
  now = 0;

  constructor(readonly addressDependent: boolean) {}

  static sessionKey(proto: number, c: number, cport: number, s: number, sport: number): string {
    return `${proto}|${c}|${cport}|${s}|${proto === ICMP ? 0 : sport}`;
  }
  static bibKey(proto: number, c: number, cport: number): string {
    return `${proto}|${c}|${cport}`;
  }
  static natKey(proto: number, address: number, port: number): string {
    return `${proto}|${address}|${port}`;
  }

  clientSessions(c: number): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.c === c) n++;
    return n;
  }
  clientBibs(c: number): number {
    let n = 0;
    for (const b of this.bibs.values()) if (b.c === c) n++;
    return n;
  }
  freePorts(proto: Proto, address: number): number[] {
    const free: number[] = [];
    for (let p = RANGE.min; p <= RANGE.max; p++) if (!this.byNat.has(Model.natKey(proto, address, p))) free.push(p);
    return free;
  }
  sessionsByKey(): [string, MSession][] {
    return [...this.sessions.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  }

  deleteSession(key: string, reason: keyof Model['deleted']): void {
    const s = this.sessions.get(key)!;
    this.sessions.delete(key);
    this.deleted[reason]++;
    const bib = this.bibs.get(s.bib)!;
    bib.sessions.delete(key);
    if (bib.sessions.size === 0) {
      this.bibs.delete(s.bib);
      this.byNat.delete(Model.natKey(bib.proto, bib.natAddress, bib.natPort));
      if (this.clientBibs(bib.c) === 0) this.paired.delete(bib.c);
    }
  }

  /** The least recently used handed-off session goes, if any. */
  evict(): boolean {
    let victim: [string, MSession] | undefined;
    for (const entry of this.sessions) if (entry[1].handedOff && (!victim || entry[1].lastUse < victim[1].lastUse)) victim = entry;
    if (!victim) return false;
    this.deleteSession(victim[0], 'evicted');
    return true;
  }

  addBib(proto: Proto, c: number, cport: number, natAddress: number, natPort: number): string {
    const key = Model.bibKey(proto, c, cport);
    if (this.clientBibs(c) === 0) this.paired.set(c, natAddress);
    this.bibs.set(key, { proto, c, cport, natAddress, natPort, sessions: new Set() });
    this.byNat.set(Model.natKey(proto, natAddress, natPort), key);
    return key;
  }

  addSession(proto: Proto, c: number, cport: number, s: number, sport: number, bib: string, handedOff: boolean, handle: number): void {
    const key = Model.sessionKey(proto, c, cport, s, sport);
    this.sessions.set(key, { proto, c, cport, s, sport: proto === ICMP ? 0 : sport, bib, lastUse: this.now, handedOff, handle });
    this.bibs.get(bib)!.sessions.add(key);
  }
}

function run(addressDependent: boolean, ops: Op[]): void {
  const clock = new TestClock();
  const pool4 = POOL.map((address) => ({ address, udp: RANGE, icmp: RANGE }));
  const table = new Nat64Table({
    pool4,
    clock: clock.read,
    secret: SECRET,
    timeouts: { udp: TIMEOUT[UDP], icmp: TIMEOUT[ICMP] },
    maxSessions: MAX_SESSIONS,
    maxSessionsPerClient: PER_CLIENT,
    filtering: addressDependent ? 'address-dependent' : 'endpoint-independent',
    initialCapacity: 16,
  });
  const m = new Model(addressDependent);
  for (const o of ops) {
    // Every step happens at its own millisecond, so "least recently used" is never a tie.
    clock.advance(1);
    m.now = clock.now;
    step(table, m, o, clock);
    check(table, m);
  }
}

function step(table: Nat64Table, m: Model, o: Op, clock: TestClock): void {
  switch (o.kind) {
    case 'out': {
      const result = table.outbound(o.proto, client(o.c), 0, o.cport, SERVERS[o.s]!, o.sport);
      const existing = m.sessions.get(Model.sessionKey(o.proto, o.c, o.cport, o.s, o.sport));
      if (existing) {
        expect(result).toBe(existing.handle);
        existing.lastUse = m.now;
        return;
      }
      const bibKey = Model.bibKey(o.proto, o.c, o.cport);
      if (m.clientSessions(o.c) >= PER_CLIENT) return void expect(result).toBe(VERDICT.CLIENT_LIMIT);
      if (m.sessions.size >= MAX_SESSIONS && !m.evict()) return void expect(result).toBe(VERDICT.TABLE_FULL);
      let bib = m.bibs.has(bibKey) ? bibKey : undefined;
      if (bib === undefined) {
        const paired = m.clientBibs(o.c) > 0 ? m.paired.get(o.c) : undefined;
        const candidates = (paired !== undefined ? [paired] : POOL).filter((a) => m.freePorts(o.proto, a).length > 0);
        if (candidates.length === 0) return void expect(result).toBe(VERDICT.POOL_EXHAUSTED);
        expect(result).toBeGreaterThanOrEqual(0);
        const natAddress = table.natAddress(result);
        const natPort = table.natPort(result);
        expect(candidates).toContain(natAddress);
        const free = m.freePorts(o.proto, natAddress);
        expect(free).toContain(natPort);
        // Parity is kept whenever a port of the client's parity is free (UDP; ICMP has no parity).
        if (o.proto === UDP && free.some((p) => p % 2 === o.cport % 2)) expect(natPort % 2).toBe(o.cport % 2);
        bib = m.addBib(o.proto, o.c, o.cport, natAddress, natPort);
      }
      expect(result).toBeGreaterThanOrEqual(0);
      const b = m.bibs.get(bib)!;
      expect([table.natAddress(result), table.natPort(result)]).toEqual([b.natAddress, b.natPort]);
      m.addSession(o.proto, o.c, o.cport, o.s, o.sport, bib, false, result);
      return;
    }
    case 'in': {
      const bibs = [...m.bibs.values()];
      const known = o.known && bibs.length > 0 ? bibs[o.pick % bibs.length] : undefined;
      const proto = known?.proto ?? o.proto;
      const natAddress = known?.natAddress ?? POOL[o.a]!;
      const natPort = known?.natPort ?? o.natPort;
      const result = table.inbound(proto, SERVERS[o.s]!, o.sport, natAddress, natPort);
      const bibKey = m.byNat.get(Model.natKey(proto, natAddress, natPort));
      const bib = bibKey === undefined ? undefined : m.bibs.get(bibKey)!;
      const existing = bib && m.sessions.get(Model.sessionKey(proto, bib.c, bib.cport, o.s, o.sport));
      if (existing) {
        expect(result).toBe(existing.handle);
        existing.lastUse = m.now;
        return;
      }
      if (!bib || !bibKey) return void expect(result).toBe(VERDICT.NO_BIB);
      if (m.addressDependent && ![...bib.sessions].some((k) => m.sessions.get(k)!.s === o.s)) {
        return void expect(result).toBe(VERDICT.FILTERED);
      }
      if (m.clientSessions(bib.c) >= PER_CLIENT) return void expect(result).toBe(VERDICT.CLIENT_LIMIT);
      if (m.sessions.size >= MAX_SESSIONS && !m.evict()) return void expect(result).toBe(VERDICT.TABLE_FULL);
      if (!m.bibs.has(bibKey)) return void expect(result).toBe(VERDICT.NO_BIB);
      expect(result).toBeGreaterThanOrEqual(0);
      m.addSession(proto, bib.c, bib.cport, o.s, o.sport, bibKey, false, result);
      return;
    }
    case 'advance': {
      clock.advance(o.ms);
      m.now = clock.now;
      table.expire();
      for (const [key, s] of m.sessionsByKey()) {
        if (s.lastUse + TIMEOUT[s.proto] <= m.now) m.deleteSession(key, s.handedOff ? 'evicted' : 'timeout');
      }
      return;
    }
    case 'handoff': {
      const all = m.sessionsByKey();
      if (all.length === 0) return;
      const s = all[o.pick % all.length]![1];
      s.handedOff = !s.handedOff;
      table.setHandedOff(s.handle, s.handedOff);
      return;
    }
    case 'restore': {
      let r = o;
      // Half the time, the authority reports a session the table has (with its NAT port, or another one).
      const all = m.sessionsByKey();
      if (o.known && all.length > 0) {
        const [, s] = all[o.pick % all.length]!;
        const b = m.bibs.get(s.bib)!;
        r = { ...r, proto: s.proto, c: s.c, cport: s.cport, s: s.s, sport: s.sport, a: POOL.indexOf(b.natAddress) };
        r = { ...r, natPort: r.pick % 3 === 0 ? r.natPort : b.natPort };
      }
      const natAddress = POOL[r.a]!;
      const result = table.restore({
        protocol: r.proto,
        clientAddress: client(r.c),
        clientPort: r.cport,
        natAddress,
        natPort: r.natPort,
        serverAddress: SERVERS[r.s]!,
        serverPort: r.sport,
      });
      const existing = m.sessions.get(Model.sessionKey(r.proto, r.c, r.cport, r.s, r.sport));
      if (existing) {
        const b = m.bibs.get(existing.bib)!;
        if (b.natAddress !== natAddress || b.natPort !== r.natPort) return void expect(result).toBe(VERDICT.CONFLICT);
        expect(result).toBe(existing.handle);
        existing.handedOff = true;
        existing.lastUse = m.now;
        return;
      }
      const bibKey = Model.bibKey(r.proto, r.c, r.cport);
      const byClient = m.bibs.has(bibKey) ? bibKey : undefined;
      const byNat = m.byNat.get(Model.natKey(r.proto, natAddress, r.natPort));
      if (byClient !== byNat) return void expect(result).toBe(VERDICT.CONFLICT);
      if (m.sessions.size >= MAX_SESSIONS && !m.evict()) return void expect(result).toBe(VERDICT.TABLE_FULL);
      expect(result).toBeGreaterThanOrEqual(0);
      const bib = m.bibs.has(bibKey) ? bibKey : m.addBib(r.proto, r.c, r.cport, natAddress, r.natPort);
      m.addSession(r.proto, r.c, r.cport, r.s, r.sport, bib, true, result);
      return;
    }
    case 'release': {
      const bibs = [...m.bibs.values()];
      if (bibs.length === 0) return;
      const bib = bibs[o.pick % bibs.length]!;
      const server = o.withServer ? SERVERS[o.s]! : undefined;
      const count = table.release(bib.proto, bib.natAddress, bib.natPort, server);
      let expected = 0;
      for (const key of [...bib.sessions]) {
        if (server === undefined || SERVERS[m.sessions.get(key)!.s] === server) {
          m.deleteSession(key, 'released');
          expected++;
        }
      }
      expect(count).toBe(expected);
      return;
    }
    case 'delete': {
      const all = m.sessionsByKey();
      if (all.length === 0) return;
      const [key, s] = all[o.pick % all.length]!;
      table.deleteSession(s.handle);
      m.sessions.get(key)!.handedOff = false;
      m.deleteSession(key, 'timeout');
      m.deleted.timeout--;
      return;
    }
  }
}

function check(table: Nat64Table, m: Model): void {
  expect(table.sessionCount).toBe(m.sessions.size);
  expect(table.bibCount).toBe(m.bibs.size);
  for (const s of m.sessions.values()) {
    const b = m.bibs.get(s.bib)!;
    const server = SERVERS[s.s]!;
    expect(table.lookupOutbound(s.proto, client(s.c), 0, s.cport, server, s.sport)).toBe(s.handle);
    expect(table.lookupInbound(s.proto, server, s.sport, b.natAddress, b.natPort)).toBe(s.handle);
    expect(table.isHandedOff(s.handle)).toBe(s.handedOff);
    expect(table.expiresAt(s.handle)).toBe(s.lastUse + TIMEOUT[s.proto]);
  }
  const counters = Object.fromEntries(table.counters().map((c) => [c.name, c.value]));
  expect(counters.sessionsTimedOut).toBe(m.deleted.timeout);
  expect(counters.sessionsEvicted).toBe(m.deleted.evicted);
  expect(counters.sessionsReleased).toBe(m.deleted.released);
  expect(counters.sessionsUdp! + counters.sessionsIcmp!).toBe(m.sessions.size);
}

describe('table (model)', () => {
  it('agrees with a Map-based model under endpoint-independent filtering', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 100 }), (ops) => run(false, ops)),
      { numRuns: 400 },
    );
  });

  it('agrees with a Map-based model under address-dependent filtering', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 100 }), (ops) => run(true, ops)),
      { numRuns: 400 },
    );
  });
});
