// The address/port decisions a translation needs, supplied by the caller in reusable objects: a
// stateless SIIT mapper (RFC 6052 / RFC 7757) and the stateful NAT64 (RFC 6146) fill the same
// shape, so one translator serves both.

/**
 * Decisions for one IPv6 -> IPv4 translation. Fill the fields the packet needs, then call
 * `Translator.toIpv4`. Ports and identifiers are used for TCP/UDP and ICMP echo respectively; the
 * `inner*` fields apply to the packet quoted inside an ICMPv6 error. Values are never validated on
 * the packet path: addresses are unsigned 32-bit numbers, ports 0-65535.
 */
export class Mapping64 {
  src = 0;
  dst = 0;
  srcPort = 0;
  dstPort = 0;
  /** ICMP echo identifier. */
  icmpId = 0;
  innerSrc = 0;
  innerDst = 0;
  innerSrcPort = 0;
  innerDstPort = 0;
  innerIcmpId = 0;
}

/**
 * Decisions for one IPv4 -> IPv6 translation: the 16-byte addresses are written into the
 * preallocated arrays (e.g. with `Rfc6052Prefix.embed(ipv4, mapping.src, 0)`), never replaced.
 */
export class Mapping46 {
  readonly src = new Uint8Array(16);
  readonly dst = new Uint8Array(16);
  srcPort = 0;
  dstPort = 0;
  /** ICMP echo identifier. */
  icmpId = 0;
  readonly innerSrc = new Uint8Array(16);
  readonly innerDst = new Uint8Array(16);
  innerSrcPort = 0;
  innerDstPort = 0;
  innerIcmpId = 0;
}

/** Per-call flags for `toIpv4` / `toIpv6`. */
export const XlatFlags = {
  none: 0,
  /**
   * Hairpinning (RFC 7757 intrinsic EAM hairpinning, RFC 6146 3.8): on `toIpv4` the output will
   * be translated straight back, so no IPv4 next-hop MTU applies; on `toIpv6` the input is that
   * intermediate packet, so TTL is neither checked nor decremented a second time.
   */
  hairpin: 1,
  /**
   * A segmentation-offload packet (a TCP segment of up to 64 KiB that a TUN device with offload
   * handed over unsplit): the kernel splits its output into segments that fit, so no next-hop MTU
   * applies and nothing is fragmented.
   */
  segment: 2,
} as const;
