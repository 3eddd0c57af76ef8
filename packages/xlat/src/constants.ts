// Specification constants for IPv4/IPv6/ICMP translation: protocol numbers, header sizes, ICMP
// types and codes, the RFC 7915 type/code and Parameter Problem pointer tables, and the RFC 1191
// MTU plateaus. Numbers only; our own choices (defaults, limits) live in config.ts.

/** IP protocol / IPv6 Next Header numbers: the wire toolkit's table. */
export { IpProto } from '@nat64/wire';

/** Fixed header sizes in bytes. */
export const HeaderSize = {
  ipv4: 20, // RFC 791 3.1, IHL 5
  ipv4Max: 60, // RFC 791 3.1, IHL 15
  ipv6: 40, // RFC 8200 3
  fragment: 8, // RFC 8200 4.5
  udp: 8, // RFC 768
  tcp: 20, // RFC 9293 3.1, data offset 5
  icmp: 8, // RFC 792 / RFC 4443 2.1: type, code, checksum, 4 bytes of type-specific data
} as const;

/** Offsets of fields inside the transport headers we rewrite. */
export const FieldOffset = {
  tcpChecksum: 16, // RFC 9293 3.1
  udpChecksum: 6, // RFC 768
  icmpChecksum: 2, // RFC 792, RFC 4443 2.1
  icmpIdentifier: 4, // RFC 792 echo, RFC 4443 4.1
  ipv4Checksum: 10, // RFC 791 3.1
  ipv6SegmentsLeft: 3, // RFC 8200 4.4, inside the Routing header
} as const;

/** IPv4 flag bits in the 16-bit flags/fragment-offset word (RFC 791 3.1). */
export const Ipv4Flags = { dontFragment: 0x4000, moreFragments: 0x2000, offsetMask: 0x1fff } as const;

/** ICMPv4 message types (RFC 792, RFC 950, RFC 1256). */
export const Icmp4Type = {
  echoReply: 0,
  destinationUnreachable: 3,
  sourceQuench: 4,
  redirect: 5,
  alternateHostAddress: 6,
  echoRequest: 8,
  routerAdvertisement: 9,
  routerSolicitation: 10,
  timeExceeded: 11,
  parameterProblem: 12,
  timestamp: 13,
  timestampReply: 14,
  informationRequest: 15,
  informationReply: 16,
  addressMaskRequest: 17,
  addressMaskReply: 18,
} as const;

/** ICMPv4 Destination Unreachable codes (RFC 792, RFC 1122 3.2.2.1, RFC 1812 5.2.7.1). */
export const Icmp4UnreachCode = {
  network: 0,
  host: 1,
  protocol: 2,
  port: 3,
  fragmentationNeeded: 4,
  sourceRouteFailed: 5,
  hostAdminProhibited: 10,
  adminProhibited: 13,
} as const;

/** ICMPv6 message types (RFC 4443 2.1). */
export const Icmp6Type = {
  destinationUnreachable: 1,
  packetTooBig: 2,
  timeExceeded: 3,
  parameterProblem: 4,
  echoRequest: 128,
  echoReply: 129,
} as const;

/** ICMPv6 Destination Unreachable codes (RFC 4443 3.1). */
export const Icmp6UnreachCode = {
  noRoute: 0,
  adminProhibited: 1,
  beyondScope: 2,
  address: 3,
  port: 4,
} as const;

/** ICMPv6 Parameter Problem codes (RFC 4443 3.4). */
export const Icmp6ParamCode = { erroneousField: 0, unrecognizedNextHeader: 1, unrecognizedOption: 2 } as const;

/** A translated ICMP type/code pair; `null` in a table means "silently drop" (no counterpart). */
export type TypeCode = readonly [type: number, code: number];

/**
 * RFC 7915 4.2: ICMPv4 Destination Unreachable (type 3) codes -> ICMPv6 [type, code], indexed by
 * the ICMPv4 code. Code 2 becomes Parameter Problem "unrecognized Next Header" with pointer 6, code 4
 * becomes Packet Too Big.
 */
