// Numbers of the gateway's Geneve transport: "specification" values (docs/protocol/geneve-options.md,
// cited as "options §n", and RFC 8926) and "implementation" values that are our own choices.

import { GENEVE_PORT } from '@nat64/wire';

/** Numbers fixed by specifications. */
export const SPEC = {
  /** RFC 8926 section 3.3: the Geneve UDP port, on the hosts and on the gateway's pool4 addresses. */
  GENEVE_PORT,
  /** Outer IPv4 (20), UDP (8) and Geneve (8) headers (options §6). */
  OUTER_HEADERS: 36,
  /** Mapping option: 4-byte option header and 36 bytes of data (options §3). */
  MAPPING_OPTION: 40,
  /** Authentication option: 4-byte option header and 20 bytes of data (options §4). */
  AUTH_OPTION: 24,
  /** RFC 792: Destination Unreachable, port unreachable (3) and fragmentation needed (4). */
  ICMP4_UNREACH: 3,
  ICMP4_PORT_UNREACH: 3,
  ICMP4_FRAG_NEEDED: 4,
} as const;

/** The most Geneve adds in front of a translated packet: outer headers and both options (options §6). */
export const GENEVE_OVERHEAD = SPEC.OUTER_HEADERS + SPEC.MAPPING_OPTION + SPEC.AUTH_OPTION;

/** Our own choices. */
export const IMPL = {
  /** Option Class default: 0xFF64, in the Experimental Use range (options §2). */
  OPTION_CLASS: 0xff64,
  /** Key ID of the gateway's key in the authentication option; the receivers' default is 1. */
  KEY_ID: 1,
  /**
   * Data packets of a new mapping that carry Created (options §3.2). The option rides on the packet it
   * describes, so a packet that arrived brought it; a second one covers a receiver that dropped the
   * first (an epoch still being committed). A client's TCP handshake sends two (SYN, ACK), after which
   * an authoritative receiver is handed the mapping.
   */
  CREATED_PACKETS: 2,
  /** How often a live mapping's option rides again, as Refresh, on its next packet (options §3.2). */
  REFRESH: '60s',
  /** Tunnels (NAT address, host) kept at most; a new one beyond it is not built (plain IPv4 instead). */
  MAX_TUNNELS: 65_536,
  /** Mappings with an option due, per tunnel, at most: beyond it a new mapping goes as a reliable CREATED in a control packet. */
  MAX_DUE_PER_TUNNEL: 1 << 20,
} as const;
