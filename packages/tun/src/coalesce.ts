// Transmit coalescing for a TUN device opened with offload: consecutive UDP datagrams of one flow in a
// batch leave as one UDP GSO packet (VIRTIO_NET_HDR_GSO_UDP_L4, USO), consecutive TCP segments of one
// connection as one TSO packet (GSO TCPV4/TCPV6), so the kernel routes and forwards one packet where it
// would have handled dozens and splits it late, as wireguard-go does on its TUN device.
//
// A packet joins the earlier packet of its flow (the head) when its IP and transport headers equal the
// head's in everything segmentation copies, its payload is the head's segment size (or smaller, which
// ends the train), and, for TCP, its sequence number follows the head's last byte. Its payload is
// appended to the head's slot in place; the head's lengths and checksum field are fixed once per batch.
// The kernel then recomputes every segment's checksum, so a packet whose checksum is wrong is never
// coalesced (it would leave repaired). The IPv4 Identification of the segments becomes consecutive from
// the head's, as the kernel's segmentation numbers them.
//
// On a TAP device (linkHeader 14) every packet is an Ethernet frame: the IP packet follows the
// Ethernet header, which joined frames must share, and the virtio-net header's offsets count it.
//
// Never throws for a packet; allocates nothing per batch.

import { foldSum, internetChecksum, IpProto, pseudoHeaderSum4, pseudoHeaderSum6, readU16, readU32, verifyChecksum, writeU16 } from '@nat64/wire';
import { readVnetU16, VNET_HEADER_SIZE, VnetFlag, VnetGso, VnetOffset, writePartialChecksumHeader } from './vnet.js';

const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const UDP_HEADER = 8;
const UDP_CHECKSUM = 6;
const TCP_CHECKSUM = 16;
/** Linux's UDP_MAX_SEGMENTS (include/linux/udp.h): the most segments one UDP GSO packet may have. */
const MAX_UDP_SEGMENTS = 64;
/** The longest IPv4 packet, and the longest IPv6 payload (RFC 791 §3.1, RFC 8200 §3). */
const MAX_LENGTH = 65535;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;
/** Flag bits that keep a segment out of a train (FIN, SYN, RST, URG, ECE, CWR): segmentation copies flags. */
const TCP_ALONE = 0x01 | 0x02 | 0x04 | 0x20 | 0x40 | 0x80;
const TABLE_SIZE = 1024;
const NONE = -1;

export interface CoalesceOptions {
  /** UDP trains as USO packets: only where the kernel takes them (TunDevice.udpSegmentation). Default true. */
  readonly udp?: boolean;
  /** TCP trains as TSO packets. Default true. */
  readonly tcp?: boolean;
  /** Bytes before the IP header: 0 on a TUN device, 14 (Ethernet) on a TAP device. Default 0. */
  readonly linkHeader?: number;
}

/** What one coalescer did since it was made. */
export interface CoalesceCounters {
  /** GSO packets made (trains of two packets or more). */
  trains: number;
  /** Packets that joined a train and so were not written by themselves. */
  joined: number;
  /** UDP or TCP packets left alone because their checksum was wrong. */
  badChecksum: number;
}

/**
 * Coalesces one output batch at a time. `coalesce` reads packets i < count at buffer[offsets[i],
 * offsets[i] + lengths[i]) with their virtio-net headers (vnet[i * 10], or none: complete packets),
 * grows heads in place (each packet may extend to offsets[i] + room) and leaves the packets to write in
 * its own `offsets`, `lengths` and `vnet`, in the order of their first packet. The input arrays are not
 * changed; the buffer is, only past the ends of heads and in heads' header fields.
 */
export class TxCoalescer {
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly vnet: Uint8Array;
  readonly counters: CoalesceCounters = { trains: 0, joined: 0, badChecksum: 0 };
  readonly #udp: boolean;
  readonly #tcp: boolean;
  readonly #link: number;
  /** Per output packet that heads a flow: its segment size, segments so far, whether it takes more, next TCP sequence number. */
  readonly #segmentSize: Uint32Array;
  readonly #segments: Uint32Array;
  readonly #open: Uint8Array;
  readonly #nextSeq: Float64Array;
  readonly #l3: Uint8Array;
  readonly #l4Header: Uint8Array;
  readonly #protocol: Uint8Array;
  /** Open addressing by flow hash: output index of the flow's head, valid when #stamp equals #generation. */
  readonly #table = new Int32Array(TABLE_SIZE);
  readonly #stamp = new Uint32Array(TABLE_SIZE);
  #generation = 0;
  // The packet being looked at (set by #classify).
  #pl3 = 0;
  #pl4Header = 0;
  #pprotocol = 0;
  #ppayload = 0;
  #pseq = 0;
  #ppush = false;
  #peligible = false;