export const DEST_UNREACH_4TO6: readonly (TypeCode | null)[] = [
  [1, 0], // 0 net unreachable -> no route to destination
  [1, 0], // 1 host unreachable
  [4, 1], // 2 protocol unreachable -> Parameter Problem, unrecognized Next Header
  [1, 4], // 3 port unreachable
  [2, 0], // 4 fragmentation needed and DF set -> Packet Too Big
  [1, 0], // 5 source route failed
  [1, 0], // 6 destination network unknown
  [1, 0], // 7 destination host unknown
  [1, 0], // 8 source host isolated
  [1, 1], // 9 network administratively prohibited
  [1, 1], // 10 host administratively prohibited
  [1, 0], // 11 network unreachable for TOS
  [1, 0], // 12 host unreachable for TOS
  [1, 1], // 13 communication administratively prohibited
  null, // 14 host precedence violation: silently drop
  [1, 1], // 15 precedence cutoff in effect
];

/** RFC 7915 4.2: Parameter Problem "pointer indicates the error" points at IPv6 Next Header. */
export const PROTOCOL_UNREACH_POINTER = 6;

/**
 * RFC 7915 5.2: ICMPv6 Destination Unreachable (type 1) codes -> ICMPv4 [type, code], indexed by
 * the ICMPv6 code.
 */
export const DEST_UNREACH_6TO4: readonly (TypeCode | null)[] = [
  [3, 1], // 0 no route to destination -> host unreachable
  [3, 10], // 1 administratively prohibited -> host administratively prohibited
  [3, 1], // 2 beyond scope of source address -> host unreachable
  [3, 1], // 3 address unreachable -> host unreachable
  [3, 3], // 4 port unreachable -> port unreachable
];

/**
 * RFC 7915 4.2 Figure 3: ICMPv4 Parameter Problem pointer -> ICMPv6 pointer, indexed by the IPv4
 * pointer; -1 means "n/a" (the message is dropped).
 */
export const POINTER_4TO6: readonly number[] = [
  0, // Version/IHL -> Version/Traffic Class
  1, // Type Of Service -> Traffic Class
  4,
  4, // Total Length -> Payload Length
  -1,
  -1, // Identification
  -1,
  -1, // Flags/Fragment Offset
  7, // Time to Live -> Hop Limit
  6, // Protocol -> Next Header
  -1,
  -1, // Header Checksum
  8,
  8,
  8,
  8, // Source Address
  24,
  24,
  24,
  24, // Destination Address
];

/**
 * RFC 7915 5.2 Figure 6: ICMPv6 Parameter Problem pointer -> ICMPv4 pointer, indexed by the IPv6
 * pointer; -1 means "n/a" (the message is dropped).
 */
export const POINTER_6TO4: readonly number[] = [
  0, // Version/Traffic Class -> Version/IHL
  1, // Traffic Class/Flow Label -> Type Of Service
  -1,
  -1, // Flow Label
  2,
  2, // Payload Length -> Total Length
  9, // Next Header -> Protocol
  8, // Hop Limit -> Time to Live
  ...Array<number>(16).fill(12), // Source Address
  ...Array<number>(16).fill(16), // Destination Address
];

/** RFC 1191 section 7, Table 7-1: MTU plateaus, highest first. */
export const MTU_PLATEAUS: readonly number[] = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

/** Minimum link MTUs: IPv6 RFC 8200 5, IPv4 RFC 791 3.1. */
export const MinMtu = { ipv6: 1280, ipv4: 68 } as const;

/** RFC 7915 5.1: a translated IPv4 packet of at most this size leaves with DF clear (1280 - 20). */
export const DF_THRESHOLD = 1260;

/** Largest ICMP error worth sending: RFC 1812 4.3.2.3 (576 bytes), RFC 4443 2.4(c) (1280 bytes). */
export const IcmpErrorMax = { ipv4: 576, ipv6: 1280 } as const;

/**
 * RFC 4884 section 4: when extensions follow, the "original datagram" field is zero-padded to at
 * least 128 bytes and its length attribute counts 32-bit words in ICMPv4 (byte 5 of the message)
 * and 64-bit words in ICMPv6 (byte 4).
 */
export const Rfc4884 = { minDatagram: 128, unit4: 4, unit6: 8, lengthByte4: 5, lengthByte6: 4 } as const;
