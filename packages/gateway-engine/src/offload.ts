// Checksum and segmentation offload through a TUN device opened with `tun.offload` (virtio-net
// headers, TSO both ways). Two kinds of packet arrive with offload information:
//
// - A TCP segment of up to 64 KiB (gso_type TCPV4/TCPV6) is translated whole, without MTU checks; it
//   leaves with the virtio-net header of its new IP version, and the kernel splits it into segments
//   that fit and completes their checksums, once for all of them.
// - A packet whose checksum field holds only the pseudo-header sum (VIRTIO_NET_HDR_F_NEEDS_CSUM,
//   from a sender on this host) leaves the same way, partial, when its translation fits in one
//   packet; otherwise (it would be fragmented) its checksum is completed on arrival, so the
//   translator sees an ordinary packet.
//
// Either way the translated packet's checksum field gets the new pseudo-header sum, which is all the
// kernel expects there.

import { VNET_HEADER_SIZE, VnetFlag, VnetGso, VnetOffset, readVnetU16, writePartialChecksumHeader } from '@nat64/tun';
import { FieldOffset, HeaderSize, IpProto, XlatFlags, type PacketBatch } from '@nat64/xlat';
import { foldSum, pseudoHeaderSum4, pseudoHeaderSum6, readU32, sumWords } from '@nat64/wire';

/** The DF bit in the byte of the IPv4 header that holds it (RFC 791 3.1). */
const IPV4_DONT_FRAGMENT = 0x40;
const ECN = VnetGso.ECN;

/** The translator's size limits, which decide whether a translation stays one packet. */
export interface OffloadLimits {
  readonly ipv4NextHopMtu: number;
  readonly ipv6NextHopMtu: number;
  readonly lowestIpv6Mtu: number;
}

/** The offload state of one datapath: the received packet's header, and the output batch's headers. */
export class Offload {
  /** The received packet's header offset in `rx` while it asks for a partial checksum on output, else -1. */
  at = -1;
  /** XlatFlags.segment while the packet being handled is a segmentation-offload packet, else 0. */
  xlatFlags = 0;
  private rx: Uint8Array | null = null;
  /** Virtio-net header of each output slot, zero (a complete packet) unless set by `translated`. */
  readonly out: Uint8Array;

  constructor(
    outputSlots: number,
    private readonly limits: OffloadLimits,
  ) {
    this.out = new Uint8Array(outputSlots * VNET_HEADER_SIZE);
  }

  /**
   * Looks at the header of received packet i, buf[offset, offset + length). Returns false when the
   * packet cannot be handled (a segmentation type other than TCP, or a checksum field outside the
   * packet); the caller drops and counts it.
   */
  received(rx: Uint8Array, i: number, buf: Uint8Array, offset: number, length: number): boolean {
    const at = i * VNET_HEADER_SIZE;
    const flags = rx[at + VnetOffset.FLAGS]!;
    const gso = rx[at + VnetOffset.GSO_TYPE]! & ~ECN;
    this.at = -1;
    this.xlatFlags = 0;
    if ((flags & VnetFlag.NEEDS_CSUM) === 0) return gso === VnetGso.NONE;
    if (gso !== VnetGso.NONE) {
      if (gso !== VnetGso.TCPV4 && gso !== VnetGso.TCPV6) return false;
      this.rx = rx;
      this.at = at;
      this.xlatFlags = XlatFlags.segment;
      return true;
    }
    const start = readVnetU16(rx, at + VnetOffset.CSUM_START);
    const field = start + readVnetU16(rx, at + VnetOffset.CSUM_OFFSET);
    if (field + 2 > length) return false;
    if (this.staysWhole(buf, offset, length)) {
      this.rx = rx;
      this.at = at;
      return true;
    }
    complete(buf, offset + start, offset + length, offset + field);
    return true;
  }

  /**
   * The packet being handled, buf[offset, offset + length), is for the gateway itself (a reserved UDP
   * port): a checksum it left partial is completed, so that it reads as a socket would deliver it.
   */
  local(buf: Uint8Array, offset: number, length: number): void {
    if (this.at < 0 || this.xlatFlags !== 0) return;
    const rx = this.rx!;
    const start = readVnetU16(rx, this.at + VnetOffset.CSUM_START);
    complete(buf, offset + start, offset + length, offset + start + readVnetU16(rx, this.at + VnetOffset.CSUM_OFFSET));
    this.at = -1;
  }

  /** The virtio-net header of the packet being handled when it asks for offload (a view, valid until done()), else null. */
  header(): Uint8Array | null {
    return this.at < 0 ? null : this.rx!.subarray(this.at, this.at + VNET_HEADER_SIZE);
  }

  /** The state of the packet being handled, for restore() after a packet handled in between. */
  save(): { at: number; xlatFlags: number; rx: Uint8Array | null } {
    return { at: this.at, xlatFlags: this.xlatFlags, rx: this.rx };
  }

  restore(saved: { at: number; xlatFlags: number; rx: Uint8Array | null }): void {
    this.at = saved.at;
    this.xlatFlags = saved.xlatFlags;
    this.rx = saved.rx;
  }

  /** The received packet is done with (also when it produced nothing). */
  done(): void {
    this.at = -1;
    this.xlatFlags = 0;
  }

