// Geneve framing of NAT64 bypass (bypass §4): the 8-byte header, Protocol Type 0x6558, the
// tunnel's VNI and, from a gateway, the bypass option, written into the headroom in front of an
// Ethernet frame that is neither copied nor read. The message is encoded once, at construction;
// encapsulate() allocates nothing.
import { checkUint, writeU16 } from './bytes.js';
import { Bypass, Geneve, GeneveBits, ProtocolType } from './constants.js';
import { encodeMessage, writeBypassOption } from './bypass-option.js';

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
    // The bypass option is not critical, so C stays clear (RFC 8926 §3.4).
    buf[start] = (Geneve.VERSION << GeneveBits.VERSION_SHIFT) | ((this.headerLength - Geneve.HEADER_LENGTH) / Geneve.WORD);
    buf[start + 1] = 0;
    writeU16(buf, start + 2, ProtocolType.TRANSPARENT_ETHERNET_BRIDGING);
    buf[start + 4] = this.vni >>> 16;
    buf[start + 5] = this.vni >>> 8;
    buf[start + 6] = this.vni;
    buf[start + 7] = 0;
    if (this.option !== null) writeBypassOption(buf, start + Geneve.HEADER_LENGTH, Bypass.OPTION_TYPE, this.option);
    return start;
  }
}
