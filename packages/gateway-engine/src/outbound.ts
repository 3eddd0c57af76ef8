// IPv6 -> IPv4 (RFC 6146 3.4-3.7 for packets from the IPv6 side): parse once, check the addresses and
// the fragment (martians and RFC 8200 4.5 faults are refused before any state is made), find or create
// the session, fill the mapping and translate into the output batch. Packets to a pool4 address are
// hairpinned (RFC 6146 3.8): translated to IPv4, then through the inbound path. ICMPv6 errors are
// translated by their quoted packet's session, found without creating state.

import { FAMILY, PROTOCOL, VERDICT } from '@nat64/nat64';
import {
  FragmentFault,
  IpProto,
  ParseStatus,
  Verdict,
  XlatFlags,
  fragmentFaultPointer,
  ipv6FragmentFault,
  isMartianIpv4,
  isMartianIpv6Source,
  parseIpv6,
  type Ipv6View,
} from '@nat64/xlat';
import { SPEC } from './constants.js';
import { handle4 } from './inbound.js';
import { GW } from './reasons.js';
import { SessionPorts, readSessionPorts } from './session-ports.js';
import { BYPASS_VERDICT, type DatapathState } from './state.js';

const ECHO_REQUEST = SPEC.ICMP6_ECHO_REQUEST;
const ECHO_REPLY = SPEC.ICMP6_ECHO_REPLY;
const PORTS = new SessionPorts();

/**
 * Handles the IPv6 packet buf[offset, offset + length). Never throws; every outcome is counted.
 * `released`: a fragment the fragment tracker held and handed back, already checked for overlaps.
 * `reinjected`: handed back by the client-miss handler, not offered again.
 */
export function handle6(s: DatapathState, buf: Uint8Array, offset: number, length: number, released = false, reinjected = false): void {
  s.ensureRoom();
  const v = s.v6;
  if (!s.parsed(parseIpv6(buf, offset, length, v))) return;
  const dst4 = s.prefix.extract(buf, v.dstOffset);
  if (dst4 < 0) return s.count(GW.notPool6);
  if (isMartianIpv6Source(buf, v.srcOffset)) return s.count(GW.martianSourceIpv6);
  if (s.prefix.contains(buf, v.srcOffset)) return s.count(GW.sourceInPool6);
  if (isMartianIpv4(dst4)) return prohibited(s, v, GW.martianDestination);
  if (s.isRefusedAddress(dst4)) return prohibited(s, v, GW.nonGlobalDestination);
  const bypass = s.bypass;
  if (bypass !== null) {
    const verdict = bypass.outbound(v, dst4, s.out);
    if (verdict !== BYPASS_VERDICT.PASS) return bypassed(s, v, verdict, bypass.mtu);
  }
  const fault = ipv6FragmentFault(v);
  if (fault !== FragmentFault.none) {
    s.count(fault === FragmentFault.length ? GW.badFragmentLength : GW.fragmentTooLong);
    s.translator.icmp6Error(v, SPEC.ICMP6_PARAMETER_PROBLEM, SPEC.ICMP6_ERRONEOUS_FIELD, fragmentFaultPointer(v, fault), s.out);
    return;
  }
  // Refusals that need no state (zero UDP checksum, hop limit, Routing header, extension after Fragment)
  // come first, so a packet that cannot leave does not create a session.
  if (v.udpChecksumZero || v.hopLimit <= 1 || v.extensionAfterFragment || v.segmentsLeftPointer >= 0) return refuse(s, v);

  const protocol = v.protocol;
  if (protocol === IpProto.icmpv6) {
    if (v.isFragment) return refuse(s, v);
    if (v.isIcmpError) return icmpError(s, v, dst4);
    if (v.icmpType !== ECHO_REQUEST && v.icmpType !== ECHO_REPLY) return refuse(s, v);
    const h = outboundSession(s, v, PROTOCOL.ICMP, v.icmpId, dst4, 0, 0, !reinjected);
    if (h === VERDICT.NEW_MAPPING) return;
    if (h < 0) return refused(s, v, h);
    mapOut(s, h, dst4, 0);
    return emit(s, v, dst4);
  }
  if (protocol !== IpProto.tcp && protocol !== IpProto.udp) return s.count(GW.unsupportedProtocol);
  if (!v.isFirstFragment) return laterFragment(s, v, dst4, released);
  const flags = protocol === IpProto.tcp ? buf[v.l4Offset + SPEC.TCP_FLAGS_OFFSET]! : 0;
  const whole = !v.moreFragments && !reinjected;
  const h = outboundSession(s, v, protocol, v.srcPort, dst4, v.dstPort, flags, whole && protocol === IpProto.udp);
  if (h === VERDICT.NEW_MAPPING) return;
  if (h < 0) {
    if (whole && h === VERDICT.NO_SESSION && offerClientMiss(s, v, protocol, v.srcPort, dst4, v.dstPort, true)) return;
    return refused(s, v, h);
  }
  mapOut(s, h, dst4, v.dstPort);
  if (!v.moreFragments) return emit(s, v, dst4);
  // A first fragment: remember its session for the rest of the datagram (RFC 6146 3.4).
  const token = s.table.sessionToken(h);
  const waiting = s.fragments.first(FAMILY.IPV6, buf, v.srcOffset, v.dstOffset, v.fragmentId, protocol, token, 0, fragmentDataLength(v));
  if (waiting === null) return s.count(GW.fragmentOverlap);
  emit(s, v, dst4);
  for (const fragment of waiting) handle6(s, fragment, 0, fragment.length, true);
}

