// The ports that key a NAT64 session, read from a packet or from the packet an ICMP error quotes:
// TCP and UDP ports, or an ICMP echo's identifier, which takes the place of the port on the client's
// side and leaves the server's port 0 (RFC 6146 3.5.3).
import { PROTOCOL } from '@nat64/nat64';
import { IpProto, type Ipv4View, type Ipv6View } from '@nat64/xlat';
import { SPEC } from './constants.js';

/** Reused for every packet; filled by readSessionPorts. */
export class SessionPorts {
  /** PROTOCOL.TCP, UDP or ICMP. */
  protocol = 0;
  /** The port on the client's side of the NAT (the NAT port or the client port), or the echo identifier. */
  near = 0;
  /** The server's port; 0 for ICMP. */
  server = 0;
}

/**
 * Fills `ports` from a TCP or UDP packet with its ports, or an ICMP echo request or reply (ICMPv4 in an
 * IPv4 view, ICMPv6 in an IPv6 one); false for anything else. `fromServer`: the server sent the packet.
 */
export function readSessionPorts(v: Ipv4View | Ipv6View, fromServer: boolean, ports: SessionPorts): boolean {
  const protocol = v.protocol;
  if ((protocol === IpProto.tcp || protocol === IpProto.udp) && v.hasPorts) {
    ports.protocol = protocol;
    ports.near = fromServer ? v.dstPort : v.srcPort;
    ports.server = fromServer ? v.srcPort : v.dstPort;
    return true;
  }
  const type = v.icmpType;
  const echo =
    protocol === IpProto.icmp
      ? type === SPEC.ICMP4_ECHO_REQUEST || type === SPEC.ICMP4_ECHO_REPLY
      : protocol === IpProto.icmpv6 && (type === SPEC.ICMP6_ECHO_REQUEST || type === SPEC.ICMP6_ECHO_REPLY);
  if (!echo) return false;
  ports.protocol = PROTOCOL.ICMP;
  ports.near = v.icmpId;
  ports.server = 0;
  return true;
}
