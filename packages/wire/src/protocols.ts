// IP protocol / IPv6 Next Header numbers (IANA "Assigned Internet Protocol Numbers"), each with the
// RFC that defines the protocol: the one table every package that reads or writes these fields uses.

export const IpProto = {
  hopByHop: 0, // RFC 8200 4.3
  icmp: 1, // RFC 792
  igmp: 2, // RFC 3376
  tcp: 6, // RFC 9293
  udp: 17, // RFC 768
  dccp: 33, // RFC 4340
  routing: 43, // RFC 8200 4.4
  fragment: 44, // RFC 8200 4.5
  esp: 50, // RFC 4303
  ah: 51, // RFC 4302
  icmpv6: 58, // RFC 4443
  noNextHeader: 59, // RFC 8200 4.7
  destinationOptions: 60, // RFC 8200 4.6
  sctp: 132, // RFC 9260
  mobility: 135, // RFC 6275
  udpLite: 136, // RFC 3828
  hip: 139, // RFC 7401
  shim6: 140, // RFC 5533
  experiment1: 253, // RFC 3692
  experiment2: 254, // RFC 3692
} as const;
