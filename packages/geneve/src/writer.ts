// Writes a Geneve header and our options into the headroom in front of a payload (RFC 8926 §3.4,
// §3.5; options §3-§5), for senders that hand the UDP payload to a dgram socket and as the inner
// step of encap.ts. The payload is never copied or read, except by the HMAC when signing.
import type { KeyObject } from 'node:crypto';
import { importAuthKey, sealTag, writeAuth } from './auth.js';
import { checkUint } from './bytes.js';
import { CONTROL_PROTOCOL_TYPE, DEFAULT_OPTION_CLASS, Geneve, GeneveBits } from './constants.js';
import { OptionSize, OptionType, ProtocolType } from './constants.js';
import { checkMapping, writeMapping } from './mapping.js';
import { writeFixedHeader, writeOptionHeader } from './structure.js';
import type { MappingOption } from './mapping.js';

export interface GeneveWriterConfig {
  /** VNI of every packet (RFC 8926 §3.4). */
  vni: number;
  /** Option Class of our options (default 0xFF64, options §2). */
  optionClass?: number;
  /** When present, every packet carries an auth option signed with this key (options §4). */
  auth?: { keyId: number; secret: Uint8Array };
}

const MAPPING_OPTION_LENGTH = Geneve.OPTION_HEADER_LENGTH + OptionSize.MAPPING_DATA;
const AUTH_OPTION_LENGTH = Geneve.OPTION_HEADER_LENGTH + OptionSize.AUTH_DATA;

/**
 * Frames payloads that already sit in a caller's buffer. Each write puts the Geneve header and
 * options so they end exactly at payloadOffset and returns where they start; the UDP payload is
 * buf[start, payloadOffset + payloadLength). Throws RangeError when the headroom is short or a
 * mapping is out of range: both are the caller's bugs, not packet data.
 */
export class GeneveWriter {
  /** The most bytes a write puts in front of the payload (with a mapping). */
  readonly maxHeaderLength: number;
  private readonly vni: number;
  private readonly optionClass: number;
  private readonly key: KeyObject | null;
  private readonly keyId: number;

  constructor(config: GeneveWriterConfig) {
    checkUint(config.vni, Geneve.MAX_VNI, 'vni');
    this.vni = config.vni;
    this.optionClass = config.optionClass ?? DEFAULT_OPTION_CLASS;
    checkUint(this.optionClass, 0xffff, 'optionClass');
    this.key = null;
    this.keyId = 0;
    if (config.auth !== undefined) {
      checkUint(config.auth.keyId, 0xff, 'auth keyId');
      this.key = importAuthKey(config.auth.secret);
      this.keyId = config.auth.keyId;
    }
    this.maxHeaderLength = this.headerLength(true);
  }

  /** Bytes a write puts in front of the payload, with or without a mapping option. */
  headerLength(withMapping: boolean): number {
    return Geneve.HEADER_LENGTH + (withMapping ? MAPPING_OPTION_LENGTH : 0) + (this.key !== null ? AUTH_OPTION_LENGTH : 0);
  }

  /** A data packet: Protocol Type IPv4, the payload an IPv4 packet, an optional mapping. */
  writeData(buf: Uint8Array, payloadOffset: number, payloadLength: number, mapping: MappingOption | null): number {
    return this.write(buf, payloadOffset, payloadLength, mapping, false);
  }

  /**
   * A control packet (O bit, options §5): the payload is a handoff v1 datagram, or empty when the
   * packet only carries a mapping.
   */
  writeControl(buf: Uint8Array, payloadOffset: number, payloadLength: number, mapping: MappingOption | null): number {
    return this.write(buf, payloadOffset, payloadLength, mapping, true);
  }

  private write(buf: Uint8Array, payloadOffset: number, payloadLength: number, mapping: MappingOption | null, oam: boolean): number {
    const start = payloadOffset - this.headerLength(mapping !== null);
    const end = payloadOffset + payloadLength;
    if (start < 0 || !Number.isInteger(start) || !Number.isInteger(end) || payloadLength < 0 || end > buf.length) {
      throw new RangeError(`no room for a Geneve header before offset ${payloadOffset} of a ${buf.length}-byte buffer`);
    }
    if (mapping !== null) checkMapping(mapping);
    const protocolType = oam ? CONTROL_PROTOCOL_TYPE : ProtocolType.IPV4;
    writeFixedHeader(buf, start, payloadOffset - start - Geneve.HEADER_LENGTH, oam ? GeneveBits.OAM : 0, protocolType, this.vni);
    let at = start + Geneve.HEADER_LENGTH;
    if (mapping !== null) {
      at = writeOptionHeader(buf, at, this.optionClass, OptionType.MAPPING, OptionSize.MAPPING_DATA);
      at = writeMapping(buf, at, mapping);
    }
    if (this.key !== null) {
      at = writeOptionHeader(buf, at, this.optionClass, OptionType.AUTH, OptionSize.AUTH_DATA);
      writeAuth(buf, at, this.keyId, null);
      sealTag(this.key, buf, start, end, at + OptionSize.AUTH_TAG_OFFSET);
    }
    return start;
  }
}
