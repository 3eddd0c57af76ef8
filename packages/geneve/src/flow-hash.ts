// Entropy for the outer UDP source port (RFC 8926 §3.3): the same port for every packet of an
// inner flow, so ECMP keeps a flow on one path, and different ports across flows, so ECMP spreads
// them. The hash is seeded FNV-1a 32 over the inner IPv4 5-tuple, written out in
// docs/protocol/geneve-options.md §6.1 so it can be recomputed by hand. No allocation.
import { IpProto, readU16 } from '@nat64/wire';
import { EphemeralPorts, IcmpType, Underlay } from './constants.js';

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function mix(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, FNV_PRIME);
}

/** Whether the protocol's first four bytes are source and destination ports. */
function hasPorts(protocol: number): boolean {
  return protocol === IpProto.tcp || protocol === IpProto.udp || protocol === IpProto.sctp || protocol === IpProto.dccp || protocol === IpProto.udpLite;
}

/**
 * Hashes the IPv4 packet at buf[offset, offset + length): source and destination address,
 * protocol, source and destination port, 13 bytes in that order. Ports are zero for fragments
 * (so all fragments of a datagram hash alike) and for protocols without ports; ICMP Echo uses
 * its Identifier as the source port, as NAT64 does (RFC 6146 §3.5.3). Anything that is not an
 * IPv4 header hashes as the seed alone. The 32 bits come back as a signed int32 (`>>> 0` gives the
 * unsigned value): V8 keeps those unboxed, where a uint32 above 2^31 would cost a heap number per
 * packet.
 */
export function flowHash(buf: Uint8Array, offset: number, length: number, seed: number): number {
  let hash = (FNV_OFFSET_BASIS ^ seed) | 0;
  if (length < Underlay.IPV4_HEADER_LENGTH || buf[offset]! >>> 4 !== 4) return hash;
  for (let i = offset + 12; i < offset + 20; i++) hash = mix(hash, buf[i]!);
  const protocol = buf[offset + 9]!;
  hash = mix(hash, protocol);
  let sourcePort = 0;
  let destinationPort = 0;
  const headerLength = (buf[offset]! & 0x0f) * 4;
  const fragment = readU16(buf, offset + 6) & (Underlay.IPV4_MORE_FRAGMENTS | Underlay.IPV4_FRAGMENT_OFFSET_MASK);
  if (fragment === 0 && headerLength >= Underlay.IPV4_HEADER_LENGTH) {
    const l4 = offset + headerLength;
    if (hasPorts(protocol) && headerLength + 4 <= length) {
      sourcePort = readU16(buf, l4);
      destinationPort = readU16(buf, l4 + 2);
    } else if (protocol === IpProto.icmp && headerLength + 6 <= length) {
      const type = buf[l4]!;
      if (type === IcmpType.ECHO_REQUEST || type === IcmpType.ECHO_REPLY) sourcePort = readU16(buf, l4 + 4);
    }
  }
  hash = mix(hash, sourcePort >>> 8);
  hash = mix(hash, sourcePort & 0xff);
  hash = mix(hash, destinationPort >>> 8);
  hash = mix(hash, destinationPort & 0xff);
  return hash;
}

/**
 * The same hash over an IPv6 packet at buf[offset, offset + length), for bypass (bypass §4):
 * source and destination address, Next Header, source and destination port, 37 bytes in that
 * order. Ports are read only when the fixed header is followed directly by a protocol with ports
 * (an extension header or ICMPv6 hashes with zero ports); anything that is not IPv6 hashes as the
 * seed alone.
 */
export function flowHash6(buf: Uint8Array, offset: number, length: number, seed: number): number {
  let hash = (FNV_OFFSET_BASIS ^ seed) | 0;
  if (length < Underlay.IPV6_HEADER_LENGTH || buf[offset]! >>> 4 !== Underlay.IPV6_VERSION) return hash;
  for (let i = offset + 8; i < offset + 40; i++) hash = mix(hash, buf[i]!);
  const nextHeader = buf[offset + 6]!;
  hash = mix(hash, nextHeader);
  let sourcePort = 0;
  let destinationPort = 0;
  if (hasPorts(nextHeader) && length >= Underlay.IPV6_HEADER_LENGTH + 4) {
    sourcePort = readU16(buf, offset + 40);
    destinationPort = readU16(buf, offset + 42);
  }
  hash = mix(hash, sourcePort >>> 8);
  hash = mix(hash, sourcePort & 0xff);
  hash = mix(hash, destinationPort >>> 8);
  hash = mix(hash, destinationPort & 0xff);
  return hash;
}

/** Folds a 32-bit hash into the ephemeral range 49152-65535 (RFC 6335 §6). */
export function sourcePortFromHash(hash: number): number {
  return EphemeralPorts.FIRST | ((hash ^ (hash >>> 16)) & EphemeralPorts.HASH_BITS_MASK);
}
