// Test-only stateless address mapper (SIIT): RFC 6052 with one pool6 prefix plus an Explicit
// Address Mapping Table (RFC 7757), enough to drive the translator through the RFC 7915 graybox
// cases, including intrinsic EAM hairpinning (RFC 7757 4.3 / appendix B.1).

import { type Mapping46, type Mapping64, Rfc6052Prefix, type Ipv4View, type Ipv6View } from '@nat64/xlat';
import { ipv4TextToUint32, ipv6TextToBytes } from '@nat64/wire';

interface Eam {
  readonly v6: Uint8Array;
  readonly v6Length: number;
  readonly v4: number;
  readonly v4Length: number;
}

function parsePrefix6(text: string): { bytes: Uint8Array; length: number } {
  const [address, length] = text.split('/');
  const bytes = ipv6TextToBytes(address ?? '');
  if (bytes === null || length === undefined) throw new Error(`bad IPv6 prefix ${text}`);
  return { bytes, length: Number(length) };
}

function parsePrefix4(text: string): { address: number; length: number } {
  const [address, length] = text.split('/');
  const value = ipv4TextToUint32(address ?? '');
  if (value < 0) throw new Error(`bad IPv4 prefix ${text}`);
  return { address: value, length: length === undefined ? 32 : Number(length) };
}

function mask4(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

/** True when the first `bits` bits of a and b (16-byte addresses) are equal. */
function samePrefix6(a: Uint8Array, aOffset: number, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const bit = 0x80 >> (i & 7);
    if (((a[aOffset + byte]! ^ b[byte]!) & bit) !== 0) return false;
  }
  return true;
}

export class SiitMapper {
  private readonly pool6: Rfc6052Prefix;
  private readonly eamt: readonly Eam[];

  constructor(pool6: string, eamt: readonly { readonly ipv6Prefix: string; readonly ipv4Prefix: string }[]) {
    this.pool6 = Rfc6052Prefix.parse(pool6);
    this.eamt = eamt.map((entry) => {
      const v6 = parsePrefix6(entry.ipv6Prefix);
      const v4 = parsePrefix4(entry.ipv4Prefix);
      if (128 - v6.length !== 32 - v4.length) throw new Error(`EAM ${entry.ipv6Prefix} <-> ${entry.ipv4Prefix}: suffix lengths differ`);
      return { v6: v6.bytes, v6Length: v6.length, v4: v4.address, v4Length: v4.length };
    });
  }

  /** RFC 7757 3.2 / RFC 6052: IPv6 -> IPv4, EAMT (longest match) first, then pool6; -1 if neither. */
  to4(buf: Uint8Array, offset: number): number {
    let best: Eam | undefined;
    for (const eam of this.eamt) {
      if (samePrefix6(buf, offset, eam.v6, eam.v6Length) && (best === undefined || eam.v6Length > best.v6Length)) best = eam;
    }
    if (best !== undefined) {
      let low = 0;
      for (let i = 0; i < 4; i++) low = low * 256 + buf[offset + 12 + i]!;
      return (best.v4 | (low & ~mask4(best.v4Length))) >>> 0;
    }
    return this.pool6.extract(buf, offset);
  }

  /** The EAM entry covering an IPv4 address, if any (longest match). */
  private eamFor4(address: number): Eam | undefined {
    let best: Eam | undefined;
    for (const eam of this.eamt) {
      if ((address & mask4(eam.v4Length)) >>> 0 === eam.v4 && (best === undefined || eam.v4Length > best.v4Length)) best = eam;
    }
    return best;
  }

  /** RFC 7757 4.3: a translated IPv4 destination inside the EAMT is hairpinned back to IPv6. */
  isHairpin(ipv4Destination: number): boolean {
    return this.eamFor4(ipv4Destination) !== undefined;
  }

  /** IPv4 -> IPv6 into out[offset]: EAMT first (unless `poolOnly`), then pool6. */
  to6(address: number, out: Uint8Array, offset: number, poolOnly = false): void {
    const eam = poolOnly ? undefined : this.eamFor4(address);
    if (eam === undefined) {
      this.pool6.embed(address, out, offset);
      return;
    }
    out.set(eam.v6, offset);
    // The host bits of the IPv4 address become the host bits of the IPv6 address.
    const suffix = (address & ~mask4(eam.v4Length)) >>> 0;
    for (let i = 0; i < 4; i++) out[offset + 12 + i] = out[offset + 12 + i]! | ((suffix >>> (24 - 8 * i)) & 0xff);
  }

  /** Fills `m` for the IPv6 packet `v`; false when an address has no mapping. */
  map64(v: Ipv6View, m: Mapping64): boolean {
    m.src = this.to4(v.buf, v.srcOffset);
    m.dst = this.to4(v.buf, v.dstOffset);
    m.srcPort = v.srcPort;
    m.dstPort = v.dstPort;
    m.icmpId = v.icmpId;
    const inner = v.inner;
    if (v.isIcmpError && inner !== null) {
      m.innerSrc = this.to4(inner.buf, inner.srcOffset);
      m.innerDst = this.to4(inner.buf, inner.dstOffset);
      m.innerSrcPort = inner.srcPort;
      m.innerDstPort = inner.dstPort;
      m.innerIcmpId = inner.icmpId;
      if (m.innerSrc < 0 || m.innerDst < 0) return false;
    }
    return m.src >= 0 && m.dst >= 0;
  }

  /**
   * Fills `m` for the IPv4 packet `v`. `hairpin`: the packet is the IPv4 form of a hairpinned
   * one, whose source (an EAM address of the IPv6 sender) goes through pool6 (RFC 7757 B.1).
   */
  map46(v: Ipv4View, m: Mapping46, hairpin = false): void {
    this.to6(v.src, m.src, 0, hairpin);
    this.to6(v.dst, m.dst, 0);
    m.srcPort = v.srcPort;
    m.dstPort = v.dstPort;
    m.icmpId = v.icmpId;
    const inner = v.inner;
    if (v.isIcmpError && inner !== null) {
      this.to6(inner.src, m.innerSrc, 0);
      this.to6(inner.dst, m.innerDst, 0);
      m.innerSrcPort = inner.srcPort;
      m.innerDstPort = inner.dstPort;
      m.innerIcmpId = inner.icmpId;
    }
  }
}
