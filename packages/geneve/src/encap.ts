// Full encapsulation for a gateway that writes raw packets into a TUN device: outer IPv4 or IPv6
// header, UDP header and Geneve header written into the headroom in front of an inner IPv4
// packet, which is neither copied nor moved (RFC 8926 §3.1, §3.2, §3.3, §4.1). One encapsulator
// per underlay source, built once; each call allocates nothing unless it signs (node:crypto).
import { copyBytes, finishChecksum, finishUdpChecksum, sumWords, writeU16, writeU32 } from '@nat64/wire';
import { checkBytes, checkUint } from './bytes.js';
import { DEFAULT_TTL, Geneve, Underlay } from './constants.js';
import { flowHash, sourcePortFromHash } from './flow-hash.js';
import type { MappingOption } from './mapping.js';
import { GeneveWriter } from './writer.js';
import type { GeneveWriterConfig } from './writer.js';

export interface OuterConfig {
  /** Seeds the flow hash, so two gateways spread the same flows differently (default 0). */
  flowHashSeed?: number;
  /** Outer TTL / Hop Limit (default 64). */
  ttl?: number;
  /**
   * Outer DSCP (default 0). The outer ECN field is always Not-ECT: RFC 6040 §4.1 compatibility
   * mode, because the receiver reads from a UDP socket and cannot carry an outer CE mark inward.
   */
  dscp?: number;
}

/** The outer IPv4 header's settings, as every IPv4 encapsulator takes them. */
export interface Ipv4OuterConfig extends OuterConfig {
  source: number;
  /** Compute the UDP checksum (default true); false sends zero, as RFC 8926 §3.3 allows over IPv4. */
  udpChecksum?: boolean;
}

export interface Ipv4EncapsulatorConfig extends GeneveWriterConfig, Ipv4OuterConfig {}

export interface Ipv6EncapsulatorConfig extends GeneveWriterConfig, OuterConfig {
  source: Uint8Array;
  /** Send a zero UDP checksum (default false): only where RFC 6935/6936 permit it (RFC 8926 §3.3). */
  zeroUdpChecksum?: boolean;
  /** Put the flow hash in the Flow Label as well (default true; RFC 8926 §3.3, RFC 6438). */
  flowLabel?: boolean;
}

const OUTER4 = Underlay.IPV4_HEADER_LENGTH + Underlay.UDP_HEADER_LENGTH;
const OUTER6 = Underlay.IPV6_HEADER_LENGTH + Underlay.UDP_HEADER_LENGTH;

export function checkCommon(config: OuterConfig): { seed: number; ttl: number; tos: number } {
  const seed = config.flowHashSeed ?? 0;
  checkUint(seed, 0xffff_ffff, 'flowHashSeed');
  const ttl = config.ttl ?? DEFAULT_TTL;
  checkUint(ttl, 0xff, 'ttl');
  const dscp = config.dscp ?? 0;
  checkUint(dscp, 0x3f, 'dscp');
  return { seed, ttl, tos: dscp << 2 };
}

function checkRoomBefore(start: number, payloadOffset: number): void {
  if (start < 0) throw new RangeError(`payload at offset ${payloadOffset} leaves no room for the outer headers`);
}

/** Writes the UDP header; the checksum field is zero until the caller fills it. */
function writeUdp(buf: Uint8Array, at: number, sourcePort: number, length: number): void {
  writeU16(buf, at, sourcePort);
  writeU16(buf, at + 2, Geneve.PORT);
  writeU16(buf, at + 4, length);
  writeU16(buf, at + 6, 0);
}

/**
 * Encapsulates in IPv4: DF set (RFC 8926 §4.1.1), Identification zero as RFC 6864 §4.1 allows for
 * atomic datagrams, header checksum computed, UDP checksum computed unless disabled.
 */
export class Ipv4Encapsulator {
  /** Bytes the caller must leave in front of every payload. */
  readonly headroom: number;
  private readonly writer: GeneveWriter;
  private readonly outer: Ipv4Outer;

  constructor(config: Ipv4EncapsulatorConfig) {
    this.writer = new GeneveWriter(config);
    this.outer = new Ipv4Outer(config);
    this.headroom = OUTER4 + this.writer.maxHeaderLength;
  }

