// Addresses no packet may be forwarded from or to, and IPv6 fragments no reassembly would accept:
// checks a stateful NAT64 makes before translating. The translator itself does not make them (a
// stateless translator passes such fragments on, as Jool does, for the destination to judge). Numbers
// and bytes only; nothing allocates.

import { HeaderSize } from './constants.js';
import type { Ipv6View } from './view.js';

/**
 * True for IPv4 addresses that are never a packet's source, nor a destination worth translating to:
 * "this network" 0.0.0.0/8 and loopback 127/8 (RFC 1812 5.3.7, RFC 7915 4.1 "illegal source address"),
 * multicast 224.0.0.0/4 (RFC 1812 5.3.7; RFC 7915 1.2: no unicast mapping for it) and the limited
 * broadcast 255.255.255.255 (RFC 1812 5.3.5.1: never forwarded).
 */
export function isMartianIpv4(address: number): boolean {
  const first = address >>> 24;
  return first === 0 || first === 127 || (first & 0xf0) === 0xe0 || address === 0xffffffff;
}

/**
 * True when the IPv6 address at buf[offset] may not be the source of a forwarded packet: unspecified
 * :: (RFC 4291 2.5.2), loopback ::1 (2.5.3), link-local fe80::/10 (2.5.6: routers must not forward
 * it to other links) or multicast ff00::/8 (2.7: never a source).
 */
export function isMartianIpv6Source(buf: Uint8Array, offset: number): boolean {
  const first = buf[offset]!;
  if (first === 0xff) return true;
  if (first === 0xfe) return (buf[offset + 1]! & 0xc0) === 0x80;
  if (first !== 0) return false;
  for (let i = 1; i < 15; i++) if (buf[offset + i] !== 0) return false;
  return buf[offset + 15]! <= 1;
}

/** What RFC 8200 4.5 finds wrong with a fragment: its reassembly "must" discard it. */
export const FragmentFault = {
  none: 0,
  /** M set but the fragment's data is not a multiple of 8 bytes. */
  length: 1,
  /** The datagram reassembled from it would exceed 65,535 bytes of payload. */
  tooLong: 2,
} as const;

/** RFC 8200 4.5: the largest Payload Length a reassembled packet may have. */
const MAX_PAYLOAD = 0xffff;

/** Checks the fragment `v` (an outer packet from parseIpv6) against RFC 8200 4.5; FragmentFault.none when sound or unfragmented. */
export function ipv6FragmentFault(v: Ipv6View): number {
  const header = v.fragmentHeaderOffset;
  if (header < 0) return FragmentFault.none;
  const dataStart = header + HeaderSize.fragment;
  const dataLength = v.end - dataStart;
  if (v.moreFragments && (dataLength & 7) !== 0) return FragmentFault.length;
  // Reassembled Payload Length: the extension headers before the Fragment header, then the data.
  const unfragmentable = header - v.start - HeaderSize.ipv6;
  if (unfragmentable + v.fragmentOffset + dataLength > MAX_PAYLOAD) return FragmentFault.tooLong;
  return FragmentFault.none;
}

/**
 * RFC 8200 4.5: the Parameter Problem pointer (from the IPv6 header) for a fault: the Payload Length
 * field for `length`, the Fragment Offset field for `tooLong`.
 */
export function fragmentFaultPointer(v: Ipv6View, fault: number): number {
  return fault === FragmentFault.length ? 4 : v.fragmentHeaderOffset - v.start + 2;
}
