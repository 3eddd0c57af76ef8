// Checksum and segmentation offload through a TUN device opened with `tun.offload` (virtio-net
// headers, TSO both ways). A packet the kernel hands over with only its pseudo-header sum in the
// checksum field (VIRTIO_NET_HDR_F_NEEDS_CSUM) and no segmentation is completed here, on arrival,
// so the translator sees an ordinary packet. A TCP segment of up to 64 KiB (gso_type TCPV4/TCPV6)
// is translated whole, without MTU checks; it leaves with the virtio-net header of its new IP
// version and the new pseudo-header sum in its checksum field, and the kernel splits it into
// segments that fit and completes their checksums, once for all of them.

import { VNET_HEADER_SIZE, VnetFlag, VnetGso, VnetOffset, readVnetU16, writeVnetU16 } from '@nat64/tun';
import { IpProto, XlatFlags, fold, pseudoSum4, pseudoSum6, sumWords, type PacketBatch } from '@nat64/xlat';

const TCP_CHECKSUM = 16;
const IPV6_HEADER = 40;
const ECN = VnetGso.ECN;

/** The offload state of one datapath: the received packet's header, and the output batch's headers. */
export class Offload {
  /** The received packet's header offset in `rx`, or -1 when it asks for nothing (or there is no offload). */
  at = -1;
  /** XlatFlags.segment while the packet being handled is a segmentation-offload packet, else 0. */
  xlatFlags = 0;
  private rx: Uint8Array | null = null;
  /** Virtio-net header of each output slot, zero (a complete packet) unless set by `translated`. */
  readonly out: Uint8Array;

  constructor(outputSlots: number) {
    this.out = new Uint8Array(outputSlots * VNET_HEADER_SIZE);
  }

  /**
   * Looks at the header of received packet i, buf[offset, offset + length). Returns false when the
   * packet cannot be handled (a segmentation type other than TCP, or a partial checksum out of the
   * packet); the caller drops and counts it.
   */
  received(rx: Uint8Array, i: number, buf: Uint8Array, offset: number, length: number): boolean {
    const at = i * VNET_HEADER_SIZE;
    const flags = rx[at + VnetOffset.FLAGS]!;
    const gso = rx[at + VnetOffset.GSO_TYPE]! & ~ECN;
    this.at = -1;
    this.xlatFlags = 0;
    if (gso !== VnetGso.NONE) {
      if (gso !== VnetGso.TCPV4 && gso !== VnetGso.TCPV6) return false;
      if ((flags & VnetFlag.NEEDS_CSUM) === 0) return false;
      this.rx = rx;
      this.at = at;
      this.xlatFlags = XlatFlags.segment;
      return true;
    }
    if ((flags & VnetFlag.NEEDS_CSUM) === 0) return true;
    // Complete the checksum as the kernel would have (skb_checksum_help): the field holds the
    // pseudo-header sum, so summing from csum_start over the field gives the whole sum.
    const start = readVnetU16(rx, at + VnetOffset.CSUM_START);
    const field = start + readVnetU16(rx, at + VnetOffset.CSUM_OFFSET);
    if (field + 2 > length) return false;
    const value = ~fold(sumWords(buf, offset + start, offset + length)) & 0xffff;
    buf[offset + field] = value >>> 8;
    buf[offset + field + 1] = value & 0xff;
    return true;
  }

  /** The received packet is done with (also when it produced nothing). */
  done(): void {
    this.at = -1;
    this.xlatFlags = 0;
  }

  /**
   * The segmentation-offload packet being handled was translated into output slot `slot`: gives it
   * the virtio-net header for its new IP version and puts its pseudo-header sum in place.
   */
  translated(out: PacketBatch, slot: number): void {
    const rx = this.rx!;
    const at = this.at;
    const buf = out.buffer;
    const o = out.offsets[slot]!;
    const length = out.lengths[slot]!;
    let l3: number;
    let sum: number;
    let protocol: number;
    let gso: number;
    if (buf[o]! >>> 4 === 4) {
      l3 = (buf[o]! & 0x0f) * 4;
      protocol = buf[o + 9]!;
      sum = pseudoSum4(read32(buf, o + 12), read32(buf, o + 16), protocol, length - l3);
      gso = VnetGso.TCPV4;
    } else {
      l3 = IPV6_HEADER;
      protocol = buf[o + 6]!;
      sum = pseudoSum6(buf, o + 8, buf, o + 24, protocol, length - l3);
      gso = VnetGso.TCPV6;
    }
    if (protocol !== IpProto.tcp) return;
    const check = fold(sum);
    const field = o + l3 + TCP_CHECKSUM;
    buf[field] = check >>> 8;
    buf[field + 1] = check & 0xff;
    const h = slot * VNET_HEADER_SIZE;
    const headers = this.out;
    headers[h + VnetOffset.FLAGS] = VnetFlag.NEEDS_CSUM;
    headers[h + VnetOffset.GSO_TYPE] = gso | (rx[at + VnetOffset.GSO_TYPE]! & ECN);
    writeVnetU16(headers, h + VnetOffset.HDR_LEN, l3 + (buf[o + l3 + 12]! >>> 4) * 4);
    writeVnetU16(headers, h + VnetOffset.GSO_SIZE, readVnetU16(rx, at + VnetOffset.GSO_SIZE));
    writeVnetU16(headers, h + VnetOffset.CSUM_START, l3);
    writeVnetU16(headers, h + VnetOffset.CSUM_OFFSET, TCP_CHECKSUM);
  }

  /** After the output batch was written: its slots' headers go back to zero. */
  written(count: number): void {
    this.out.fill(0, 0, count * VNET_HEADER_SIZE);
  }
}

function read32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}
