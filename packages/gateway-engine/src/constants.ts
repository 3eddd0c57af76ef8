// Numbers the gateway engine works with: "specification" values from RFCs and our protocol documents
// (each cites its source) and "implementation" values that are our own choices.

import { GENEVE_PORT, HANDOFF_PORT } from '@nat64/wire';

/** Numbers fixed by specifications. */
export const SPEC = {
  /** docs/protocol/handoff-v1.md "Transport": handoff v1 messages travel to and from UDP port 62863. */
  HANDOFF_PORT,
  /** RFC 8926 section 3.3: the Geneve UDP destination port. */
  GENEVE_PORT,
  /** RFC 9293 section 3.1: the TCP flags byte (CWR ECE URG ACK PSH RST SYN FIN) sits 13 bytes into the header. */
  TCP_FLAGS_OFFSET: 13,
  /** RFC 791 section 3.1: source and destination addresses sit 12 and 16 bytes into the IPv4 header. */
  IPV4_SRC_OFFSET: 12,
  IPV4_DST_OFFSET: 16,
  /** RFC 791 section 3.1 and RFC 8200 section 3: the Version nibble. */
  IP_VERSION_4: 4,
  IP_VERSION_6: 6,
  /** RFC 792: Echo Request and Echo Reply. */
  ICMP4_ECHO_REQUEST: 8,
  ICMP4_ECHO_REPLY: 0,
  /** RFC 4443 section 4.1 and 4.2: Echo Request and Echo Reply. */
  ICMP6_ECHO_REQUEST: 128,
  ICMP6_ECHO_REPLY: 129,
  /** RFC 792: Destination Unreachable, and its codes port unreachable (3) and administratively prohibited (13, RFC 1812 5.2.7.1). */
  ICMP4_UNREACH: 3,
  ICMP4_PORT_UNREACH: 3,
  ICMP4_ADMIN_PROHIBITED: 13,
  /** RFC 4443 section 3.1: Destination Unreachable and its codes 1 (administratively prohibited), 3 (address) and 4 (port). */
  ICMP6_UNREACH: 1,
  ICMP6_ADMIN_PROHIBITED: 1,
  ICMP6_ADDRESS_UNREACH: 3,
  ICMP6_PORT_UNREACH: 4,
  /** RFC 4443 section 3.2 and 3.3: Packet Too Big (its MTU in the parameter) and Time Exceeded, hop limit (code 0). */
  ICMP6_PACKET_TOO_BIG: 2,
  ICMP6_TIME_EXCEEDED: 3,
  ICMP6_HOP_LIMIT_EXCEEDED: 0,
  /** RFC 4443 section 3.4: Parameter Problem, code 0 (erroneous header field encountered). */
  ICMP6_PARAMETER_PROBLEM: 4,
  ICMP6_ERRONEOUS_FIELD: 0,
  /** RFC 8200 section 4.5: the Fragment header is 8 bytes. */
  IPV6_FRAGMENT_HEADER: 8,
  /** RFC 8200 section 5: the smallest link MTU IPv6 allows, and the least an output slot must hold. */
  IPV6_MIN_MTU: 1280,
} as const;

/** Our own choices. */
export const IMPL = {
  /** UDP ports on every pool4 address handed to local handlers instead of the NAT (handoff, Geneve). */
  RESERVED_UDP_PORTS: [SPEC.HANDOFF_PORT, SPEC.GENEVE_PORT] as readonly number[],
  /** Output slots per received slot: a packet can become two fragments, or a fragment release several. */
  OUTPUT_SLOTS_PER_INPUT: 2,
  /** Free output slots kept before handling a packet; fewer and the batch is written out early. */
  OUTPUT_RESERVE: 16,
  /**
   * Bytes of headroom in front of every output packet, for Geneve encapsulation: outer IPv4 (20), UDP
   * (8), Geneve (8), mapping option (40) and authentication option (24) make 100, rounded up to 8.
   */
  OUTPUT_HEADROOM: 104,
  /** Extra bytes an output packet may need beyond the input: IPv4 -> IPv6 header growth plus a Fragment header. */
  OUTPUT_GROWTH: 28,
  /** How often the timers run. */
  EXPIRY_INTERVAL_MS: 1000,
  /** Sessions one timer slice may expire before yielding to the datapath (then it continues on the next turn). */
  EXPIRY_SLICE: 4096,
  /** Pool4 sizes up to this are checked by a linear scan, bigger ones through a Set. */
  POOL_SCAN_MAX: 16,
} as const;
