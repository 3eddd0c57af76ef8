// The packet path of NAT64 bypass in the gateway (bypass §4, §7). Outbound: the engine's bypass hook
// (ahead of the NAT64 table) takes a client's IPv6 packet to PREFIX::HOST of an accepted host unless its
// flow has a NAT64 session, decrements its Hop Limit and writes it into the output batch with an
// Ethernet header and the outer IPv4/UDP/Geneve headers in the slot's headroom. Inbound: a packet to
// pool4:6081 is checked (outer source, VNI, no option, Protocol Type, EtherType, destination MAC), a
// neighbor discovery frame goes to the transport, a data packet from PREFIX::HOST goes to the TUN
// device. Nothing here throws or allocates per packet; every drop is counted under its reason.

import { BYPASS_STATUS_COUNT, BypassStatus, BypassView, decapsulateBypass, macEquals, writeEthernetHeader } from '@nat64/geneve';
import { PROTOCOL } from '@nat64/nat64';
import type { Counters } from '@nat64/service';
import { copyBytes, pseudoHeaderSum4, verifyChecksum } from '@nat64/wire';
import { IpProto, ParseStatus, type Ipv4View, type Ipv6View, type PacketBatch } from '@nat64/xlat';
import { BYPASS_VERDICT, type BypassHook, type Engine } from '@nat64/gateway-engine';
import type { BypassCounterName } from './counters.js';
import { SPEC } from './constants.js';
import { HostState, type BypassHost } from './hosts.js';
import type { TranslatedFlows } from './translated-flows.js';

const ECHO_REQUEST = 128;
const ECHO_REPLY = 129;
const NEIGHBOR_SOLICITATION = 135;
const NEIGHBOR_ADVERTISEMENT = 136;
const NDP_HOP_LIMIT = 255;
const ETH = SPEC.ETHERNET_HEADER;
/** A client's 64-byte datagram is a 112-byte IPv6 packet here: copied by hand, without a view per packet. */
const TUNNELLED_LOOP_COPY_MAX = 128;

/** Where neighbor discovery frames from a host go (the transport). */
export type NeighborFrameHandler = (host: BypassHost, buf: Uint8Array, frameOffset: number, frameLength: number) => void;

export class BypassDatapath implements BypassHook {
  /** Every host offered bypass, by IPv4 address. */
  readonly hosts = new Map<number, BypassHost>();
  /** Drops by decapsulation status (handoff.bypass.drop.*). */
  readonly drops = new Float64Array(BYPASS_STATUS_COUNT);
  private readonly view = new BypassView();
  private readonly values: Float64Array;
  private readonly index: Readonly<Record<BypassCounterName, number>>;
  /** The clock of the batch under way (set by the engine's clock, read per packet). */
  private readonly clock: () => number;
  /** Translated flows whose session is gone (translated-flows.ts); null: not remembered. */
  translated: TranslatedFlows | null = null;

  constructor(
    private readonly engine: Engine,
    counters: Counters<BypassCounterName>,
    clock: () => number,
    /** The tunnel link MTU: larger packets get Packet Too Big. */
    readonly mtu: number,
    private readonly onNeighbor: NeighborFrameHandler,
  ) {
    this.values = counters.values;
    this.index = counters.index;
    this.clock = clock;
  }

  outbound(v: Ipv6View, host: number, out: PacketBatch): number {
    const t = this.hosts.get(host);
    if (t === undefined || t.state !== HostState.ACCEPTED) return BYPASS_VERDICT.PASS;
    if (this.hasSession(v, host) || this.translated?.keep(v, host) === true) {
      this.values[this.index.keptTranslated]!++;
      return BYPASS_VERDICT.PASS;
    }
    if (v.hopLimit <= 1) return BYPASS_VERDICT.HOP_LIMIT;
    const length = v.end - v.start;
    if (length > this.mtu) return BYPASS_VERDICT.TOO_BIG;
    const at = out.reserve();
    if (at < 0) {
      this.values[this.index.noRoom]!++;
      return BYPASS_VERDICT.DROPPED;
    }
    const buf = out.buffer;
    copyBytes(v.buf, v.start, v.end, buf, at, TUNNELLED_LOOP_COPY_MAX);
    buf[at + SPEC.IPV6_HOP_LIMIT]!--;
    const frame = at - ETH;
    writeEthernetHeader(buf, frame, t.serverMac, t.mac, SPEC.ETHERTYPE_IPV6);
    const start = t.encap.encapsulate(buf, frame, length + ETH, host);
    out.commit(length);
    const i = out.count - 1;
    out.offsets[i] = start;
    out.lengths[i] = at + length - start;
    t.packetsOut++;
    t.bytesOut += length;
    t.lastSentAt = this.clock();
    this.values[this.index.framesOut]!++;
    return BYPASS_VERDICT.TAKEN;
  }

