// The gateway's own counters: what happened to packets where the engine (not the translator or the
// tables) decided, each with a one-line explanation for `nat64-gateway stats --explain`. Values live in
// one Float64Array bumped by constant index on the packet path.

export const GATEWAY_COUNTERS = {
  forwarded64: 'IPv6 packets translated to IPv4 and sent',
  forwarded46: 'IPv4 packets translated to IPv6 and sent (a fragmented result counts once)',
  hairpinned: 'IPv6 packets to a pool4 address translated twice and sent back to IPv6 (RFC 6146 3.8)',
  icmpErrorsTranslated: 'ICMP errors translated by the session of the packet they quote',
  notPool6: 'IPv6 packets whose destination is not an IPv4-embedded address under the prefix (a route points here wrongly)',
  sourceInPool6: 'IPv6 packets whose source lies under the prefix (a loop or a spoofed source)',
  martianSourceIpv6: 'IPv6 packets from ::, ::1, a link-local or a multicast address, which no router forwards (RFC 4291 2.5.2, 2.5.3, 2.5.6, 2.7)',
  martianDestination:
    'IPv6 packets to an embedded 0.0.0.0/8, 127/8, multicast or 255.255.255.255, under any prefix (RFC 1812 5.3.5.1, 5.3.7), answered with ICMPv6 1/1',
  nonGlobalDestination: 'IPv6 packets to a non-global IPv4 address under the Well-Known Prefix (RFC 6052 3.1), answered with ICMPv6 1/1',
  nonGlobalSource: 'IPv4 packets from a non-global address, refused under the Well-Known Prefix (RFC 6052 3.1)',
  notPool4: 'IPv4 packets whose destination is not a pool4 address',
  martianSourceIpv4:
    'IPv4 packets from 0.0.0.0/8, 127/8, multicast or 255.255.255.255 (RFC 1812 5.3.7, RFC 7915 4.1); ICMP errors from 0/8 and 127/8 are still translated (RFC 7915 4.1)',
  sourceInPool4: 'IPv4 packets from outside whose source is a pool4 address (a loop or a spoofed source)',
  badFragmentLength: 'IPv6 fragments with M set whose data is not a multiple of 8 bytes (RFC 8200 4.5), answered with ICMPv6 4/0 pointing at Payload Length',
  fragmentTooLong: 'IPv6 fragments whose datagram would reassemble past 65,535 bytes (RFC 8200 4.5), answered with ICMPv6 4/0 pointing at Fragment Offset',
  fragmentOverlap:
    'IPv6 fragments dropped with their whole datagram: two of its fragments overlap (RFC 5722), or it came in too many pieces to check (fragments.*)',
  udpZeroChecksumFragments:
    'first fragments of IPv4 UDP datagrams without checksum, dropped silently: the gateway does not reassemble to compute one (RFC 6146 3.4)',
  udpChecksumsComputed: 'IPv4 UDP datagrams without checksum translated with a computed one (RFC 7915 4.5, RFC 6146 3.4)',
  unsupportedProtocol: 'packets that are neither TCP, UDP nor ICMP (RFC 6146 3: no state for other protocols)',
  noBib: 'IPv4 packets for a NAT transport address without BIB entry; UDP answered with ICMPv4 3/3 (RFC 6146 3.5.1)',
  filtered: 'IPv4 packets refused by address-dependent filtering; UDP and ICMP answered with ICMPv4 3/13 (RFC 6146 3.5.1)',
  noSession: 'TCP segments other than a SYN without a session (RFC 6146 3.5.2.2)',
  heldSyns: 'unsolicited IPv4 SYNs held for 6 seconds (RFC 6146 3.5.2.2)',
  heldSynLimit: 'unsolicited IPv4 SYNs dropped: the held-SYN store is full',
  heldSynsAnswered: 'held SYNs that ran out, answered with ICMP port unreachable',
  heldSynsUnanswerable: 'held SYNs that ran out but could not be quoted (cut short when stored)',
  poolExhausted: 'new mappings refused: no free pool4 port, answered with ICMPv6 1/3 (RFC 6146 3.5.1.1)',
  clientLimit: 'new sessions refused: the client holds its maximum of sessions',
  tableFull: 'new sessions refused: the session table is full',
  icmpErrorNoSession: 'ICMP errors whose quoted packet matches no session (errors never create state, RFC 6146 3.5)',
  icmpErrorUnusable: 'ICMP errors quoting a packet without ports or of a protocol the NAT does not track',
  fragmentsHeld: 'non-first fragments held until their first fragment (RFC 6146 3.4)',
  fragmentLimit: 'non-first fragments dropped: the held-fragment budget is spent',
  fragmentNoSession: 'non-first fragments whose session has gone since their first fragment',
  localDelivered: 'IPv4 UDP packets to a reserved pool4 port handed to a local handler',
  localUnclaimed: 'IPv4 UDP packets to a reserved pool4 port no handler is registered for',
  localErrors: 'ICMPv4 errors about a datagram the gateway sent from a reserved port, handed to its local handler',
  missTaken: 'IPv4 packets without a session taken by the cache-miss handler',
  clientMissTaken: 'IPv6 packets of a flow handed off and evicted earlier taken by the client-miss handler (the client spoke first)',
  tcpResetsSent: 'TCP RSTs sent to IPv6 clients whose handed-off connection could not come back (its NAT port went to another client)',
  reinjected: 'packets re-injected by a hook',
  injected: 'locally generated IPv4 packets sent from a pool4 address',
  injectRefused: 'locally generated packets refused: not IPv4, too short, too long or not from a pool4 address',
  outputFlushes: 'times the output batch filled up and was written before the input batch ended',
  offloaded: 'TCP segments of up to 64 KiB translated whole (tun.offload), for the kernel to split',
  bypassed: 'IPv6 packets taken untranslated by the bypass hook (sent through a NAT64 bypass tunnel, no session)',
  bypassHopLimit: 'IPv6 packets for a bypass tunnel with Hop Limit 1 or 0, answered with ICMPv6 Time Exceeded (RFC 4443 3.3)',
  bypassTooBig: 'IPv6 packets larger than the bypass tunnel MTU, answered with ICMPv6 Packet Too Big (RFC 4443 3.2)',
  bypassDropped: 'IPv6 packets for a bypass tunnel the bypass hook dropped (counted by the transport under its reason)',
  injected6: 'IPv6 packets a hook sent toward a client (decapsulated from a bypass tunnel)',
  offloadRefused: 'packets from the TUN device with offload information the gateway cannot honour (not TCP segmentation, or a checksum outside the packet)',
  coalescedTrains: 'output packets written as one USO or TSO packet made of several translated packets of one flow (tun.coalesce)',
  coalescedPackets: 'translated packets that joined an earlier one of their flow in a USO or TSO packet instead of being written alone (tun.coalesce)',
  coalesceBadChecksum: 'translated UDP or TCP packets written alone because their checksum was wrong (a train would have repaired it; tun.coalesce)',
} as const;

export type GatewayCounterName = keyof typeof GATEWAY_COUNTERS;

export const GATEWAY_COUNTER_NAMES = Object.keys(GATEWAY_COUNTERS) as GatewayCounterName[];

/** Index of each counter in the values array. */
export const GW = Object.freeze(Object.fromEntries(GATEWAY_COUNTER_NAMES.map((name, index) => [name, index])) as Record<GatewayCounterName, number>);
