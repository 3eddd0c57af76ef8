// IPv4 -> IPv6 (RFC 6146 3.4-3.7 for packets from the IPv4 side): parse once, check the destination is
// a pool4 address and the source no martian, hand reserved UDP ports to local handlers, find or create
// the session (or let the table hold an unsolicited SYN), fill the mapping and translate into the output
// batch. ICMPv4 errors are translated by their quoted packet's session. Also the second half of hairpinning: then `origin`
// is the IPv6 packet that started it, and errors and held SYNs refer to it.

import { FAMILY, PROTOCOL, VERDICT } from '@nat64/nat64';
import { IpProto, ParseStatus, Verdict, XlatFlags, isMartianIpv4, parseIpv4, type Ipv4View, type Ipv6View } from '@nat64/xlat';
import { SPEC } from './constants.js';
import { GW } from './reasons.js';
import { SessionPorts, readSessionPorts } from './session-ports.js';
import type { DatapathState } from './state.js';

const ECHO_REQUEST = SPEC.ICMP4_ECHO_REQUEST;
const ECHO_REPLY = SPEC.ICMP4_ECHO_REPLY;
const PORTS = new SessionPorts();

/**
 * Handles the IPv4 packet buf[offset, offset + length). `origin`: the IPv6 packet this one is the
 * hairpinned form of, or null. `reinjected`: handed back by the cache-miss handler, not offered again.
 */
export function handle4(s: DatapathState, buf: Uint8Array, offset: number, length: number, origin: Ipv6View | null, reinjected: boolean): void {
  s.ensureRoom();
  const v = s.v4;
  if (!s.parsed(parseIpv4(buf, offset, length, v))) return;
  if (!s.pool.has(v.dst)) return s.count(GW.notPool4);
  // A hairpinned packet comes from a pool4 address by design; anything else from one is a loop or spoofed.
  if (origin === null) {
    if (isMartianIpv4(v.src) && !troubleshootingError(v)) return s.count(GW.martianSourceIpv4);
    if (s.pool.has(v.src)) return s.count(GW.sourceInPool4);
  }
  const flags = origin === null ? 0 : XlatFlags.hairpin;
  // Refusals that need no state (TTL, source route) first, so they create none.
  if ((origin === null && v.hopLimit <= 1) || v.sourceRoute) return refuse(s, v, flags);

  const protocol = v.protocol;
  if (protocol === IpProto.icmp) {
    if (v.isFragment) return refuse(s, v, flags);
    if (v.isIcmpError) return icmpError(s, v, origin);
    if (v.icmpType !== ECHO_REQUEST && v.icmpType !== ECHO_REPLY) return refuse(s, v, flags);
    if (origin === null && s.isRefusedAddress(v.src)) return s.count(GW.nonGlobalSource);
    const h = s.table.inbound(PROTOCOL.ICMP, v.src, 0, v.dst, v.icmpId);
    if (h < 0) return missed(s, v, h, origin, reinjected);
    mapIn(s, h, v.src, 0);
    return emit(s, v, flags);
  }
  if (protocol !== IpProto.tcp && protocol !== IpProto.udp) return s.count(GW.unsupportedProtocol);
  // Local traffic (handoff, Geneve) is not translated, so RFC 6052 3.1 does not apply to it.
  if (protocol === IpProto.udp && origin === null && v.isFirstFragment && s.reserved[v.dstPort] === 1) return local(s, v);
  if (origin === null && s.isRefusedAddress(v.src)) return s.count(GW.nonGlobalSource);
  // RFC 6146 3.4: a NAT64 that does not reassemble MUST silently discard a fragmented UDP datagram without
  // checksum (unfragmented, the translator computes one: RFC 7915 4.5, translation.amendUdpChecksumZero).
  if (v.udpChecksumZero && v.moreFragments) return s.count(GW.udpZeroChecksumFragments);
  if (!v.isFirstFragment) return laterFragment(s, v, flags);
  const tcpFlags = protocol === IpProto.tcp ? buf[v.l4Offset + SPEC.TCP_FLAGS_OFFSET]! : 0;
  // An unsolicited SYN is held as a copy of what must be quoted when it times out: for a hairpinned
  // one that is the original IPv6 SYN, whose sender gets the ICMPv6 error.
  const held = origin ?? v;
  const h = s.table.inbound(protocol, v.src, v.srcPort, v.dst, v.dstPort, tcpFlags, held.buf, held.start, held.end);
  if (h < 0) return missed(s, v, h, origin, reinjected);
  mapIn(s, h, v.src, v.srcPort);
  if (!v.moreFragments) return emit(s, v, flags);
  // A first fragment: remember its session for the rest of the datagram (RFC 6146 3.4).
  const token = s.table.sessionToken(h);
  const fragmentId = v.fragmentId;
  const start = v.start;
  emit(s, v, flags);
  // No byte range: IPv4 reassembly tolerates overlaps (RFC 791), so IPv4 fragments are not checked for them.
  const waiting = s.fragments.first(FAMILY.IPV4, buf, start + SPEC.IPV4_SRC_OFFSET, start + SPEC.IPV4_DST_OFFSET, fragmentId, protocol, token);
  for (const fragment of waiting) handle4(s, fragment, 0, fragment.length, null, true);
}

