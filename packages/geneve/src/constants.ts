// Numbers of Geneve (RFC 8926) and of the IPv4/IPv6/UDP underlay it rides on, then the choices of
// this implementation: the experimental option class and the options of
// docs/protocol/geneve-options.md (cited below as "options §n").

import { GENEVE_PORT, IpProto, type ValueOf } from '@nat64/wire';

// ---- Specification ------------------------------------------------------------------------------

/** Geneve fixed header and option layout (RFC 8926 §3.4, §3.5). */
export const Geneve = {
  /** UDP destination port assigned by IANA (RFC 8926 §3.3, §7). */
  PORT: GENEVE_PORT,
  /** The only version defined; a packet with another version MUST be dropped (RFC 8926 §3.4). */
  VERSION: 0,
  /** Fixed tunnel header: Ver/Opt Len, flags, Protocol Type, VNI, Reserved (RFC 8926 §3.4). */
  HEADER_LENGTH: 8,
  /** Opt Len is 6 bits of 4-byte words: at most 63 words of options (RFC 8926 §3.4). */
  MAX_OPTIONS_LENGTH: 252,
  /** Option header: Option Class, Type, R bits and Length (RFC 8926 §3.5). */
  OPTION_HEADER_LENGTH: 4,
  /** Option Length is 5 bits of 4-byte words: at most 31 words of data (RFC 8926 §3.5). */
  MAX_OPTION_DATA_LENGTH: 124,
  /** Opt Len and option Length count 4-byte words (RFC 8926 §3.4, §3.5). */
  WORD: 4,
  /** Largest VNI, a 24-bit field (RFC 8926 §3.4). */
  MAX_VNI: 0xff_ffff,
} as const;

/** Bits of the first two header octets (RFC 8926 §3.4). */
export const GeneveBits = {
  /** Ver, the top two bits of octet 0. */
  VERSION_SHIFT: 6,
  /** Opt Len, the low six bits of octet 0. */
  OPT_LEN_MASK: 0x3f,
  /** O: a control packet; its payload MUST NOT be forwarded (RFC 8926 §3.4). */
  OAM: 0x80,
  /** C: one or more options has the critical bit set (RFC 8926 §3.4). */
  CRITICAL: 0x40,
  /** High bit of an option's Type: the critical bit (RFC 8926 §3.5). */
  OPTION_CRITICAL: 0x80,
  /** Length, the low five bits of an option header's octet 3; the top three are R (RFC 8926 §3.5). */
  OPTION_LENGTH_MASK: 0x1f,
} as const;

/**
 * Protocol Type values, EtherType numbering (RFC 8926 §3.4; IEEE 802 EtherType registry).
 * 0x88B5 is IEEE Std 802 "Local Experimental EtherType 1", set aside for private use.
 */
export const ProtocolType = {
  IPV4: 0x0800,
  IPV6: 0x86dd,
  TRANSPARENT_ETHERNET_BRIDGING: 0x6558,
  LOCAL_EXPERIMENTAL_1: 0x88b5,
} as const;

/** Geneve Option Class ranges of the IANA registry (RFC 8926 §7). */
export const OptionClassRange = {
  EXPERIMENTAL_FIRST: 0xff00,
  EXPERIMENTAL_LAST: 0xffff,
} as const;

/** Underlay header sizes and fields (RFC 791 §3.1, RFC 8200 §3, RFC 768). */
export const Underlay = {
  IPV4_HEADER_LENGTH: 20,
  IPV6_HEADER_LENGTH: 40,
  UDP_HEADER_LENGTH: 8,
  /** IPv4 Version 4, IHL 5 words (RFC 791 §3.1). */
  IPV4_VERSION_IHL: 0x45,
  /** IPv4 DF flag in the flags/fragment-offset word (RFC 791 §3.1); set per RFC 8926 §4.1.1. */
  IPV4_DONT_FRAGMENT: 0x4000,
  /** IPv4 MF flag and fragment offset bits (RFC 791 §3.1). */
  IPV4_MORE_FRAGMENTS: 0x2000,
  IPV4_FRAGMENT_OFFSET_MASK: 0x1fff,
  IPV6_VERSION: 6,
  /** IPv4 Protocol and IPv6 Next Header of UDP. */
  PROTOCOL_UDP: IpProto.udp,
  /** Largest IPv4 Total Length, IPv6 Payload Length and UDP Length (16-bit fields). */
  MAX_LENGTH_FIELD: 0xffff,
  /** IPv6 Flow Label is 20 bits (RFC 8200 §3, RFC 6437). */
  FLOW_LABEL_MASK: 0xf_ffff,
} as const;

/** ICMP Echo types whose Identifier stands in for a port (RFC 792; RFC 6146 §3.5.3). */
export const IcmpType = {
  ECHO_REPLY: 0,
  ECHO_REQUEST: 8,
} as const;