  /** Encapsulates the inner IPv4 packet at buf[payloadOffset, +payloadLength); returns the new start. */
  encapsulate(buf: Uint8Array, payloadOffset: number, payloadLength: number, destination: number, mapping: MappingOption | null): number {
    checkRoomBefore(payloadOffset - this.writer.headerLength(mapping !== null) - OUTER4, payloadOffset);
    checkUint(destination, 0xffff_ffff, 'destination');
    const hash = flowHash(buf, payloadOffset, payloadLength, this.outer.seed);
    const start = this.writer.writeData(buf, payloadOffset, payloadLength, mapping);
    return this.outer.write(buf, start, payloadOffset + payloadLength, destination, hash);
  }

  /** Encapsulates a control packet (O bit; handoff datagram or empty payload; options §5). */
  encapsulateControl(buf: Uint8Array, payloadOffset: number, payloadLength: number, destination: number, mapping: MappingOption | null): number {
    checkRoomBefore(payloadOffset - this.writer.headerLength(mapping !== null) - OUTER4, payloadOffset);
    checkUint(destination, 0xffff_ffff, 'destination');
    const hash = flowHash(buf, payloadOffset, 0, this.outer.seed);
    const start = this.writer.writeControl(buf, payloadOffset, payloadLength, mapping);
    return this.outer.write(buf, start, payloadOffset + payloadLength, destination, hash);
  }
}

/** The outer IPv4 and UDP headers of one underlay source, checked once; what every IPv4 encapsulator writes in front of its Geneve header. */
export class Ipv4Outer {
  readonly seed: number;
  private readonly source: number;
  private readonly ttl: number;
  private readonly tos: number;
  private readonly udpChecksum: boolean;

  constructor(config: Ipv4OuterConfig) {
    checkUint(config.source, 0xffff_ffff, 'source');
    this.source = config.source;
    ({ seed: this.seed, ttl: this.ttl, tos: this.tos } = checkCommon(config));
    this.udpChecksum = config.udpChecksum ?? true;
  }

  /** Writes them in front of the Geneve header at geneveStart (the datagram ends at `end`), the UDP source port from `hash`; returns where the packet starts. */
  write(buf: Uint8Array, geneveStart: number, end: number, destination: number, hash: number): number {
    return writeIpv4Outer(buf, geneveStart, end, this.source, destination, sourcePortFromHash(hash), this.ttl, this.tos, this.udpChecksum);
  }
}

/**
 * Writes the UDP header and the outer IPv4 header in front of a Geneve header at geneveStart
 * (RFC 8926 §3.1, §4.1.1): DF set, Identification zero (RFC 6864 §4.1), header checksum, and
 * the UDP checksum unless `udpChecksum` is false. Returns where the IPv4 header starts.
 */
export function writeIpv4Outer(
  buf: Uint8Array,
  geneveStart: number,
  end: number,
  source: number,
  destination: number,
  sourcePort: number,
  ttl: number,
  tos: number,
  udpChecksum: boolean,
): number {
  const udp = geneveStart - Underlay.UDP_HEADER_LENGTH;
  const ip = udp - Underlay.IPV4_HEADER_LENGTH;
  const udpLength = end - udp;
  if (end - ip > Underlay.MAX_LENGTH_FIELD) throw new RangeError(`an outer IPv4 packet of ${end - ip} bytes is too long`);
  writeUdp(buf, udp, sourcePort, udpLength);
  if (udpChecksum) {
    // Pseudo-header: source, destination, zero + protocol, UDP length (RFC 768).
    let sum = (source >>> 16) + (source & 0xffff) + (destination >>> 16) + (destination & 0xffff);
    sum += Underlay.PROTOCOL_UDP + udpLength;
    writeU16(buf, udp + 6, finishUdpChecksum(sumWords(buf, udp, end, sum)));
  }
  buf[ip] = Underlay.IPV4_VERSION_IHL;
  buf[ip + 1] = tos;
  writeU16(buf, ip + 2, end - ip);
  writeU16(buf, ip + 4, 0);
  writeU16(buf, ip + 6, Underlay.IPV4_DONT_FRAGMENT);
  buf[ip + 8] = ttl;
  buf[ip + 9] = Underlay.PROTOCOL_UDP;
  writeU16(buf, ip + 10, 0);
  writeU32(buf, ip + 12, source);
  writeU32(buf, ip + 16, destination);
  writeU16(buf, ip + 10, finishChecksum(sumWords(buf, ip, udp, 0)));
  return ip;
}

