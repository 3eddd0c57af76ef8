// What the gateway's Geneve transport counts, with the explanation `nat64-gateway stats --explain` prints.

export const GENEVE_COUNTERS = {
  packetsEncapsulated: 'translated packets sent to a host inside Geneve (UDP 6081), outer headers written in the output headroom',
  createdOptions: 'data packets that carried a mapping option with event Created',
  refreshOptions: 'data packets that carried a mapping option with event Refresh',
  encapsulationFailed: 'translated packets dropped: no room for the outer headers, or the outer packet too long',
  controlSent: 'Geneve control packets sent (a handoff v1 datagram inside, O bit, Protocol Type 0x88B5)',
  deletedSent: 'Geneve control packets with an empty payload and a mapping option Deleted',
  controlReceived: 'Geneve control packets from a receiver handed to the agent',
  dropped: 'packets to a pool4 address on UDP 6081 dropped by decapsulation (reasons under geneve.drop.*)',
  notControl: 'Geneve data packets to the gateway (it accepts only control packets): dropped',
  portUnreachable: 'ICMP port unreachable about our Geneve packets (no receiver listens on 6081)',
  tooBig: 'ICMP fragmentation needed about our Geneve packets: the underlay MTU is below the tunnel MTU (see docs/migration.md)',
  otherErrors: 'other ICMP errors about our Geneve packets, counted only',
  switchedToGeneve: 'hosts moved to the Geneve transport (their receiver announced Geneve)',
  switchedToHandoff: 'hosts moved back to handoff messages (their receiver stopped announcing Geneve, or 6081 is closed)',
  tunnelsFull: 'tunnels not built: MAX_TUNNELS reached (the host gets plain IPv4)',
  dueFull: 'mapping options not scheduled: too many waiting toward one host (its Refresh repairs it)',
  handedOffByGeneve: 'mappings handed off to an authoritative Geneve receiver after their Created rode on data packets',
} as const;

export type GeneveCounterName = keyof typeof GENEVE_COUNTERS;
