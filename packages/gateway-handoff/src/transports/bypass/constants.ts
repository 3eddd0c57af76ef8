// Numbers of the gateway's NAT64 bypass transport: "specification" values (docs/protocol/nat64-bypass.md,
// cited as "bypass §n", RFC 4861 and RFC 8926) and "implementation" values that are our own choices.

/** Numbers fixed by specifications. */
export const SPEC = {
  /** RFC 8926 §3.3: the Geneve UDP port, on the servers and on the gateway's pool4 addresses. */
  GENEVE_PORT: 6081,
  /** Outer IPv4 (20), UDP (8), Geneve (8), the empty bypass option (4) and Ethernet (14): bypass §8. */
  TUNNEL_OVERHEAD: 54,
  /** RFC 8200 §5: the smallest IPv6 link MTU. */
  IPV6_MIN_MTU: 1280,
  /** RFC 4861 §10: DELAY_FIRST_PROBE_TIME, RETRANS_TIMER and MAX_UNICAST_SOLICIT (bypass §6.3). */
  DELAY_FIRST_PROBE_MS: 5000,
  RETRANS_TIMER_MS: 1000,
  MAX_UNICAST_SOLICIT: 3,
  /** RFC 8200 §3: IPv6 header fields. */
  IPV6_HEADER: 40,
  IPV6_PAYLOAD_LENGTH: 4,
  IPV6_NEXT_HEADER: 6,
  IPV6_HOP_LIMIT: 7,
  IPV6_SOURCE: 8,
  IPV6_DESTINATION: 24,
  /** RFC 894 / IEEE 802.3: the Ethernet II header, and the group bit of the destination's first octet. */
  ETHERNET_HEADER: 14,
  ETHERNET_GROUP_BIT: 0x01,
  ETHERTYPE_IPV6: 0x86dd,
  /** RFC 768: UDP header. */
  UDP_HEADER: 8,
  /** RFC 792: Destination Unreachable, port unreachable. */
  ICMP4_UNREACH: 3,
  ICMP4_PORT_UNREACH: 3,
} as const;

/** Our own choices. */
export const IMPL = {
  /** Where the persistent VNI secret lives unless handoff.bypass.secretFile says otherwise (bypass §5.1). */
  SECRET_FILE: '/var/lib/nat64-gateway/bypass-secret',
  /** Bytes of a secret the gateway creates (RFC 2104 §3: at least the hash's output is best). */
  SECRET_BYTES: 32,
  /** The log message of our offers (bypass §3.1: the same in every offer). */
  MESSAGE: 'NAT64 bypass offered by nat64-gateway',
  /** The gateway's address on every tunnel link, the source of its solicitations (bypass §5.3). */
  LINK_LOCAL: 'fe80::1',
  /** An offer to a host that has not accepted is repeated this often (like the handoff HELLO). */
  OFFER_INTERVAL: '30s',
  /** RFC 4861 §10 REACHABLE_TIME: how long a confirmation holds before unreachability detection starts. */
  REACHABLE_TIME: '30s',
  /** The transient MAC secret changes this often (and at every start), bypass §5.2. */
  MAC_ROTATION: '24h',
  /** Frames to the previous MAC are still taken this long after a rotation (bypass §5.2). */
  MAC_GRACE: '10m',
  /** Tunnel link MTU both ends use unless configured (bypass §8). */
  MTU: 1400,
  /** Hosts tracked at most; beyond it a new host gets no offer (plain translation). */
  MAX_HOSTS: 65_536,
  /** A host that never accepted and has had no mapping this long is forgotten. */
  FORGET_MS: 10 * 60_000,
  /** Translated flows toward accepted hosts remembered after their session ends (handoff.bypass.translatedFlows). */
  TRANSLATED_FLOWS: 100_000,
  /** The timers scan the hosts at most this often (handoff ticks every 4 ms). */
  SCAN_MS: 100,
} as const;