  /** Flows keep their path: a packet whose flow (or, for an ICMPv6 error, whose quoted flow) has a NAT64 session. */
  private hasSession(v: Ipv6View, host: number): boolean {
    const table = this.engine.table;
    const protocol = v.protocol;
    if (protocol === IpProto.tcp || protocol === IpProto.udp) {
      // A later fragment carries no ports: it follows the tunnel (new flows are the tunnel's).
      if (!v.isFirstFragment) return false;
      return table.lookupOutbound(protocol, v.buf, v.srcOffset, v.srcPort, host, v.dstPort) >= 0;
    }
    if (protocol !== IpProto.icmpv6 || v.isFragment) return false;
    if (v.icmpType === ECHO_REQUEST || v.icmpType === ECHO_REPLY) return table.lookupOutbound(PROTOCOL.ICMP, v.buf, v.srcOffset, v.icmpId, host, 0) >= 0;
    if (!v.isIcmpError || v.innerStatus !== ParseStatus.ok) return false;
    const inner = v.inner!;
    if ((inner.protocol === IpProto.tcp || inner.protocol === IpProto.udp) && inner.hasPorts) {
      return table.lookupOutbound(inner.protocol, inner.buf, inner.dstOffset, inner.dstPort, host, inner.srcPort) >= 0;
    }
    if (inner.protocol === IpProto.icmpv6 && (inner.icmpType === ECHO_REQUEST || inner.icmpType === ECHO_REPLY)) {
      return table.lookupOutbound(PROTOCOL.ICMP, inner.buf, inner.dstOffset, inner.icmpId, host, 0) >= 0;
    }
    return false;
  }

  /** A Geneve UDP payload from `host` to pool4 address `nat`, already known to be bypass. */
  inbound(nat: number, host: number, buf: Uint8Array, offset: number, length: number): void {
    const values = this.values;
    const index = this.index;
    values[index.received]!++;
    const t = this.hosts.get(host);
    if (t === undefined || t.nat !== nat) {
      values[index.noHost]!++;
      return;
    }
    const view = this.view;
    const status = decapsulateBypass(buf, offset, length, view, t.policy);
    if (status !== BypassStatus.FRAME) {
      this.drops[status]!++;
      t.dropsIn++;
      return;
    }
    const frame = view.frameOffset;
    const frameLength = view.frameLength;
    if (
      (buf[frame]! & SPEC.ETHERNET_GROUP_BIT) === 0 &&
      !macEquals(buf, frame, t.mac) &&
      !(t.previousMac !== null && this.clock() < t.previousMacUntil && macEquals(buf, frame, t.previousMac))
    ) {
      values[index.wrongMac]!++;
      t.dropsIn++;
      return;
    }
    const ip = frame + ETH;
    if (frameLength < ETH + SPEC.IPV6_HEADER) {
      values[index.tooLong]!++;
      return;
    }
    const ipLength = SPEC.IPV6_HEADER + ((buf[ip + SPEC.IPV6_PAYLOAD_LENGTH]! << 8) | buf[ip + SPEC.IPV6_PAYLOAD_LENGTH + 1]!);
    if (ipLength > frameLength - ETH) {
      values[index.tooLong]!++;
      return;
    }
    const icmp = ip + SPEC.IPV6_HEADER;
    if (buf[ip + SPEC.IPV6_NEXT_HEADER] === IpProto.icmpv6 && buf[ip + SPEC.IPV6_HOP_LIMIT] === NDP_HOP_LIMIT && ipLength > SPEC.IPV6_HEADER) {
      const type = buf[icmp];
      if (type === NEIGHBOR_SOLICITATION || type === NEIGHBOR_ADVERTISEMENT) return this.onNeighbor(t, buf, frame, ETH + ipLength);
    }
    if (buf[ip + SPEC.IPV6_DESTINATION] === 0xff) {
      values[index.linkTraffic]!++;
      return;
    }
    if (t.state !== HostState.ACCEPTED) {
      values[index.notAccepted]!++;
      t.dropsIn++;
      return;
    }
    if (!sameAddress(buf, ip + SPEC.IPV6_SOURCE, t.target)) {
      values[index.wrongSource]!++;
      t.dropsIn++;
      return;
    }
    if (buf[ip + SPEC.IPV6_HOP_LIMIT]! <= 1) {
      values[index.hopLimit]!++;
      return;
    }
    buf[ip + SPEC.IPV6_HOP_LIMIT]!--;
    if (!this.engine.injectIpv6(buf, ip, ipLength)) {
      values[index.tooLong]!++;
      return;
    }
    t.lastHeardAt = this.clock();
    t.packetsIn++;
    t.bytesIn += ipLength;
    values[index.framesIn]!++;
  }

  /** The UDP datagram of an IPv4 view to pool4:6081: checked, then its payload offered to `take`. */
  static udpPayload(v: Ipv4View): number {
    if (v.moreFragments || !v.isFirstFragment) return -1;
    const buf = v.buf;
    const udp = v.l4Offset;
    const end = v.end;
    if (end - udp < SPEC.UDP_HEADER || ((buf[udp + 4]! << 8) | buf[udp + 5]!) !== end - udp) return -1;
    // UDP checksum 0: none computed (RFC 768, RFC 8926 §3.3 allows it over IPv4); anything else must verify.
    if ((buf[udp + 6]! | buf[udp + 7]!) !== 0 && !verifyChecksum(buf, udp, end, pseudoHeaderSum4(v.src, v.dst, IpProto.udp, end - udp))) return -1;
    return udp + SPEC.UDP_HEADER;
  }
}

function sameAddress(buf: Uint8Array, offset: number, address: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (buf[offset + i] !== address[i]) return false;
  return true;
}