/** Fills the IPv4 -> IPv6 mapping from session `h`: the server under the prefix toward the client. */
function mapIn(s: DatapathState, h: number, src4: number, srcPort: number): void {
  const m = s.m46;
  const clientPort = s.table.clientPort(h);
  s.prefix.embed(src4, m.src, 0);
  s.table.copyClientAddress(h, m.dst, 0);
  m.srcPort = srcPort;
  m.dstPort = clientPort;
  m.icmpId = clientPort;
}

function emit(s: DatapathState, v: Ipv4View, flags: number): void {
  const out = s.out;
  const from = out.count;
  const offload = s.offload;
  const segment = offload === null ? 0 : offload.xlatFlags;
  if (s.translator.toIpv6(v, s.m46, out, flags | segment) !== Verdict.forward) return;
  s.count(GW.forwarded46);
  if (v.udpChecksumZero) s.count(GW.udpChecksumsComputed);
  if (offload?.translated(out, from)) s.count(GW.offloaded);
}

function laterFragment(s: DatapathState, v: Ipv4View, flags: number): void {
  const token = s.fragments.later(FAMILY.IPV4, v.buf, v.start + SPEC.IPV4_SRC_OFFSET, v.start + SPEC.IPV4_DST_OFFSET, v.fragmentId, v.protocol, v.start, v.end);
  if (token === VERDICT.FRAGMENT_HELD) return s.count(GW.fragmentsHeld);
  if (token === VERDICT.FRAGMENT_LIMIT) return s.count(GW.fragmentLimit);
  const h = s.table.sessionFromToken(token);
  if (h < 0) return s.count(GW.fragmentNoSession);
  mapIn(s, h, v.src, 0);
  emit(s, v, flags);
}

/**
 * RFC 7915 4.1: the "illegal" source 0.0.0.0/8 or 127/8 of an ICMPv4 error is translated, for
 * troubleshooting; other martian sources are not.
 */
function troubleshootingError(v: Ipv4View): boolean {
  const first = v.src >>> 24;
  return v.isIcmpError && (first === 0 || first === 127);
}

/** Reserved UDP ports on pool4 addresses belong to the gateway itself (handoff, Geneve). */
function local(s: DatapathState, v: Ipv4View): void {
  const handler = s.localHandlers.get(v.dstPort);
  if (handler === undefined) return s.count(GW.localUnclaimed);
  s.count(GW.localDelivered);
  s.offload?.local(v.buf, v.start, v.end - v.start);
  handler(v);
}

/**
 * An ICMPv4 error quotes a packet the NAT64 sent to the IPv4 side: from a pool4 transport address to
 * the server. Its session is looked up, never created (RFC 6146 3.5).
 */