/** What the bypass hook decided, counted; the ICMPv6 errors it asks for are sent here (RFC 4443 3.2, 3.3). */
function bypassed(s: DatapathState, v: Ipv6View, verdict: number, mtu: number): void {
  switch (verdict) {
    case BYPASS_VERDICT.TAKEN:
      s.offload?.tunnelled(s.out, s.out.count - 1, v.end - v.start, s.coalescer !== null);
      return s.count(GW.bypassed);
    case BYPASS_VERDICT.HOP_LIMIT:
      s.count(GW.bypassHopLimit);
      s.translator.icmp6Error(v, SPEC.ICMP6_TIME_EXCEEDED, SPEC.ICMP6_HOP_LIMIT_EXCEEDED, 0, s.out);
      return;
    case BYPASS_VERDICT.TOO_BIG:
      s.count(GW.bypassTooBig);
      s.translator.icmp6Error(v, SPEC.ICMP6_PACKET_TOO_BIG, 0, mtu, s.out);
      return;
    default:
      return s.count(GW.bypassDropped);
  }
}

/** Bytes of datagram data the fragment `v` carries (after its Fragment header). */
function fragmentDataLength(v: Ipv6View): number {
  return v.end - v.fragmentHeaderOffset - SPEC.IPV6_FRAGMENT_HEADER;
}

/** Counts the refusal and answers with ICMPv6 Destination Unreachable, administratively prohibited (RFC 7915 5.4). */
function prohibited(s: DatapathState, v: Ipv6View, counter: number): void {
  s.count(counter);
  s.translator.icmp6Error(v, SPEC.ICMP6_UNREACH, SPEC.ICMP6_ADMIN_PROHIBITED, 0, s.out);
}

/**
 * The session of an outbound packet, found or made by the table: a handle or a VERDICT. With `offer`, while
 * the client-miss handler is armed, a flow whose client holds no mapping goes to the handler before the
 * table makes one; VERDICT.NEW_MAPPING: the handler took the packet. Established flows pay one lookup
 * either way, and a new flow the handler leaves to the table is made without a second one (the table
 * remembers the flow it just found new).
 */
function outboundSession(
  s: DatapathState,
  v: Ipv6View,
  protocol: number,
  clientPort: number,
  dst4: number,
  serverPort: number,
  flags: number,
  offer: boolean,
): number {
  if (offer && s.clientMissHandler?.armed) {
    const h = s.table.outbound(protocol, v.buf, v.srcOffset, clientPort, dst4, serverPort, flags, false);
    if (h !== VERDICT.NEW_MAPPING || offerClientMiss(s, v, protocol, clientPort, dst4, serverPort, false)) return h;
  }
  return s.table.outbound(protocol, v.buf, v.srcOffset, clientPort, dst4, serverPort, flags);
}

/** Offers a packet to the client-miss handler, if one is installed; whether it took the packet. */
function offerClientMiss(s: DatapathState, v: Ipv6View, protocol: number, clientPort: number, dst4: number, serverPort: number, noSession: boolean): boolean {
  const handler = s.clientMissHandler;
  if (handler === null || s.pool.has(dst4)) return false;
  if (!handler.miss(v, protocol, clientPort, dst4, serverPort, noSession, s.offload === null ? null : s.offload.header())) return false;
  s.count(GW.clientMissTaken);
  return true;
}

/** Fills the IPv6 -> IPv4 mapping from session `h`: the client's NAT transport address toward dst4. */
function mapOut(s: DatapathState, h: number, dst4: number, dstPort: number): void {
  const m = s.m64;
  const natPort = s.table.natPort(h);
  m.src = s.table.natAddress(h);
  m.dst = dst4;
  m.srcPort = natPort;
  m.dstPort = dstPort;
  m.icmpId = natPort;
}

/**
 * A non-first fragment takes the session its first fragment found (RFC 6146 3.4), or waits for it; the
 * byte range it covers is checked for overlaps (RFC 5722), unless it was checked when it was held.
 */
function laterFragment(s: DatapathState, v: Ipv6View, dst4: number, released: boolean): void {
  const from = released ? -1 : v.fragmentOffset;
  const to = v.fragmentOffset + fragmentDataLength(v);
  const token = s.fragments.later(FAMILY.IPV6, v.buf, v.srcOffset, v.dstOffset, v.fragmentId, v.protocol, v.start, v.end, from, to);
  if (token === VERDICT.FRAGMENT_HELD) return s.count(GW.fragmentsHeld);
  if (token === VERDICT.FRAGMENT_LIMIT) return s.count(GW.fragmentLimit);
  if (token === VERDICT.FRAGMENT_OVERLAP) return s.count(GW.fragmentOverlap);
  const h = s.table.sessionFromToken(token);
  if (h < 0) return s.count(GW.fragmentNoSession);
  mapOut(s, h, dst4, 0);
  emit(s, v, dst4);
}