/** Encapsulates in IPv6: UDP checksum computed unless zero-checksum mode is chosen, Flow Label from the flow hash. */
export class Ipv6Encapsulator {
  /** Bytes the caller must leave in front of every payload. */
  readonly headroom: number;
  private readonly writer: GeneveWriter;
  private readonly source: Uint8Array;
  private readonly sourceSum: number;
  private readonly seed: number;
  private readonly ttl: number;
  private readonly tos: number;
  private readonly zeroUdpChecksum: boolean;
  private readonly flowLabel: boolean;

  constructor(config: Ipv6EncapsulatorConfig) {
    this.writer = new GeneveWriter(config);
    checkBytes(config.source, 16, 'source');
    this.source = new Uint8Array(config.source);
    this.sourceSum = sumWords(this.source, 0, 16, 0);
    ({ seed: this.seed, ttl: this.ttl, tos: this.tos } = checkCommon(config));
    this.zeroUdpChecksum = config.zeroUdpChecksum ?? false;
    this.flowLabel = config.flowLabel ?? true;
    this.headroom = OUTER6 + this.writer.maxHeaderLength;
  }

  /** Encapsulates the inner IPv4 packet at buf[payloadOffset, +payloadLength); returns the new start. */
  encapsulate(buf: Uint8Array, payloadOffset: number, payloadLength: number, destination: Uint8Array, mapping: MappingOption | null): number {
    checkRoomBefore(payloadOffset - this.writer.headerLength(mapping !== null) - OUTER6, payloadOffset);
    checkBytes(destination, 16, 'destination');
    const hash = flowHash(buf, payloadOffset, payloadLength, this.seed);
    const start = this.writer.writeData(buf, payloadOffset, payloadLength, mapping);
    return this.finish(buf, start, payloadOffset + payloadLength, destination, hash);
  }

  /** Encapsulates a control packet (O bit; handoff datagram or empty payload; options §5). */
  encapsulateControl(buf: Uint8Array, payloadOffset: number, payloadLength: number, destination: Uint8Array, mapping: MappingOption | null): number {
    checkRoomBefore(payloadOffset - this.writer.headerLength(mapping !== null) - OUTER6, payloadOffset);
    checkBytes(destination, 16, 'destination');
    const hash = flowHash(buf, payloadOffset, 0, this.seed);
    const start = this.writer.writeControl(buf, payloadOffset, payloadLength, mapping);
    return this.finish(buf, start, payloadOffset + payloadLength, destination, hash);
  }

  private finish(buf: Uint8Array, geneveStart: number, end: number, destination: Uint8Array, hash: number): number {
    const udp = geneveStart - Underlay.UDP_HEADER_LENGTH;
    const ip = udp - Underlay.IPV6_HEADER_LENGTH;
    const udpLength = end - udp;
    if (udpLength > Underlay.MAX_LENGTH_FIELD) throw new RangeError(`a UDP datagram of ${udpLength} bytes is too long`);
    writeUdp(buf, udp, sourcePortFromHash(hash), udpLength);
    writeU32(buf, ip, (Underlay.IPV6_VERSION << 28) | (this.tos << 20) | (this.flowLabel ? hash & Underlay.FLOW_LABEL_MASK : 0));
    writeU16(buf, ip + 4, udpLength);
    buf[ip + 6] = Underlay.PROTOCOL_UDP;
    buf[ip + 7] = this.ttl;
    copyBytes(this.source, 0, 16, buf, ip + 8);
    copyBytes(destination, 0, 16, buf, ip + 24);
    if (!this.zeroUdpChecksum) {
      // Pseudo-header: source, destination, upper-layer length, next header (RFC 8200 §8.1).
      const sum = sumWords(destination, 0, 16, this.sourceSum + udpLength + Underlay.PROTOCOL_UDP);
      writeU16(buf, udp + 6, finishUdpChecksum(sumWords(buf, udp, end, sum)));
    }
    return ip;
  }
}