  /**
   * The packet being handled was translated into output slot `slot`. If it asked for a partial
   * checksum, gives the translation the virtio-net header for its new IP version and its new
   * pseudo-header sum. Returns whether it was a segmentation-offload packet (for the counters).
   */
  translated(out: PacketBatch, slot: number): boolean {
    if (this.at < 0) return false;
    this.finish(out, slot);
    return this.xlatFlags !== 0;
  }

  private finish(out: PacketBatch, slot: number): void {
    const rx = this.rx!;
    const at = this.at;
    const buf = out.buffer;
    const o = out.offsets[slot]!;
    const length = out.lengths[slot]!;
    const four = buf[o]! >>> 4 === 4;
    const l3 = four ? (buf[o]! & 0x0f) * 4 : HeaderSize.ipv6;
    const protocol = four ? buf[o + 9]! : buf[o + 6]!;
    let field: number;
    let l4Header: number;
    if (protocol === IpProto.tcp) {
      field = FieldOffset.tcpChecksum;
      l4Header = (buf[o + l3 + 12]! >>> 4) * 4;
    } else if (protocol === IpProto.udp) {
      field = FieldOffset.udpChecksum;
      l4Header = HeaderSize.udp;
    } else {
      return;
    }
    const sum = four
      ? pseudoHeaderSum4(readU32(buf, o + 12), readU32(buf, o + 16), protocol, length - l3)
      : pseudoHeaderSum6(buf, o + 8, buf, o + 24, protocol, length - l3);
    const check = foldSum(sum);
    buf[o + l3 + field] = check >>> 8;
    buf[o + l3 + field + 1] = check & 0xff;
    const received = rx[at + VnetOffset.GSO_TYPE]!;
    const gso = (received & ~ECN) === VnetGso.NONE ? VnetGso.NONE : (four ? VnetGso.TCPV4 : VnetGso.TCPV6) | (received & ECN);
    writePartialChecksumHeader(this.out, slot * VNET_HEADER_SIZE, gso, l3 + l4Header, readVnetU16(rx, at + VnetOffset.GSO_SIZE), l3, field);
  }

  /**
   * The packet being handled left untranslated inside a tunnel packet (NAT64 bypass) in output slot
   * `slot`: outer IPv4 and UDP headers, then the packet itself as the slot's last `innerLength` bytes.
   * A checksum the packet asked to have completed is completed here: inside a tunnel it is payload,
   * which the receiving end's socket delivers as it is. With `coalesce`, the outer UDP checksum is left
   * partial (its pseudo-header sum, for the kernel or the NIC to complete), which is what lets the
   * coalescer join a flow's tunnel packets into one UDP GSO packet; an outer checksum computed before
   * the inner one was completed is redone the same way.
   */
  tunnelled(out: PacketBatch, slot: number, innerLength: number, coalesce: boolean): void {
    const buf = out.buffer;
    const o = out.offsets[slot]!;
    const length = out.lengths[slot]!;
    const l3 = (buf[o]! & 0x0f) * 4;
    const udp = o + l3;
    let redo = coalesce;
    if (this.at >= 0 && this.xlatFlags === 0) {
      const rx = this.rx!;
      const inner = o + length - innerLength;
      const start = readVnetU16(rx, this.at + VnetOffset.CSUM_START);
      complete(buf, inner + start, inner + innerLength, inner + start + readVnetU16(rx, this.at + VnetOffset.CSUM_OFFSET));
      redo ||= (buf[udp + FieldOffset.udpChecksum]! | buf[udp + FieldOffset.udpChecksum + 1]!) !== 0;
    }
    if (!redo) return;
    const sum = foldSum(pseudoHeaderSum4(readU32(buf, o + 12), readU32(buf, o + 16), IpProto.udp, length - l3));
    buf[udp + FieldOffset.udpChecksum] = sum >>> 8;
    buf[udp + FieldOffset.udpChecksum + 1] = sum & 0xff;
    writePartialChecksumHeader(this.out, slot * VNET_HEADER_SIZE, VnetGso.NONE, l3 + HeaderSize.udp, 0, l3, FieldOffset.udpChecksum);
  }

  /** After the output batch was written: its slots' headers go back to zero. */
  written(count: number): void {
    this.out.fill(0, 0, count * VNET_HEADER_SIZE);
  }

  /** Whether the translation of this packet will be one packet (RFC 7915: no fragmentation, no refusal for size). */
  private staysWhole(buf: Uint8Array, offset: number, length: number): boolean {
    const limits = this.limits;
    if (buf[offset]! >>> 4 === 6) return length - HeaderSize.ipv6 + HeaderSize.ipv4 <= limits.ipv4NextHopMtu;
    const grown = length - (buf[offset]! & 0x0f) * 4 + HeaderSize.ipv6;
    const dontFragment = (buf[offset + 6]! & IPV4_DONT_FRAGMENT) !== 0;
    return grown <= (dontFragment ? limits.ipv6NextHopMtu : Math.min(limits.lowestIpv6Mtu, limits.ipv6NextHopMtu));
  }
}

/**
 * Completes a partial checksum as the kernel would (skb_checksum_help): the field holds the
 * pseudo-header sum, so summing from csum_start to the end, over the field, gives the whole sum.
 */
function complete(buf: Uint8Array, start: number, end: number, field: number): void {
  const value = ~foldSum(sumWords(buf, start, end)) & 0xffff;
  buf[field] = value >>> 8;
  buf[field + 1] = value & 0xff;
}