/**
 * An ICMPv6 error quotes a packet the NAT64 sent to the IPv6 side: from the server (under the prefix)
 * to the client. Its session is looked up, never created (RFC 6146 3.5); the error then leaves from
 * the session's NAT address, whoever on the IPv6 side reported it.
 */
function icmpError(s: DatapathState, v: Ipv6View, dst4: number): void {
  const inner = v.inner!;
  // The translator refuses these with their reasons (icmpBadInner, icmpNestedError).
  if (v.innerStatus !== ParseStatus.ok || inner.isIcmpError) return refuse(s, v);
  const server = s.prefix.extract(inner.buf, inner.srcOffset);
  if (server < 0) return s.count(GW.icmpErrorNoSession);
  // The quoted packet went from the server to the client.
  if (!readSessionPorts(inner, true, PORTS)) return s.count(GW.icmpErrorUnusable);
  const { protocol, near: clientPort, server: serverPort } = PORTS;
  const h = s.table.lookupOutbound(protocol, inner.buf, inner.dstOffset, clientPort, server, serverPort);
  if (h < 0) return s.count(GW.icmpErrorNoSession);
  const m = s.m64;
  const natAddress = s.table.natAddress(h);
  const natPort = s.table.natPort(h);
  m.src = natAddress;
  m.dst = dst4;
  m.innerSrc = server;
  m.innerSrcPort = serverPort;
  m.innerDst = natAddress;
  m.innerDstPort = natPort;
  m.innerIcmpId = natPort;
  s.count(GW.icmpErrorsTranslated);
  emitFor(s, v, dst4, protocol, natPort);
}

/**
 * Translates with the mapping in s.m64, hairpinning when the IPv4 destination is a pool4 address; what
 * leaves toward a tunnelled host is encapsulated in place (s.encap), in the output batch's headroom.
 */
function emit(s: DatapathState, v: Ipv6View, dst4: number): void {
  const m = s.m64;
  const icmp = v.protocol === IpProto.icmpv6;
  emitFor(s, v, dst4, icmp ? PROTOCOL.ICMP : v.protocol, icmp ? m.icmpId : m.srcPort);
}

/** As emit, for the packet of the session whose NAT transport address is natPort of `protocol` (an error's quoted session). */
function emitFor(s: DatapathState, v: Ipv6View, dst4: number, protocol: number, natPort: number): void {
  if (s.pool.has(dst4)) return hairpin(s, v);
  const out = s.out;
  const from = out.count;
  const offload = s.offload;
  const segment = offload === null ? 0 : offload.xlatFlags;
  if (s.translator.toIpv4(v, s.m64, out, segment) !== Verdict.forward) return;
  s.count(GW.forwarded64);
  if (offload?.translated(out, from)) s.count(GW.offloaded);
  const encap = s.encap;
  if (encap !== null) encap.encapsulate(out, from, s.m64.src, dst4, protocol, natPort);
}

/**
 * RFC 6146 3.8: the IPv4 form of the packet goes through the inbound path as if it had arrived from
 * outside, with the original IPv6 packet as its origin (for errors and held SYNs that must go back to
 * the IPv6 sender).
 */
function hairpin(s: DatapathState, v: Ipv6View): void {
  const batch = s.hairpin;
  batch.reset();
  const verdict = s.translator.toIpv4(v, s.m64, batch, XlatFlags.hairpin);
  if (verdict !== Verdict.forward) {
    // An ICMPv6 error for the sender, already in final form.
    for (let i = 0; i < batch.count; i++) s.appendCopy(batch.buffer, batch.offsets[i]!, batch.lengths[i]!);
    return;
  }
  s.count(GW.hairpinned);
  for (let i = 0; i < batch.count; i++) handle4(s, batch.buffer, batch.offsets[i]!, batch.lengths[i]!, v, false);
}

/** Lets the translator refuse a packet it will not translate (its checks come before any mapping is used). */
function refuse(s: DatapathState, v: Ipv6View): void {
  s.translator.toIpv4(v, s.m64, s.out);
}

/** A verdict from the table instead of a session. */
function refused(s: DatapathState, v: Ipv6View, verdict: number): void {
  switch (verdict) {
    case VERDICT.POOL_EXHAUSTED:
      // RFC 6146 3.5.1.1: no transport address could be allocated.
      s.count(GW.poolExhausted);
      s.translator.icmp6Error(v, SPEC.ICMP6_UNREACH, SPEC.ICMP6_ADDRESS_UNREACH, 0, s.out);
      return;
    default:
      // NO_SESSION: a TCP segment other than a SYN opens nothing (RFC 6146 3.5.2.2).
      return s.countDropVerdict(verdict);
  }
}
