// The Geneve header with its option TLVs as a value (RFC 8926 §3.4, §3.5), for tools and tests:
// the dns-packet trio. Options stay raw TLVs here; mapping.ts and auth.ts read our own. The packet
// path uses decap.ts instead, which never throws and never allocates.
import { type Codec, readU16 } from '@nat64/wire';
import { availableFrom, checkBytes, checkRoom, checkUint } from './bytes.js';
import { Geneve, GeneveBits } from './constants.js';
import { GeneveDecodeError } from './errors.js';
import { writeFixedHeader, writeOptionHeader } from './structure.js';

/** One option TLV (RFC 8926 §3.5). `type` is all 8 bits, its high bit the critical bit. */
export interface GeneveOption {
  optionClass: number;
  type: number;
  /** A multiple of 4 bytes, at most 124. Decoding copies it out of the packet. */
  data: Uint8Array;
}

/**
 * A Geneve header. There is no field for C: encode sets C exactly when an option is critical, and
 * decode tolerates either value (see decap.ts for why). Reserved fields and R bits are written as
 * zero and ignored on receipt (RFC 8926 §3.4, §3.5), so they have no fields either.
 */
export interface GeneveHeader {
  /** The O bit: a control packet (RFC 8926 §3.4). */
  oam: boolean;
  protocolType: number;
  vni: number;
  options: readonly GeneveOption[];
}

function optionsLength(options: readonly GeneveOption[]): number {
  let length = 0;
  for (const option of options) length += Geneve.OPTION_HEADER_LENGTH + option.data.length;
  return length;
}

function checkHeader(value: GeneveHeader): void {
  checkUint(value.protocolType, 0xffff, 'protocolType');
  checkUint(value.vni, Geneve.MAX_VNI, 'vni');
  for (const option of value.options) {
    checkUint(option.optionClass, 0xffff, 'optionClass');
    checkUint(option.type, 0xff, 'option type');
    if (!(option.data instanceof Uint8Array)) throw new RangeError('option data must be a Uint8Array');
    const words = option.data.length / Geneve.WORD;
    checkUint(words, Geneve.MAX_OPTION_DATA_LENGTH / Geneve.WORD, 'option data length in 4-byte words');
    checkBytes(option.data, words * Geneve.WORD, 'option data');
  }
  const total = optionsLength(value.options);
  if (total > Geneve.MAX_OPTIONS_LENGTH) {
    throw new RangeError(`options take ${total} bytes, more than the ${Geneve.MAX_OPTIONS_LENGTH} Opt Len can express`);
  }
}

export function encodingLength(value: GeneveHeader): number {
  return Geneve.HEADER_LENGTH + optionsLength(value.options);
}

/** Writes the header and its options at `offset`; returns the offset just past them (the payload). */
export function encode(value: GeneveHeader, buf: Uint8Array, offset = 0): number {
  checkHeader(value);
  const length = encodingLength(value);
  checkRoom(buf, offset, length, 'Geneve header');
  let critical = false;
  for (const option of value.options) if ((option.type & GeneveBits.OPTION_CRITICAL) !== 0) critical = true;
  const flags = (value.oam ? GeneveBits.OAM : 0) | (critical ? GeneveBits.CRITICAL : 0);
  writeFixedHeader(buf, offset, length - Geneve.HEADER_LENGTH, flags, value.protocolType, value.vni);
  let at = offset + Geneve.HEADER_LENGTH;
  for (const option of value.options) {
    const dataStart = writeOptionHeader(buf, at, option.optionClass, option.type, option.data.length);
    buf.set(option.data, dataStart);
    at = dataStart + option.data.length;
  }
  return at;
}

/**
 * Reads a header from `length` bytes at `offset` (default: the rest of the buffer). The payload
 * starts at offset + encodingLength(result). Throws GeneveDecodeError on a short packet, a
 * version other than 0, or lengths that do not add up (RFC 8926 §3.4, §3.5).
 */
export function decode(buf: Uint8Array, offset = 0, length?: number): GeneveHeader {
  const available = availableFrom(buf, offset, length);
  if (available < Geneve.HEADER_LENGTH) {
    throw new GeneveDecodeError('HEADER_TRUNCATED', offset + available, 'Geneve header', 'truncated');
  }
  const first = buf[offset]!;
  if (first >>> GeneveBits.VERSION_SHIFT !== Geneve.VERSION) {
    throw new GeneveDecodeError('BAD_VERSION', offset, 'Geneve header', `version ${first >>> GeneveBits.VERSION_SHIFT}`);
  }
  const optionsEnd = offset + Geneve.HEADER_LENGTH + (first & GeneveBits.OPT_LEN_MASK) * Geneve.WORD;
  if (optionsEnd > offset + available) {
    throw new GeneveDecodeError('OPTIONS_TRUNCATED', offset, 'Geneve header', 'Opt Len beyond the packet');
  }
  const options: GeneveOption[] = [];
  let at = offset + Geneve.HEADER_LENGTH;
  while (at < optionsEnd) {
    const dataStart = at + Geneve.OPTION_HEADER_LENGTH;
    const next = dataStart + (buf[at + 3]! & GeneveBits.OPTION_LENGTH_MASK) * Geneve.WORD;
    if (next > optionsEnd) {
      throw new GeneveDecodeError('OPTION_OVERRUN', at + 3, 'Geneve option', 'length beyond Opt Len');
    }
    options.push({ optionClass: readU16(buf, at), type: buf[at + 2]!, data: new Uint8Array(buf.subarray(dataStart, next)) });
    at = next;
  }
  return {
    oam: (buf[offset + 1]! & GeneveBits.OAM) !== 0,
    protocolType: readU16(buf, offset + 2),
    vni: (buf[offset + 4]! << 16) | (buf[offset + 5]! << 8) | buf[offset + 6]!,
    options,
  };
}

/** The codec trio for GeneveHeader. */
export const geneveHeader: Codec<GeneveHeader> = { encodingLength, encode, decode };
