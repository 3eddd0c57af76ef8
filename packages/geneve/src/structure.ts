// The structure checks both packet-path decoders (decap.ts for our mapping transport, bypass-decap.ts
// for NAT64 bypass) make before anything else (RFC 8926 §3.4, §3.5): the fixed header is there, its
// version is 0, its options fit the packet, and each option's length fits the options. Never throws,
// never allocates; failures are numbered as DecapStatus and BypassStatus both number them. And the
// fixed header and option headers every encoder (writer.ts, bypass-encap.ts, header.ts) writes.

import { readU16, writeU16 } from '@nat64/wire';
import { Geneve, GeneveBits } from './constants.js';

/** The structure failures, numbered alike in DecapStatus and BypassStatus, which both spread this. */
export const StructureFailure = {
  /** Drop: fewer than the 8 bytes of the fixed header (RFC 8926 §3.4). */
  TRUNCATED: 2,
  /** Drop: Ver is not 0 (RFC 8926 §3.4: MUST drop). */
  BAD_VERSION: 3,
  /** Drop: Opt Len reaches past the end of the packet (RFC 8926 §3.4). */
  OPTIONS_TRUNCATED: 4,
  /** Drop: an option's Length reaches past Opt Len (RFC 8926 §3.5: MUST silently drop). */
  OPTION_OVERRUN: 5,
} as const;
export type StructureFailure = (typeof StructureFailure)[keyof typeof StructureFailure];

/** What readFixedHeader returns when the fixed header is sound. */
export const STRUCTURE_OK = 0;
export type StructureVerdict = typeof STRUCTURE_OK | StructureFailure;

/** The fixed header's fields, as both views keep them. */
export interface FixedHeaderFields {
  flags: number;
  protocolType: number;
  vni: number;
}

/** Where the options and the payload lie after readFixedHeader, or where it failed. Reused by each decoder. */
export class HeaderBounds {
  optionsStart = 0;
  optionsEnd = 0;
  end = 0;
  failOffset = -1;
}

/** Checks the fixed header of buf[offset, offset + length) (a UDP payload) and fills `fields` and `bounds`. */
export function readFixedHeader(buf: Uint8Array, offset: number, length: number, fields: FixedHeaderFields, bounds: HeaderBounds): StructureVerdict {
  if (offset + length > buf.length) length = buf.length - offset;
  if (length < Geneve.HEADER_LENGTH) {
    bounds.failOffset = offset + Math.max(length, 0);
    return StructureFailure.TRUNCATED;
  }
  bounds.failOffset = offset;
  const first = buf[offset]!;
  if (first >>> GeneveBits.VERSION_SHIFT !== Geneve.VERSION) return StructureFailure.BAD_VERSION;
  const optionsStart = offset + Geneve.HEADER_LENGTH;
  const optionsEnd = optionsStart + (first & GeneveBits.OPT_LEN_MASK) * Geneve.WORD;
  const end = offset + length;
  if (optionsEnd > end) return StructureFailure.OPTIONS_TRUNCATED;
  bounds.optionsStart = optionsStart;
  bounds.optionsEnd = optionsEnd;
  bounds.end = end;
  fields.flags = buf[offset + 1]!;
  fields.protocolType = readU16(buf, offset + 2);
  fields.vni = (buf[offset + 4]! << 16) | (buf[offset + 5]! << 8) | buf[offset + 6]!;
  return STRUCTURE_OK;
}

/** One option TLV as readOption leaves it; each decoder reuses one. */
export class OptionFields {
  optionClass = 0;
  /** All 8 bits, the critical bit included. */
  type = 0;
  critical = false;
  dataStart = 0;
  dataLength = 0;
}

/**
 * Reads the option TLV at `at` into `option`, counting it in `header.criticalOptions` when critical;
 * returns where it ends, or -1 when its length runs past `optionsEnd` (OPTION_OVERRUN at `at` + 3).
 */
export function readOption(buf: Uint8Array, at: number, optionsEnd: number, header: { criticalOptions: number }, option: OptionFields): number {
  const dataStart = at + Geneve.OPTION_HEADER_LENGTH;
  const next = dataStart + (buf[at + 3]! & GeneveBits.OPTION_LENGTH_MASK) * Geneve.WORD;
  if (next > optionsEnd) return -1;
  const type = buf[at + 2]!;
  const critical = (type & GeneveBits.OPTION_CRITICAL) !== 0;
  if (critical) header.criticalOptions++;
  option.optionClass = readU16(buf, at);
  option.type = type;
  option.critical = critical;
  option.dataStart = dataStart;
  option.dataLength = next - dataStart;
  return next;
}

/** Writes the 8-byte fixed header at `start`, its options (`optionsLength` bytes, whole words) to follow; `flags` holds O and C. */
export function writeFixedHeader(buf: Uint8Array, start: number, optionsLength: number, flags: number, protocolType: number, vni: number): void {
  buf[start] = (Geneve.VERSION << GeneveBits.VERSION_SHIFT) | (optionsLength / Geneve.WORD);
  buf[start + 1] = flags;
  writeU16(buf, start + 2, protocolType);
  buf[start + 4] = vni >>> 16;
  buf[start + 5] = vni >>> 8;
  buf[start + 6] = vni;
  buf[start + 7] = 0;
}

/** Writes an option's 4-byte header at `at` (RFC 8926 §3.5), its `dataLength` bytes (whole words) to follow; returns where they start. */
export function writeOptionHeader(buf: Uint8Array, at: number, optionClass: number, type: number, dataLength: number): number {
  writeU16(buf, at, optionClass);
  buf[at + 2] = type;
  buf[at + 3] = dataLength / Geneve.WORD;
  return at + Geneve.OPTION_HEADER_LENGTH;
}