  constructor(capacity: number, options: CoalesceOptions = {}) {
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.vnet = new Uint8Array(capacity * VNET_HEADER_SIZE);
    this.#segmentSize = new Uint32Array(capacity);
    this.#segments = new Uint32Array(capacity);
    this.#open = new Uint8Array(capacity);
    this.#nextSeq = new Float64Array(capacity);
    this.#l3 = new Uint8Array(capacity);
    this.#l4Header = new Uint8Array(capacity);
    this.#protocol = new Uint8Array(capacity);
    this.#udp = options.udp ?? true;
    this.#tcp = options.tcp ?? true;
    this.#link = options.linkHeader ?? 0;
  }

  /** Returns how many packets to write: this.offsets, this.lengths and this.vnet [0, result). */
  coalesce(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, vnet: Uint8Array | null, room: number): number {
    if (count > this.offsets.length) throw new RangeError(`a batch of ${count} packets exceeds the coalescer's ${this.offsets.length}`);
    this.#generation = (this.#generation + 1) >>> 0;
    if (this.#generation === 0) {
      this.#stamp.fill(0);
      this.#generation = 1;
    }
    const link = this.#link;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const frame = offsets[i]!;
      const frameLength = lengths[i]!;
      // o and length: the IP packet's.
      const o = frame + link;
      const length = frameLength - link;
      let slot = this.#classify(buffer, o, length, vnet, i);
      if (slot !== NONE) {
        slot = this.#find(buffer, o, slot);
        if (this.#peligible && this.#stamp[slot] === this.#generation && this.#join(buffer, this.#table[slot]!, o, length, room)) continue;
      }
      this.offsets[n] = frame;
      this.lengths[n] = frameLength;
      const h = n * VNET_HEADER_SIZE;
      if (vnet === null) this.vnet.fill(0, h, h + VNET_HEADER_SIZE);
      else this.vnet.set(vnet.subarray(i * VNET_HEADER_SIZE, (i + 1) * VNET_HEADER_SIZE), h);
      this.#segments[n] = 1;
      this.#open[n] = 0;
      if (slot !== NONE) {
        // The flow's newest packet heads it from now on, so that a train never overtakes a packet of its flow.
        this.#table[slot] = n;
        this.#stamp[slot] = this.#generation;
        // A packet that may not join (a SYN, a bad checksum) still heads its flow, closed: nothing overtakes it.
        this.#open[n] = this.#peligible && !this.#ppush ? 1 : 0;
        this.#segmentSize[n] = this.#ppayload;
        this.#nextSeq[n] = (this.#pseq + this.#ppayload) >>> 0;
        this.#l3[n] = this.#pl3;
        this.#l4Header[n] = this.#pl4Header;
        this.#protocol[n] = this.#pprotocol;
      }
      n++;
    }
    for (let j = 0; j < n; j++) if (this.#segments[j]! > 1) this.#finish(buffer, j);
    return n;
  }

  /**
   * Returns the flow's table slot (its hash; #find resolves collisions) for a UDP or TCP packet that is
   * not a fragment, with its facts in the #p fields (#peligible: whether it may be part of a train), or NONE.
   */
  #classify(buffer: Uint8Array, o: number, length: number, vnet: Uint8Array | null, i: number): number {
    if (length < IPV4_HEADER) return NONE;
    const version = buffer[o]! >>> 4;
    if (this.#link > 0 && !etherTypeMatches(buffer, o - 2, version)) return NONE;
    let l3: number;
    let protocol: number;
    if (version === 4) {
      if (buffer[o] !== 0x45 || readU16(buffer, o + 2) !== length) return NONE;
      // More Fragments or a fragment offset: a fragment, never part of a train.
      if ((buffer[o + 6]! & 0x3f) !== 0 || buffer[o + 7] !== 0) return NONE;
      l3 = IPV4_HEADER;
      protocol = buffer[o + 9]!;
    } else if (version === 6) {
      if (length < IPV6_HEADER || readU16(buffer, o + 4) !== length - IPV6_HEADER) return NONE;
      l3 = IPV6_HEADER;
      protocol = buffer[o + 6]!;
    } else {
      return NONE;
    }
    let l4Header: number;
    this.#ppush = false;
    this.#peligible = false;
    this.#pl3 = l3;
    this.#pprotocol = protocol;
    if (protocol === IpProto.udp) {
      if (!this.#udp || length - l3 < UDP_HEADER) return NONE;
      l4Header = UDP_HEADER;
      this.#pl4Header = l4Header;
      this.#pseq = 0;
      const slot = flowHash(buffer, o, l3);
      if (length - l3 === UDP_HEADER || readU16(buffer, o + l3 + 4) !== length - l3) return slot;
      // IPv4 UDP without a checksum: the kernel would add one to every segment.
      if (version === 4 && buffer[o + l3 + 6] === 0 && buffer[o + l3 + 7] === 0) return slot;
    } else if (protocol === IpProto.tcp) {
      if (!this.#tcp || length - l3 < 20) return NONE;
      l4Header = (buffer[o + l3 + 12]! >>> 4) * 4;
      this.#pl4Header = l4Header;
      const slot = flowHash(buffer, o, l3);
      if (l4Header < 20 || length - l3 <= l4Header) return slot;
      const flags = buffer[o + l3 + 13]!;
      if ((flags & TCP_ALONE) !== 0 || (flags & TCP_ACK) === 0) return slot;
      this.#ppush = (flags & TCP_PSH) !== 0;
      this.#pseq = readU32(buffer, o + l3 + 4);
    } else {
      return NONE;
    }
    const slot = flowHash(buffer, o, l3);
    let partial = false;
    if (vnet !== null) {
      const at = i * VNET_HEADER_SIZE;
      const flags = vnet[at + VnetOffset.FLAGS]!;
      if (vnet[at + VnetOffset.GSO_TYPE] !== VnetGso.NONE) return slot;
      if (flags === VnetFlag.NEEDS_CSUM) {
        // Only the header offload.ts writes: checksum field of this transport header.
        const start = readVnetU16(vnet, at + VnetOffset.CSUM_START);
        const field = readVnetU16(vnet, at + VnetOffset.CSUM_OFFSET);
        if (start !== this.#link + l3 || field !== (protocol === IpProto.udp ? UDP_CHECKSUM : TCP_CHECKSUM)) return slot;
        partial = true;
      } else if (flags !== 0) {
        return slot;
      }
    }
    if (!partial && !checksumValid(buffer, o, length, l3, protocol)) {
      this.counters.badChecksum++;
      return slot;
    }
    this.#ppayload = length - l3 - l4Header;
    this.#peligible = true;
    return slot;
  }

  /** The table slot of the packet's flow: its hash slot, or the next ones on collision (linear probing). */
  #find(buffer: Uint8Array, o: number, slot: number): number {
    for (let probe = 0; probe < TABLE_SIZE; probe++) {
      const s = (slot + probe) & (TABLE_SIZE - 1);
      if (this.#stamp[s] !== this.#generation) return s;
      const head = this.#table[s]!;
      if (this.#l3[head] === this.#pl3 && this.#protocol[head] === this.#pprotocol && sameFlow(buffer, this.offsets[head]! + this.#link, o, this.#pl3))
        return s;
    }
    return slot;
  }

  /** Whether the packet at o joins the train headed by output packet `head`; if so, appends its payload. */
  #join(buffer: Uint8Array, head: number, o: number, length: number, room: number): boolean {
    if (this.#open[head] === 0) return false;
    const l3 = this.#pl3;
    const l4Header = this.#pl4Header;
    const protocol = this.#pprotocol;
    const payload = this.#ppayload;
    const size = this.#segmentSize[head]!;
    if (this.#protocol[head] !== protocol || this.#l4Header[head] !== l4Header || payload > size) return false;
    const link = this.#link;
    const h = this.offsets[head]! + link;
    const headLength = this.lengths[head]! - link;
    const grown = headLength + payload;
    if (grown - (l3 === IPV6_HEADER ? IPV6_HEADER : 0) > MAX_LENGTH || link + grown > room) return false;
    if (protocol === IpProto.udp && this.#segments[head]! >= MAX_UDP_SEGMENTS) return false;
    for (let k = 1; k <= link; k++) if (buffer[h - k] !== buffer[o - k]) return false;
    if (!sameHeaders(buffer, h, o, l3, l4Header, protocol)) return false;
    if (protocol === IpProto.tcp) {
      if (this.#pseq !== this.#nextSeq[head]) return false;
      this.#nextSeq[head] = (this.#pseq + payload) >>> 0;
      // PSH goes on the head: segmentation leaves it on the last segment only.
      if (this.#ppush) {
        buffer[h + l3 + 13] = buffer[h + l3 + 13]! | TCP_PSH;
        this.#open[head] = 0;
      }
    }
    buffer.copyWithin(h + headLength, o + l3 + l4Header, o + length);
    this.lengths[head] = link + grown;
    this.#segments[head]!++;
    // A shorter segment is the last one segmentation can express.
    if (payload < size) this.#open[head] = 0;
    this.counters.joined++;
    return true;
  }

  /** Writes the lengths, the partial checksum and the virtio-net header of train j. */
  #finish(buffer: Uint8Array, j: number): void {
    this.counters.trains++;
    const link = this.#link;
    const o = this.offsets[j]! + link;
    const length = this.lengths[j]! - link;
    const l3 = this.#l3[j]!;
    const protocol = this.#protocol[j]!;
    const four = l3 === IPV4_HEADER;
    if (four) {
      writeU16(buffer, o + 2, length);
      writeU16(buffer, o + 10, 0);
      const check = internetChecksum(buffer, o, o + IPV4_HEADER);
      writeU16(buffer, o + 10, check);
    } else {
      writeU16(buffer, o + 4, length - IPV6_HEADER);
    }
    const l4Length = length - l3;
    const field = protocol === IpProto.udp ? UDP_CHECKSUM : TCP_CHECKSUM;
    if (protocol === IpProto.udp) writeU16(buffer, o + l3 + 4, l4Length);
    // CHECKSUM_PARTIAL: the field holds the pseudo-header sum, not complemented.
    const check = foldSum(pseudoHeaderSum(buffer, o, l3, protocol, l4Length));
    writeU16(buffer, o + l3 + field, check);
    const gso = protocol === IpProto.udp ? VnetGso.UDP_L4 : four ? VnetGso.TCPV4 : VnetGso.TCPV6;
    writePartialChecksumHeader(this.vnet, j * VNET_HEADER_SIZE, gso, link + l3 + this.#l4Header[j]!, this.#segmentSize[j]!, link + l3, field);
  }
}

/** Whether the EtherType ending at `at + 2` is the one of this IP version. */
function etherTypeMatches(buffer: Uint8Array, at: number, version: number): boolean {
  return version === 6 ? buffer[at] === 0x86 && buffer[at + 1] === 0xdd : version === 4 && buffer[at] === 0x08 && buffer[at + 1] === 0x00;
}

function pseudoHeaderSum(buffer: Uint8Array, o: number, l3: number, protocol: number, l4Length: number): number {
  return l3 === IPV4_HEADER
    ? pseudoHeaderSum4(readU32(buffer, o + 12), readU32(buffer, o + 16), protocol, l4Length)
    : pseudoHeaderSum6(buffer, o + 8, buffer, o + 24, protocol, l4Length);
}

function checksumValid(buffer: Uint8Array, o: number, length: number, l3: number, protocol: number): boolean {
  return verifyChecksum(buffer, o + l3, o + length, pseudoHeaderSum(buffer, o, l3, protocol, length - l3));
}

/** A hash of the addresses and ports, as a table slot. */
function flowHash(buffer: Uint8Array, o: number, l3: number): number {
  let hash = 0x811c9dc5;
  const start = l3 === IPV4_HEADER ? o + 12 : o + 8;
  for (let i = start; i < o + l3 + 4; i += 4) hash = Math.imul(hash ^ readU32(buffer, i), 0x01000193);
  return (hash ^ (hash >>> 15)) & (TABLE_SIZE - 1);
}

/** Same addresses and ports (the caller checked version and protocol). */
function sameFlow(buffer: Uint8Array, a: number, b: number, l3: number): boolean {
  const start = l3 === IPV4_HEADER ? 12 : 8;
  for (let i = start; i < l3 + 4; i++) if (buffer[a + i] !== buffer[b + i]) return false;
  return true;
}

/**
 * Whether b's headers equal a's in everything segmentation copies into every segment: IPv4 but its
 * total length, Identification and header checksum; IPv6 but its payload length; UDP's ports; TCP but
 * its sequence number, PSH and checksum.
 */
function sameHeaders(buffer: Uint8Array, a: number, b: number, l3: number, l4Header: number, protocol: number): boolean {
  if (l3 === IPV4_HEADER) {
    if (buffer[a + 1] !== buffer[b + 1]) return false;
    for (let i = 6; i < 10; i++) if (buffer[a + i] !== buffer[b + i]) return false;
    for (let i = 12; i < 24; i++) if (buffer[a + i] !== buffer[b + i]) return false;
  } else {
    for (let i = 0; i < 4; i++) if (buffer[a + i] !== buffer[b + i]) return false;
    for (let i = 6; i < 44; i++) if (buffer[a + i] !== buffer[b + i]) return false;
  }
  if (protocol === IpProto.udp) return true;
  const ta = a + l3;
  const tb = b + l3;
  for (let i = 8; i < 13; i++) if (buffer[ta + i] !== buffer[tb + i]) return false;
  if ((buffer[ta + 13]! & ~TCP_PSH) !== (buffer[tb + 13]! & ~TCP_PSH)) return false;
  if (buffer[ta + 14] !== buffer[tb + 14] || buffer[ta + 15] !== buffer[tb + 15]) return false;
  for (let i = 18; i < l4Header; i++) if (buffer[ta + i] !== buffer[tb + i]) return false;
  return true;
}
