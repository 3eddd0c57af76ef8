// pool4: the IPv4 addresses the NAT64 maps clients to, each with a range of ports per protocol (ICMP:
// identifiers). A bitmap per address and protocol marks ports held by BIB entries. Dynamic ports are chosen
// with RFC 6056 3.3.3 (algorithm 3, "simple hash-based"): start at F(client, pool address, secret) plus a
// counter and take the next free port, so successive ports are hard to guess off-path while one client's
// ports stay clustered. RFC 6146 3.5.1.1 / RFC 4787 REQ-3 and REQ-4: the port keeps the client port's range
// (0-1023 or 1024-65535) and parity when one is free; a client port at or above 1024 never gets a well-known one.

import { PROTOCOL, SPEC, IMPL } from './constants.js';
import { Nat64Error } from './errors.js';

/** An inclusive range of ports or ICMP identifiers. */
export interface PortRange {
  readonly min: number;
  readonly max: number;
}

/** One pool4 address (a 32-bit unsigned integer) and its dynamic ranges; omitted ranges take the defaults. */
export interface Pool4Entry {
  readonly address: number;
  readonly tcp?: PortRange;
  readonly udp?: PortRange;
  readonly icmp?: PortRange;
}

const SLOTS = 3;
const WORDS = 65_536 / 32;
const CLASSES = 4;
const EVEN = 0x55555555;
const ODD = 0xaaaaaaaa | 0;
const ALL = -1;