/** The ephemeral port range RFC 6335 §6 sets aside; source ports are drawn from it (RFC 8926 §3.3). */
export const EphemeralPorts = {
  FIRST: 49152,
  /** 49152 = 0xC000, so a port is 0xC000 | 14 bits of hash. */
  HASH_BITS_MASK: 0x3fff,
} as const;

// ---- Implementation ------------------------------------------------------------------------------

/** Default Option Class of our options, in the Experimental Use range ("64" for NAT64; options §2). */
export const DEFAULT_OPTION_CLASS = 0xff64;

/** Option Types within our class; all non-critical, so generic endpoints skip them (options §2). */
export const OptionType = {
  MAPPING: 0x01,
  AUTH: 0x02,
} as const;

/** Event field of the mapping option (options §3). */
export const MappingEvent = {
  CREATED: 1,
  REFRESH: 2,
  DELETED: 3,
} as const;
export type MappingEvent = ValueOf<typeof MappingEvent>;

/** Sizes of our option data (options §3, §4). */
export const OptionSize = {
  MAPPING_DATA: 36,
  AUTH_DATA: 20,
  /** HMAC-SHA-256 truncated to its leftmost 128 bits (RFC 2104 §5; options §4). */
  AUTH_TAG: 16,
  /** The tag follows Key ID and 24 reserved bits (options §4). */
  AUTH_TAG_OFFSET: 4,
  IPV6_ADDRESS: 16,
} as const;

/** Protocol Type of control packets: O bit set, payload a handoff v1 datagram or empty (options §5). */
export const CONTROL_PROTOCOL_TYPE = ProtocolType.LOCAL_EXPERIMENTAL_1;

/** Outer TTL / Hop Limit when the configuration names none (RFC 8926 §4.1.2 leaves it to us). */
export const DEFAULT_TTL = 64;

/** A creation time's high word above this is not exactly representable as a JS number (2^53). */
export const MAX_SAFE_HIGH_WORD = 0x1f_ffff;

// ---- NAT64 bypass (docs/protocol/nat64-bypass.md, cited as "bypass §n") ------------------------

/**
 * The NAT64 bypass options as the published text defines them (bypass §3, quoted facts): one
 * option class, the bypass option (not critical) and the audit mirror option (critical).
 */
export const Bypass = {
  OPTION_CLASS: 0x0162,
  /** Bypass: on every packet from gateway to server, never from server to gateway (bypass §3.1). */
  OPTION_TYPE: 0x00,
  /** Audit mirror: the packet is a copy for auditing and MUST NOT be forwarded (bypass §3.2). */
  AUDIT_MIRROR_TYPE: 0x81,
  /** Option data is a UTF-8 message padded to a 4-byte boundary with this byte (bypass §3.1). */
  PADDING: 0xff,
} as const;

/** Ethernet II framing of bypass payloads (IEEE 802.3 §3.1.1; bypass §4). */
export const Ethernet = {
  HEADER_LENGTH: 14,
  ADDRESS_LENGTH: 6,
  /** Offset of the EtherType field. */
  TYPE_OFFSET: 12,
  /** The EtherType numbering Geneve's Protocol Type also uses. */
  ETHERTYPE_IPV6: ProtocolType.IPV6,
  /** First-octet bits of a MAC address: I/G (group) and U/L (locally administered) (IEEE 802 §8.2). */
  GROUP_BIT: 0x01,
  LOCAL_BIT: 0x02,
} as const;

/** IPv6 Neighbor Discovery (RFC 4861) and ICMPv6 (RFC 4443) numbers the bypass handshake uses. */
export const Ndp = {
  /** Next Header of ICMPv6 (RFC 4443 §1). */
  NEXT_HEADER_ICMPV6: IpProto.icmpv6,
  /** NS and NA are sent and accepted only with Hop Limit 255 (RFC 4861 §7.1.1, §7.1.2). */
  HOP_LIMIT: 255,
  NEIGHBOR_SOLICITATION: 135,
  NEIGHBOR_ADVERTISEMENT: 136,
  /** ICMPv6 header (4) + Reserved/flags (4) + Target Address (16) (RFC 4861 §4.3, §4.4). */
  MESSAGE_LENGTH: 24,
  /** NA flags in the first octet after the ICMPv6 header (RFC 4861 §4.4). */
  FLAG_ROUTER: 0x80,
  FLAG_SOLICITED: 0x40,
  FLAG_OVERRIDE: 0x20,
  /** Link-layer address options: type, length in 8-byte units, address (RFC 4861 §4.6.1). */
  OPTION_SOURCE_LINK_LAYER: 1,
  OPTION_TARGET_LINK_LAYER: 2,
  LINK_LAYER_OPTION_LENGTH: 8,
} as const;
