// Reusable parsed views of IPv6 and IPv4 packets: offsets into the caller's buffer and decoded
// header fields, filled by parseIpv6/parseIpv4 without allocating. A view is valid only while the
// buffer it points into is (for the gateway: during one TUN batch callback).

const EMPTY = new Uint8Array(0);

/** Fields both families share. All offsets are absolute indices into `buf`. */
abstract class PacketView {
  /** The buffer the packet lives in. */
  buf: Uint8Array = EMPTY;
  /** Offset of the IP header. */
  start = 0;
  /** End of the packet bytes present: start + total length, or less for a truncated quoted packet. */
  end = 0;
  /** Total length the IP header declares (IPv6: 40 + payload length). */
  totalLength = 0;
  /** Hop limit or TTL. */
  hopLimit = 0;
  /** Upper-layer protocol after any skipped extension headers (IPv6) or the Protocol field (IPv4). */
  protocol = 0;
  /** Offset of the upper-layer header (the first byte after the IP headers). */
  l4Offset = 0;
  /** Fragment offset in bytes (0 for unfragmented packets and first fragments). */
  fragmentOffset = 0;
  moreFragments = false;
  /** Fragment identification (IPv6: 32 bits from the Fragment header; IPv4: the Identification field). */
  fragmentId = 0;
  /** Transport fields, valid when `hasPorts` (TCP/UDP ports; 0 otherwise). */
  srcPort = 0;
  dstPort = 0;
  hasPorts = false;
  /** ICMP fields, valid when the packet is ICMP/ICMPv6 and not a non-first fragment; -1 otherwise. */
  icmpType = -1;
  icmpCode = 0;
  /** ICMP echo identifier (valid for echo request/reply). */
  icmpId = 0;
  /** True when the transport checksum field lies within the bytes present. */
  hasChecksum = false;
  /** True for UDP whose checksum field is present and zero ("no checksum", RFC 768). */
  udpChecksumZero = false;
  /** True for ICMP error messages (which embed a quoted packet in `inner`). */
  isIcmpError = false;
  /**
   * For ICMP errors: the quoted-datagram region [innerStart, innerEnd) and the RFC 4884 extension
   * region [innerEnd, extensionEnd) (empty when the message has no extension).
   */
  innerStart = 0;
  innerEnd = 0;
  extensionEnd = 0;
  /** Parse status of `inner` (0 = ok, else a DropReason code); meaningful only for ICMP errors. */
  innerStatus = 0;

  /** True for any fragment except an atomic one (offset 0 and no more fragments). */
  get isFragment(): boolean {
    return this.fragmentOffset !== 0 || this.moreFragments;
  }

  /** True when the transport header is in this packet (not a non-first fragment). */
  get isFirstFragment(): boolean {
    return this.fragmentOffset === 0;
  }

  /** Bytes of upper-layer data present. */
  get l4Length(): number {
    return this.end - this.l4Offset;
  }
}

/** A parsed IPv6 packet. */
export class Ipv6View extends PacketView {
  trafficClass = 0;
  flowLabel = 0;
  /** Offset of the Fragment header, or -1 when there is none. */
  fragmentHeaderOffset = -1;
  /** RFC 7915 5.1: true when the Fragment header is followed by another extension header. */
  extensionAfterFragment = false;
  /** Offset, from `start`, of the Segments Left field of a Routing header that is not zero, or -1. */
  segmentsLeftPointer = -1;
  /** The quoted packet of an ICMPv6 error (parsed one level deep), or null for inner views. */
  readonly inner: Ipv6View | null;

  constructor(nested = true) {
    super();
    this.inner = nested ? new Ipv6View(false) : null;
  }

  get srcOffset(): number {
    return this.start + 8;
  }

  get dstOffset(): number {
    return this.start + 24;
  }

  /** True when a Fragment header is present, atomic or not. */
  get hasFragmentHeader(): boolean {
    return this.fragmentHeaderOffset >= 0;
  }

  /** RFC 6946: a Fragment header with offset 0 and M clear (the whole datagram in one piece). */
  get isAtomicFragment(): boolean {
    return this.fragmentHeaderOffset >= 0 && this.fragmentOffset === 0 && !this.moreFragments;
  }
}

/** A parsed IPv4 packet. */
export class Ipv4View extends PacketView {
  tos = 0;
  /** Header length in bytes (IHL * 4). */
  headerLength = 0;
  dontFragment = false;
  /** Source and destination as unsigned 32-bit numbers. */
  src = 0;
  dst = 0;
  /** RFC 7915 4.1: an unexpired Loose or Strict Source Route option is present. */
  sourceRoute = false;
  /** The quoted packet of an ICMPv4 error (parsed one level deep), or null for inner views. */
  readonly inner: Ipv4View | null;

  constructor(nested = true) {
    super();
    this.inner = nested ? new Ipv4View(false) : null;
  }
}
