// What the engine is built from: validated settings in their parsed form (addresses as numbers and
// bytes, durations in milliseconds). Reading them from JSON and flags, with their defaults, is the
// app's job (apps/gateway/src/config.ts); its GatewayConfig extends EngineSettings.

export type Protocol = 'tcp' | 'udp' | 'icmp';

export interface PortRange {
  first: number;
  last: number;
}

export interface Pool4Entry {
  /** IPv4 address as an unsigned 32-bit number. */
  address: number;
  ports: Record<Protocol, PortRange>;
}

export interface StaticBibEntry {
  protocol: Protocol;
  ipv6: Uint8Array;
  ipv6Port: number;
  ipv4: number;
  ipv4Port: number;
}

export interface EngineSettings {
  /** The RFC 6052 prefix: 16 bytes and a length of 32, 40, 48, 56, 64 or 96. */
  prefix: { bytes: Uint8Array; length: number };
  /** RFC 6052 section 3.1: refuse non-global IPv4 addresses under the Well-Known Prefix (ignored for other prefixes). */
  refuseNonGlobalUnderWkp: boolean;
  pool4: readonly Pool4Entry[];
  staticBib: readonly StaticBibEntry[];
  filtering: 'endpoint-independent' | 'address-dependent';
  /** RFC 6146 3.5.2.2: drop unsolicited IPv4 SYNs instead of holding them for a simultaneous open. */
  dropUnsolicitedTcp: boolean;
  timeoutsMs: { udp: number; tcpEstablished: number; tcpTransitory: number; icmp: number; fragment: number };
  /** Accept timeouts below the RFC 6146 section 4 minimums (tests, labs). */
  allowShortTimeouts: boolean;
  limits: { maxSessions: number; maxSessionsPerClient: number; maxHeldSyns: number; maxFragmentDatagrams: number };
  translation: {
    lowestIpv6Mtu: number;
    ipv4NextHopMtu: number;
    ipv6NextHopMtu: number;
    /** Source of ICMPv6 errors the gateway itself generates; undefined: the prefix form of ipv4Address. */
    ipv6Address: Uint8Array | undefined;
    /** Source of ICMPv4 errors the gateway itself generates. */
    ipv4Address: number;
    zeroizeTrafficClass: boolean;
    amendUdpChecksumZero: boolean;
    /** Translated ICMPv4 errors come from the reporting router's address (true) or the quoted destination's. */
    icmpErrorsFromReporter: boolean;
    icmpErrorRate: { perSecond: number; burst: number };
  };
  /** offload: virtio-net headers and TSO through the device (offload.ts); coalesce: each flow's run of
   * translated packets leaves as one USO or TSO packet (coalesce.ts, needs offload). */
  tun: { offload: boolean; coalesce: boolean };
}
