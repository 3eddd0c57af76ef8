// Geneve framing of NAT64 bypass (bypass §4): the 8-byte header, Protocol Type 0x6558, the
// tunnel's VNI and, from a gateway, the bypass option, written into the headroom in front of an
// Ethernet frame that is neither copied nor read. The message is encoded once, at construction;
// encapsulate() allocates nothing.
import { checkUint } from './bytes.js';
import { Bypass, Ethernet, Geneve, ProtocolType, Underlay } from './constants.js';
import { encodeMessage, writeBypassOption } from './bypass-option.js';
import { Ipv4Outer, type Ipv4OuterConfig } from './encap.js';
import { flowHash6 } from './flow-hash.js';
import { writeFixedHeader } from './structure.js';

export interface BypassEncapsulatorConfig {
  vni: number;
  /**
   * The bypass option to carry: a message ('' for an empty option) on packets from a gateway,
   * null on packets from a server, which MUST NOT carry it (bypass §3.1).
   */
  message: string | null;
}

export class BypassEncapsulator {
  /** Bytes written in front of every frame. */
  readonly headerLength: number;
  readonly vni: number;
  private readonly option: Uint8Array | null;

  constructor(config: BypassEncapsulatorConfig) {
    checkUint(config.vni, Geneve.MAX_VNI, 'vni');
    this.vni = config.vni;
    this.option = config.message === null ? null : encodeMessage(config.message);
    this.headerLength = Geneve.HEADER_LENGTH + (this.option === null ? 0 : Geneve.OPTION_HEADER_LENGTH + this.option.length);
  }

  /**
   * Writes the header so it ends at frameOffset; returns where it starts. The UDP payload is
   * buf[start, frameOffset + frameLength). Throws RangeError when the headroom is short (a bug).
   */
  encapsulate(buf: Uint8Array, frameOffset: number, frameLength: number): number {
    const start = frameOffset - this.headerLength;
    if (start < 0 || !Number.isInteger(start) || frameLength < 0 || frameOffset + frameLength > buf.length) {
      throw new RangeError(`no room for a ${this.headerLength}-byte Geneve header before offset ${frameOffset} of a ${buf.length}-byte buffer`);
    }
    writeFixedHeader(buf, start, this.headerLength - Geneve.HEADER_LENGTH, 0, ProtocolType.TRANSPARENT_ETHERNET_BRIDGING, this.vni);
    if (this.option !== null) writeBypassOption(buf, start + Geneve.HEADER_LENGTH, Bypass.OPTION_TYPE, this.option);
    return start;
  }
}

/** `source` is the gateway's outer IPv4 address; it stays the same when the MAC changes (bypass §5.2). */
export interface BypassIpv4EncapsulatorConfig extends BypassEncapsulatorConfig, Ipv4OuterConfig {}

/**
 * Whole outer packets for a gateway that writes raw IPv4 into a TUN device: IPv4 (DF set), UDP to
 * 6081 with a source port from the inner IPv6 flow (RFC 8926 §3.3), and the bypass header, in
 * front of an Ethernet frame that is not moved. Allocates nothing per packet.
 */
export class BypassIpv4Encapsulator {
  /** Bytes the caller must leave in front of every frame. */
  readonly headroom: number;
  private readonly geneve: BypassEncapsulator;
  private readonly outer: Ipv4Outer;

  constructor(config: BypassIpv4EncapsulatorConfig) {
    this.geneve = new BypassEncapsulator(config);
    this.outer = new Ipv4Outer(config);
    this.headroom = Underlay.IPV4_HEADER_LENGTH + Underlay.UDP_HEADER_LENGTH + this.geneve.headerLength;
  }

  /** Encapsulates the frame at buf[frameOffset, +frameLength) toward `destination`; returns the outer packet's start. */
  encapsulate(buf: Uint8Array, frameOffset: number, frameLength: number, destination: number): number {
    if (frameOffset - this.headroom < 0) throw new RangeError(`a frame at offset ${frameOffset} leaves no room for ${this.headroom} bytes of outer headers`);
    checkUint(destination, 0xffff_ffff, 'destination');
    const hash = flowHash6(buf, frameOffset + Ethernet.HEADER_LENGTH, frameLength - Ethernet.HEADER_LENGTH, this.outer.seed);
    const start = this.geneve.encapsulate(buf, frameOffset, frameLength);
    return this.outer.write(buf, start, frameOffset + frameLength, destination, hash);
  }
}
