// What the bypass endpoint counts, with the explanations `nat64-receiver stats --explain` prints.
// Drops by decoder verdict come beside these as bypassDrop.<reason>.

export const BYPASS_COUNTERS = {
  bypassReceived: 'Geneve packets of NAT64 bypass received on UDP 6081 (Protocol Type 0x6558 or option class 0x0162)',
  bypassOffers: 'offers received: a Neighbor Solicitation with the bypass option',
  bypassOffersRefused:
    'offers refused: target not PREFIX::(an IPv4 address of this host), or no tunnel left (--bypass-max-tunnels), or setting up the tunnel failed',
  bypassTunnelsUp: 'tunnels brought up (a "Tunnel up" log line each)',
  bypassTunnelsDown: 'tunnels taken down (a "Tunnel down" log line each)',
  bypassNoTunnel: 'dropped: not an offer, from an outer source without a tunnel',
  bypassVniMismatch: 'dropped: not an offer, with another VNI than the tunnel of its outer source',
  bypassAuditMirror: 'audit mirror packets (option type 0x81): never forwarded',
  bypassFramesIn: "frames from gateways written into their tunnel's TAP device",
  bypassFramesInFailed: 'frames the TAP device refused',
  bypassTrainsIn: 'large TCP segments written into TAP devices, each made of two frames or more of one flow (receive coalescing, --bypass-coalesce)',
  bypassFramesCoalesced: 'frames from gateways that joined an earlier frame of their TCP flow in such a large segment',
  bypassFramesOut: 'frames from TAP devices sent to their gateway',
  bypassNotIpv6Out: 'frames from TAP devices dropped because they do not carry IPv6',
  bypassSendQueueFull: 'frames from TAP devices dropped because the socket still held too many unsent packets',
} as const;

export type BypassCounterName = keyof typeof BYPASS_COUNTERS;
