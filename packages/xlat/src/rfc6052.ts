// IPv4-embedded IPv6 addresses (RFC 6052): a prefix of length 32, 40, 48, 56, 64 or 96 with the
// IPv4 address spread around the reserved "u" octet (bits 64-71), plus the check RFC 6052 3.1
// needs: whether an IPv4 address is non-global per the IANA special-purpose registry.

import { bytesToIpv6Text, ipv6TextIntoBytes } from '@nat64/wire';
import { XlatError } from './errors.js';

export type Rfc6052Length = 32 | 40 | 48 | 56 | 64 | 96;

/** RFC 6052 2.2: the prefix lengths an IPv4-embedded address may use. */
export const RFC6052_LENGTHS: readonly Rfc6052Length[] = [32, 40, 48, 56, 64, 96];

/** RFC 6052 2.2 Figure 1: address byte of each IPv4 octet, per prefix length (byte 8 is "u"). */
const OCTET_BYTES: Readonly<Record<Rfc6052Length, readonly [number, number, number, number]>> = {
  32: [4, 5, 6, 7],
  40: [5, 6, 7, 9],
  48: [6, 7, 9, 10],
  56: [7, 9, 10, 11],
  64: [9, 10, 11, 12],
  96: [12, 13, 14, 15],
};

/** RFC 6052 2.2: bits 64-71, the "u" octet, must be zero. */
const U_OCTET = 8;

/**
 * An RFC 6052 prefix. `embed` and `extract` are the per-packet operations and allocate nothing.
 *
 * `extract` accepts only addresses whose u octet and suffix are zero (RFC 6052 2.2: the u octet
 * MUST be zero, the suffix SHOULD be). Accepting a non-zero suffix would alias 2^56 IPv6 addresses
 * onto one IPv4 address, and replies would come back to the zero-suffix address instead of the
 * sender; rejecting keeps `embed(extract(a)) == a` for every accepted address.
 */
export class Rfc6052Prefix {
  /** The 16 prefix bytes; bytes past the prefix length are zero. */
  readonly bytes: Uint8Array;
  readonly length: Rfc6052Length;
  private readonly prefixBytes: number;
  private readonly b0: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly b3: number;

  /** Throws XlatError('badPrefix') for a length RFC 6052 does not allow, host bits or a set u octet. */
  constructor(bytes: Uint8Array, length: number) {
    if (!(RFC6052_LENGTHS as readonly number[]).includes(length)) {
      throw new XlatError('badPrefix', `RFC 6052 prefix length must be one of ${RFC6052_LENGTHS.join(', ')}, not ${length}`);
    }
    if (bytes.length !== 16) throw new XlatError('badPrefix', 'an IPv6 prefix needs 16 bytes');
    this.length = length as Rfc6052Length;
    this.prefixBytes = length / 8;
    this.bytes = new Uint8Array(16);
    this.bytes.set(bytes.subarray(0, this.prefixBytes));
    for (let i = this.prefixBytes; i < 16; i++) {
      if (bytes[i] !== 0) throw new XlatError('badPrefix', `prefix ${bytesToIpv6Text(bytes)}/${length} has host bits set`);
    }
    if (this.bytes[U_OCTET] !== 0) {
      throw new XlatError('badPrefix', `prefix ${bytesToIpv6Text(bytes)}/${length}: bits 64-71 (the u octet) must be zero`);
    }
    [this.b0, this.b1, this.b2, this.b3] = OCTET_BYTES[this.length];
  }

