// What the gateway's bypass transport counts, with the explanation `nat64-gateway stats --explain` prints.

export const BYPASS_COUNTERS = {
  offersSent: 'offers sent: Neighbor Solicitations for PREFIX::HOST with the bypass option and the log message (bypass §6.1)',
  probesSent: 'unicast Neighbor Solicitations sent to an accepted host to check it still answers (bypass §6.3)',
  advertisementsSent: "Neighbor Advertisements sent for the gateway's link-local address, answering a server's solicitation",
  accepted: 'hosts that answered an offer with a valid Neighbor Advertisement: new flows to them go through the tunnel',
  fallbacks: 'accepted hosts whose tunnel stopped answering (neighbor unreachability or port unreachable): new flows translated again',
  macRotations: 'rotations of the transient secret the gateway MACs are derived from (bypass §5.2)',
  framesOut: 'client IPv6 packets sent untranslated through a tunnel',
  framesIn: 'IPv6 packets from a tunnel written to the TUN device toward a client',
  keptTranslated: 'packets to an accepted host kept on the NAT64 because their flow has a session (flows keep their path)',
  translatedFlowsRemembered: 'translated flows toward an accepted host remembered when their session timed out or was evicted (handoff.bypass.translatedFlows)',
  translatedFlowsRestored: 'remembered flows whose client spoke first: session restored on the same NAT address and port, kept translated',
  translatedFlowsAsked: 'remembered flows handed off to a receiver whose client spoke first: kept on the NAT64, which asks the receiver (CLIENT-QUERY)',
  translatedFlowsConflicts:
    'remembered flows whose client spoke first after their NAT port went to another client: left to the NAT64 (TCP dropped, a datagram gets a new mapping)',
  received: 'packets to a pool4 address on UDP 6081 taken as bypass',
  notBypass: 'packets to pool4:6081 that are not bypass, with no other Geneve transport to take them',
  malformed: 'dropped: a datagram to pool4:6081 whose UDP length or checksum is wrong, or a fragment',
  noHost: 'dropped: bypass packets from an address the gateway offered nothing to (wrong outer source)',
  wrongMac: "dropped: frames to a MAC that is neither the gateway's current one nor the previous one within its grace period",
  notAccepted: 'dropped: data frames from a host that has not accepted (no Neighbor Advertisement yet)',
  wrongSource: 'dropped: IPv6 packets from a tunnel whose source is not PREFIX::HOST of that tunnel',
  linkTraffic: 'frames from a tunnel for the link itself (multicast, other neighbor discovery), not forwarded',
  badNeighbor: 'dropped: neighbor discovery frames that fail the checks of RFC 4861 §7.1',
  hopLimit: 'dropped: IPv6 packets from a tunnel with Hop Limit 1 or 0',
  tooLong: 'dropped: IPv6 packets from a tunnel whose length does not fit the frame or the output',
  noRoom: 'dropped: no output slot for an encapsulated packet (a bug)',
  hostsFull: 'hosts not offered bypass: MAX_HOSTS reached',
  portUnreachable: "ICMP port unreachable about our tunnel packets (nothing listens on the host's 6081)",
  otherErrors: 'other ICMP errors about our tunnel packets, counted only',
} as const;

export type BypassCounterName = keyof typeof BYPASS_COUNTERS;
