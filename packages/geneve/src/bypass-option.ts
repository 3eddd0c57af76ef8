// The two options of NAT64 bypass (bypass §3), whole TLVs with their option header: the bypass
// option (class 0x0162, type 0x00) and the audit mirror option (type 0x81, critical). Both carry
// the same data: an optional UTF-8 message, then 0xFF padding to a 4-byte boundary. UTF-8 never
// contains 0xFF, so the padding is unambiguous. The trio serves tools and tests; the packet path
// reads the same bytes through bypass-decap.ts and writes them through bypass-encap.ts.
import { type Codec, readU16 } from '@nat64/wire';
import { availableFrom, checkRoom } from './bytes.js';
import { Bypass, Geneve, GeneveBits } from './constants.js';
import { GeneveDecodeError } from './errors.js';
import { writeOptionHeader } from './structure.js';

export interface BypassOption {
  /** The log message (bypass option) or explanation (audit mirror); '' for none. */
  message: string;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** At most 3 padding bytes follow the message (bypass §3.1). */
const MAX_PADDING = Geneve.WORD - 1;

/** The message as option data: UTF-8, padded with 0xFF. Throws RangeError past 124 bytes. */
export function encodeMessage(message: string): Uint8Array {
  if (typeof message !== 'string') throw new RangeError('message must be a string');
  const text = utf8.encode(message);
  const padded = Math.ceil(text.length / Geneve.WORD) * Geneve.WORD;
  if (padded > Geneve.MAX_OPTION_DATA_LENGTH) {
    throw new RangeError(`a message of ${text.length} UTF-8 bytes does not fit the ${Geneve.MAX_OPTION_DATA_LENGTH} bytes of option data`);
  }
  const data = new Uint8Array(padded).fill(Bypass.PADDING);
  data.set(text);
  return data;
}

/** Length of the message in option data buf[start, start + length): the data without trailing 0xFF. */
export function messageLength(buf: Uint8Array, start: number, length: number): number {
  let end = start + length;
  while (end > start && buf[end - 1] === Bypass.PADDING) end--;
  return end - start;
}

/** Writes an option TLV of class 0x0162 with pre-encoded data; returns the offset past it. */
export function writeBypassOption(buf: Uint8Array, at: number, type: number, data: Uint8Array): number {
  const dataStart = writeOptionHeader(buf, at, Bypass.OPTION_CLASS, type, data.length);
  buf.set(data, dataStart);
  return dataStart + data.length;
}

function messageCodec(type: number, structure: string): Codec<BypassOption> {
  return {
    encodingLength: (value) => Geneve.OPTION_HEADER_LENGTH + encodeMessage(value.message).length,
    encode(value, buf, offset = 0) {
      const data = encodeMessage(value.message);
      checkRoom(buf, offset, Geneve.OPTION_HEADER_LENGTH + data.length, structure);
      return writeBypassOption(buf, offset, type, data);
    },
    decode(buf, offset = 0, length) {
      const available = availableFrom(buf, offset, length);
      if (available < Geneve.OPTION_HEADER_LENGTH) {
        throw new GeneveDecodeError('OPTION_TRUNCATED', offset + available, structure, 'truncated');
      }
      if (readU16(buf, offset) !== Bypass.OPTION_CLASS) {
        throw new GeneveDecodeError('BAD_FIELD', offset, structure, `option class 0x${readU16(buf, offset).toString(16).padStart(4, '0')}`);
      }
      if (buf[offset + 2] !== type) {
        throw new GeneveDecodeError('BAD_FIELD', offset + 2, structure, `type 0x${buf[offset + 2]!.toString(16).padStart(2, '0')}`);
      }
      const dataStart = offset + Geneve.OPTION_HEADER_LENGTH;
      const dataLength = (buf[offset + 3]! & GeneveBits.OPTION_LENGTH_MASK) * Geneve.WORD;
      if (dataLength > available - Geneve.OPTION_HEADER_LENGTH) {
        throw new GeneveDecodeError('OPTION_TRUNCATED', offset + available, structure, 'truncated');
      }
      const textLength = messageLength(buf, dataStart, dataLength);
      if (dataLength - textLength > MAX_PADDING) {
        throw new GeneveDecodeError('BAD_FIELD', dataStart + textLength, structure, 'more than 3 padding bytes');
      }
      let message: string;
      try {
        message = strictUtf8.decode(buf.subarray(dataStart, dataStart + textLength));
      } catch {
        throw new GeneveDecodeError('BAD_FIELD', dataStart, structure, 'message is not UTF-8');
      }
      return { message };
    },
  };
}

/** The bypass option TLV (class 0x0162, type 0x00; bypass §3.1). */
export const bypassOption: Codec<BypassOption> = messageCodec(Bypass.OPTION_TYPE, 'bypass option');

/** The audit mirror option TLV (class 0x0162, type 0x81, critical; bypass §3.2). */
export const auditMirrorOption: Codec<BypassOption> = messageCodec(Bypass.AUDIT_MIRROR_TYPE, 'audit mirror option');