  /** Parses "2001:db8::/40"; throws XlatError('badPrefix') with the offset of the problem. */
  static parse(text: string): Rfc6052Prefix {
    const slash = text.indexOf('/');
    if (slash < 0) throw new XlatError('badPrefix', `"${text}" has no prefix length`, text.length);
    const bytes = new Uint8Array(16);
    if (!ipv6TextIntoBytes(text.slice(0, slash), bytes)) {
      throw new XlatError('badPrefix', `"${text.slice(0, slash)}" is not an IPv6 address`, 0);
    }
    const lengthText = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(lengthText)) throw new XlatError('badPrefix', `bad prefix length in "${text}"`, slash + 1);
    return new Rfc6052Prefix(bytes, Number(lengthText));
  }

  /** Writes the IPv4-embedded address of `ipv4` to out[offset, offset + 16); returns offset + 16. */
  embed(ipv4: number, out: Uint8Array, offset: number): number {
    const prefix = this.bytes;
    for (let i = 0; i < 16; i++) out[offset + i] = prefix[i]!;
    out[offset + this.b0] = ipv4 >>> 24;
    out[offset + this.b1] = ipv4 >>> 16;
    out[offset + this.b2] = ipv4 >>> 8;
    out[offset + this.b3] = ipv4;
    return offset + 16;
  }

  /** True when buf[offset, offset + 16) starts with this prefix (u octet and suffix not checked). */
  contains(buf: Uint8Array, offset: number): boolean {
    const prefix = this.bytes;
    for (let i = 0; i < this.prefixBytes; i++) if (buf[offset + i] !== prefix[i]) return false;
    return true;
  }

  /**
   * The IPv4 address embedded in buf[offset, offset + 16) as an unsigned number, or -1 when the
   * address is not under this prefix or its u octet or suffix is not zero.
   */
  extract(buf: Uint8Array, offset: number): number {
    if (!this.contains(buf, offset)) return -1;
    for (let i = this.prefixBytes; i < 16; i++) {
      if (i !== this.b0 && i !== this.b1 && i !== this.b2 && i !== this.b3 && buf[offset + i] !== 0) return -1;
    }
    return ((buf[offset + this.b0]! << 24) | (buf[offset + this.b1]! << 16) | (buf[offset + this.b2]! << 8) | buf[offset + this.b3]!) >>> 0;
  }

  toString(): string {
    return `${bytesToIpv6Text(this.bytes)}/${this.length}`;
  }
}

/** RFC 6052 2.1: the Well-Known Prefix 64:ff9b::/96. */
export const WELL_KNOWN_PREFIX_TEXT = '64:ff9b::/96';

type Block = readonly [base: number, length: number];

function block(a: number, b: number, c: number, d: number, length: number): Block {
  return [((a << 24) | (b << 16) | (c << 8) | d) >>> 0, length];
}

/**
 * IANA IPv4 Special-Purpose Address Registry (RFC 6890 and its updates) entries whose "Globally
 * Reachable" is False, plus multicast 224.0.0.0/4, which RFC 5735 section 3 (the list RFC 6052 3.1
 * refers to) also names and which no NAT64 can carry.
 */
const NON_GLOBAL: readonly Block[] = [
  block(0, 0, 0, 0, 8), // "this network", RFC 791
  block(10, 0, 0, 0, 8), // private, RFC 1918
  block(100, 64, 0, 0, 10), // shared address space, RFC 6598
  block(127, 0, 0, 0, 8), // loopback, RFC 1122
  block(169, 254, 0, 0, 16), // link local, RFC 3927
  block(172, 16, 0, 0, 12), // private, RFC 1918
  block(192, 0, 0, 0, 24), // IETF protocol assignments, RFC 6890 (DS-Lite, dummy, NAT64 discovery...)
  block(192, 0, 2, 0, 24), // TEST-NET-1, RFC 5737
  block(192, 168, 0, 0, 16), // private, RFC 1918
  block(198, 18, 0, 0, 15), // benchmarking, RFC 2544
  block(198, 51, 100, 0, 24), // TEST-NET-2, RFC 5737
  block(203, 0, 113, 0, 24), // TEST-NET-3, RFC 5737
  block(224, 0, 0, 0, 4), // multicast, RFC 5771
  block(240, 0, 0, 0, 4), // reserved, RFC 1112 (includes 255.255.255.255, limited broadcast)
];

/** More specific registry entries inside a non-global block that are globally reachable. */
const GLOBAL_EXCEPTIONS: readonly Block[] = [
  block(192, 0, 0, 9, 32), // Port Control Protocol anycast, RFC 7723
  block(192, 0, 0, 10, 32), // TURN anycast, RFC 8155
];

function inBlock(address: number, [base, length]: Block): boolean {
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return (address & mask) >>> 0 === base;
}

/**
 * True when `address` is not globally reachable. RFC 6052 3.1: the Well-Known Prefix MUST NOT be
 * used to represent such addresses; the gateway decides whether to refuse them.
 */
export function isNonGlobalIpv4(address: number): boolean {
  for (const exception of GLOBAL_EXCEPTIONS) if (inBlock(address, exception)) return false;
  for (const entry of NON_GLOBAL) if (inBlock(address, entry)) return true;
  return false;
}