/** The per-protocol slot of pool4 state: ICMP 0, TCP 1, UDP 2, other -1. */
export function protocolSlot(protocol: number): number {
  return protocol === PROTOCOL.TCP ? 1 : protocol === PROTOCOL.UDP ? 2 : protocol === PROTOCOL.ICMP ? 0 : -1;
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Ports of parity `parity` in [lo, hi]. */
function countParity(lo: number, hi: number, parity: number): number {
  if (lo > hi) return 0;
  const first = (lo & 1) === parity ? lo : lo + 1;
  return first > hi ? 0 : ((hi - first) >>> 1) + 1;
}

export class Pool4 {
  readonly addresses: Uint32Array;
  private readonly index = new Map<number, number>();
  /** Used-port bitmaps, WORDS words per (address, slot). */
  private readonly used: Uint32Array;
  private readonly min: Uint16Array;
  private readonly max: Uint16Array;
  /** Free dynamic ports per (address, slot, class); class = (port >= 1024 ? 2 : 0) + parity; ICMP uses class 0. */
  private readonly free: Int32Array;
  /** RFC 6056 algorithm 3's next_ephemeral, per (address, slot). */
  private readonly counter: Uint32Array;
  /** Reserved ports, WORDS words per slot, the same on every address. */
  private readonly reserved = new Uint32Array(SLOTS * WORDS);

  /** `reserved`: [protocol, port] pairs kept out of every address (marked used for good). */
  constructor(entries: readonly Pool4Entry[], reserved: readonly (readonly [protocol: number, port: number])[] = []) {
    if (entries.length === 0) throw new Nat64Error('BAD_POOL4', 'pool4 needs at least one address');
    if (entries.length > 0xffff) throw new Nat64Error('BAD_POOL4', 'pool4 holds at most 65535 addresses');
    const n = entries.length;
    this.addresses = new Uint32Array(n);
    this.used = new Uint32Array(n * SLOTS * WORDS);
    this.min = new Uint16Array(n * SLOTS);
    this.max = new Uint16Array(n * SLOTS);
    this.free = new Int32Array(n * SLOTS * CLASSES);
    this.counter = new Uint32Array(n * SLOTS);
    entries.forEach((entry, a) => {
      const address = entry.address;
      if (!Number.isInteger(address) || address < 0 || address > 0xffffffff) {
        throw new Nat64Error('BAD_POOL4', `pool4 address ${address} is not a 32-bit unsigned integer`);
      }
      if (this.index.has(address)) throw new Nat64Error('BAD_POOL4', `pool4 address ${address} is listed twice`);
      this.index.set(address, a);
      this.addresses[a] = address;
      const portDefault = { min: IMPL.DEFAULT_PORT_MIN, max: SPEC.PORT_MAX };
      this.setRange(a, 0, entry.icmp ?? { min: IMPL.DEFAULT_ICMP_ID_MIN, max: SPEC.PORT_MAX }, 0);
      this.setRange(a, 1, entry.tcp ?? portDefault, 1);
      this.setRange(a, 2, entry.udp ?? portDefault, 1);
    });
    for (const [protocol, port] of reserved) {
      const slot = protocolSlot(protocol);
      if (slot < 0 || !Number.isInteger(port) || port < 0 || port > SPEC.PORT_MAX) {
        throw new Nat64Error('BAD_POOL4', `reserved port ${protocol}/${port} is not a TCP, UDP or ICMP port`);
      }
      if (this.isReserved(slot, port)) continue;
      this.reserved[slot * WORDS + (port >>> 5)]! |= 1 << (port & 31);
      for (let a = 0; a < n; a++) this.markUsed(slot, a, port);
    }
  }

  /** Whether a port is reserved (on every address) and so never part of a BIB entry. */
  isReserved(slot: number, port: number): boolean {
    return (this.reserved[slot * WORDS + (port >>> 5)]! & (1 << (port & 31))) !== 0;
  }

  /** Marks one particular dynamic port used if it lies in the dynamic range and is free; false otherwise. */
  claim(slot: number, a: number, port: number): boolean {
    const k = a * SLOTS + slot;
    if (port < this.min[k]! || port > this.max[k]! || this.isUsed(slot, a, port)) return false;
    this.markUsed(slot, a, port);
    return true;
  }

  get size(): number {
    return this.addresses.length;
  }

  /** Index of a pool4 address, or -1. Also the hairpinning test: a destination in pool4 goes back inbound. */
  indexOf(address: number): number {
    return this.index.get(address) ?? -1;
  }

  isUsed(slot: number, a: number, port: number): boolean {
    return (this.used[(a * SLOTS + slot) * WORDS + (port >>> 5)]! & (1 << (port & 31))) !== 0;
  }

  markUsed(slot: number, a: number, port: number): void {
    const k = a * SLOTS + slot;
    this.used[k * WORDS + (port >>> 5)]! |= 1 << (port & 31);
    if (port >= this.min[k]! && port <= this.max[k]!) this.free[k * CLASSES + this.classOf(slot, port)]!--;
  }

  markFree(slot: number, a: number, port: number): void {
    const k = a * SLOTS + slot;
    this.used[k * WORDS + (port >>> 5)]! &= ~(1 << (port & 31));
    if (port >= this.min[k]! && port <= this.max[k]!) this.free[k * CLASSES + this.classOf(slot, port)]!++;
  }

  /** Free dynamic ports of this address and protocol that a client port like `clientPort` may take. */
  available(slot: number, a: number, clientPort: number): number {
    const f = (a * SLOTS + slot) * CLASSES;
    if (slot === 0) return this.free[f]!;
    const high = this.free[f + 2]! + this.free[f + 3]!;
    return clientPort < SPEC.FIRST_NON_WELL_KNOWN_PORT ? high + this.free[f]! + this.free[f + 1]! : high;
  }

  /**
   * Picks a free dynamic port for a client port in pool address `a` and marks it used, or returns -1.
   * `offset` is F() of RFC 6056 algorithm 3 for this client and address.
   */
  allocate(slot: number, a: number, clientPort: number, offset: number): number {
    const k = a * SLOTS + slot;
    const lo = this.min[k]!;
    const hi = this.max[k]!;
    const step = this.counter[k]!;
    this.counter[k] = (step + 1) >>> 0;
    const base = (offset + step) >>> 0;
    if (slot === 0) {
      if (this.free[k * CLASSES]! <= 0) return -1;
      return this.take(slot, a, lo, hi, ALL, lo + (base % (hi - lo + 1)));
    }
    const parity = clientPort & 1;
    const lowHi = Math.min(hi, SPEC.FIRST_NON_WELL_KNOWN_PORT - 1);
    const highLo = Math.max(lo, SPEC.FIRST_NON_WELL_KNOWN_PORT);
    if (clientPort < SPEC.FIRST_NON_WELL_KNOWN_PORT) {
      const port = this.takeClass(slot, a, lo, lowHi, parity, base) ?? this.takeClass(slot, a, lo, lowHi, parity ^ 1, base);
      if (port !== undefined) return port;
    }
    return this.takeClass(slot, a, highLo, hi, parity, base) ?? this.takeClass(slot, a, highLo, hi, parity ^ 1, base) ?? -1;
  }

  /** Ports (ICMP: identifiers) of this address and protocol held by BIB entries, static ones included; reserved ports are not counted. */
  portsInUse(slot: number, a: number): number {
    const base = (a * SLOTS + slot) * WORDS;
    let ports = 0;
    for (let w = 0; w < WORDS; w++) ports += popcount(this.used[base + w]! & ~this.reserved[slot * WORDS + w]!);
    return ports;
  }

  /** Memory held by the bitmaps and counters. */
  bytesAllocated(): number {
    return (
      this.addresses.byteLength +
      this.used.byteLength +
      this.min.byteLength +
      this.max.byteLength +
      this.free.byteLength +
      this.counter.byteLength +
      this.reserved.byteLength
    );
  }

  private setRange(a: number, slot: number, range: PortRange, lowest: number): void {
    const { min, max } = range;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < lowest || max > SPEC.PORT_MAX || min > max) {
      throw new Nat64Error('BAD_POOL4', `pool4 range ${min}-${max} is not within ${lowest}-${SPEC.PORT_MAX}`);
    }
    const k = a * SLOTS + slot;
    this.min[k] = min;
    this.max[k] = max;
    const f = k * CLASSES;
    if (slot === 0) {
      this.free[f] = max - min + 1;
      return;
    }
    const lowHi = Math.min(max, SPEC.FIRST_NON_WELL_KNOWN_PORT - 1);
    const highLo = Math.max(min, SPEC.FIRST_NON_WELL_KNOWN_PORT);
    this.free[f] = countParity(min, lowHi, 0);
    this.free[f + 1] = countParity(min, lowHi, 1);
    this.free[f + 2] = countParity(highLo, max, 0);
    this.free[f + 3] = countParity(highLo, max, 1);
  }

  private classOf(slot: number, port: number): number {
    return slot === 0 ? 0 : (port >= SPEC.FIRST_NON_WELL_KNOWN_PORT ? 2 : 0) + (port & 1);
  }

  /** A free port of one parity in [lo, hi], starting from the base-th such port, or undefined. */
  private takeClass(slot: number, a: number, lo: number, hi: number, parity: number, base: number): number | undefined {
    const cls = (lo >= SPEC.FIRST_NON_WELL_KNOWN_PORT ? 2 : 0) + parity;
    if (lo > hi || this.free[(a * SLOTS + slot) * CLASSES + cls]! <= 0) return undefined;
    const first = (lo & 1) === parity ? lo : lo + 1;
    const start = first + 2 * (base % countParity(lo, hi, parity));
    const port = this.take(slot, a, lo, hi, parity === 0 ? EVEN : ODD, start);
    return port < 0 ? undefined : port;
  }

  /** The first free port matching `mask` at or after `start` in [lo, hi], wrapping around; marks it used. */
  private take(slot: number, a: number, lo: number, hi: number, mask: number, start: number): number {
    const base = (a * SLOTS + slot) * WORDS;
    let port = this.scan(base, start, hi, mask);
    if (port < 0) port = this.scan(base, lo, start - 1, mask);
    if (port >= 0) this.markUsed(slot, a, port);
    return port;
  }

  private scan(base: number, from: number, to: number, mask: number): number {
    if (from > to) return -1;
    const used = this.used;
    let w = from >>> 5;
    const last = to >>> 5;
    let bits = ~used[base + w]! & mask & (-1 << (from & 31));
    for (;;) {
      if (w === last && (to & 31) !== 31) bits &= (1 << ((to & 31) + 1)) - 1;
      if (bits !== 0) return (w << 5) + ctz(bits);
      if (w === last) return -1;
      w++;
      bits = ~used[base + w]! & mask;
    }
  }
}