function icmpError(s: DatapathState, v: Ipv4View, origin: Ipv6View | null): void {
  const flags = origin === null ? 0 : XlatFlags.hairpin;
  const inner = v.inner!;
  if (v.innerStatus !== ParseStatus.ok || inner.isIcmpError) return refuse(s, v, flags);
  if (!s.pool.has(inner.src)) return s.count(GW.icmpErrorNoSession);
  // About a datagram of the gateway's own (handoff, Geneve): no session holds reserved ports.
  if (origin === null && inner.protocol === IpProto.udp && inner.hasPorts && s.reserved[inner.srcPort] === 1) {
    const handler = s.localErrorHandlers.get(inner.srcPort);
    if (handler !== undefined) {
      s.count(GW.localErrors);
      return handler(v);
    }
  }
  // The quoted packet went from the NAT to the server.
  if (!readSessionPorts(inner, false, PORTS)) return s.count(GW.icmpErrorUnusable);
  const { protocol, near: natPort, server: serverPort } = PORTS;
  const h = s.table.lookupInbound(protocol, inner.dst, serverPort, inner.src, natPort);
  if (h < 0) {
    // No session: perhaps about one of our tunnel packets (Geneve data to the host's port 6081).
    const tunnel = origin === null && protocol === IpProto.udp ? s.tunnelErrorHandlers.get(serverPort) : undefined;
    if (tunnel !== undefined) {
      s.count(GW.localErrors);
      return tunnel(v);
    }
    return s.count(GW.icmpErrorNoSession);
  }
  const m = s.m46;
  const clientPort = s.table.clientPort(h);
  // RFC 6052 3.1: a router with a non-global address cannot appear under the Well-Known Prefix; the
  // error then seems to come from the destination it is about.
  const reporter = s.icmpErrorsFromReporter && !(origin === null && s.isRefusedAddress(v.src));
  s.prefix.embed(reporter ? v.src : inner.dst, m.src, 0);
  s.table.copyClientAddress(h, m.dst, 0);
  m.innerSrc.set(m.dst);
  m.innerSrcPort = clientPort;
  m.innerIcmpId = clientPort;
  s.prefix.embed(inner.dst, m.innerDst, 0);
  m.innerDstPort = serverPort;
  s.count(GW.icmpErrorsTranslated);
  emit(s, v, flags);
}

/** Lets the translator refuse a packet it will not translate (its checks come before any mapping is used). */
function refuse(s: DatapathState, v: Ipv4View, flags: number): void {
  s.translator.toIpv6(v, s.m46, s.out, flags);
}

/** A verdict from the table instead of a session: offer it to the miss handler, then refuse or drop. */
function missed(s: DatapathState, v: Ipv4View, verdict: number, origin: Ipv6View | null, reinjected: boolean): void {
  const offerable = verdict === VERDICT.NO_BIB || verdict === VERDICT.FILTERED || verdict === VERDICT.NO_SESSION;
  if (offerable && origin === null && !reinjected && s.missHandler?.(v, verdict, s.offload === null ? null : s.offload.header())) {
    return s.count(GW.missTaken);
  }
  switch (verdict) {
    case VERDICT.NO_BIB:
      s.count(GW.noBib);
      // RFC 6146 3.5.1: UDP without a mapping is answered with port unreachable; TCP and ICMP are dropped.
      if (v.protocol === IpProto.udp) reject(s, v, origin, SPEC.ICMP4_PORT_UNREACH, SPEC.ICMP6_PORT_UNREACH);
      return;
    case VERDICT.FILTERED:
      s.count(GW.filtered);
      if (v.protocol !== IpProto.tcp) reject(s, v, origin, SPEC.ICMP4_ADMIN_PROHIBITED, SPEC.ICMP6_ADMIN_PROHIBITED);
      return;
    default:
      return s.countDropVerdict(verdict);
  }
}

/** Answers the sender with Destination Unreachable: the IPv4 sender, or for a hairpinned packet the IPv6 one. */
function reject(s: DatapathState, v: Ipv4View, origin: Ipv6View | null, code4: number, code6: number): void {
  if (origin !== null) s.translator.icmp6Error(origin, SPEC.ICMP6_UNREACH, code6, 0, s.out);
  else s.translator.icmp4Error(v, SPEC.ICMP4_UNREACH, code4, 0, s.out);
}
