// What both packet-path decoders (decap.ts for our mapping transport, bypass-decap.ts for NAT64 bypass)
// do alike: the structure checks they make before anything else (RFC 8926 §3.4, §3.5: the fixed header
// is there, its version is 0, its options fit the packet, each option's length fits the options), the
// reading of each option's header, and how a drop is recorded. Never throws, never allocates; failures
// are numbered as DecapStatus and BypassStatus both number them. And the fixed header and option
// headers every encoder (writer.ts, bypass-encap.ts, header.ts) writes.

import { readU16, type ValueOf, writeU16 } from '@nat64/wire';
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
export type StructureFailure = ValueOf<typeof StructureFailure>;

const EMPTY = new Uint8Array(0);

/**
 * What both decoders' views (GeneveView, BypassView) hold besides their own fields, filled alike:
 * the fixed header and the option counts. One per receive loop, reused for every packet; offsets
 * are absolute positions in `buf`. After a drop, trust only `status` and `failOffset`. Status 0 is
 * each decoder's verdict that forwards (DecapStatus.DATA, BypassStatus.FRAME).
 */
export abstract class DecodeView<S extends number> {
  /** The buffer of the last decode; the view holds a reference, never a copy. */
  buf: Uint8Array = EMPTY;
  status = 0 as S;
  /** Where decoding found the problem, for a debug log; -1 when it did not fail. */
  failOffset = -1;
  /** Start of the Geneve header. */
  start = 0;
  /** Raw second octet: O, C and the reserved bits, for anomaly logs. */
  flags = 0;
  protocolType = 0;
  vni = 0;
  /** Number of critical options, understood or not. */
  criticalOptions = 0;
  /** Non-critical options the decoder does not understand, skipped as RFC 8926 §3.5 allows. */
  skippedOptions = 0;

  /** Forgets the last packet: the fields of a packet at `start` in `buf` before anything is read. */
  reset(buf: Uint8Array, start: number): void {
    this.buf = buf;
    this.status = 0 as S;
    this.failOffset = -1;
    this.start = start;
    this.flags = 0;
    this.protocolType = 0;
    this.vni = 0;
    this.criticalOptions = 0;
    this.skippedOptions = 0;
  }
}

/** Where the options and the payload lie after beginDecode. Reused by each decoder. */
export class HeaderBounds {
  optionsStart = 0;
  optionsEnd = 0;
  end = 0;
}

/** Records the drop `status`, found at `at`, in `view`; returns it. */
export function fail<S extends number>(view: { status: S; failOffset: number }, status: S, at: number): S {
  view.status = status;
  view.failOffset = at;
  return status;
}

/**
 * Resets `view` for the UDP payload buf[offset, offset + length) and checks its fixed header into `view`
 * and `bounds`; false when the structure fails, the failure then recorded in the view.
 */
export function beginDecode(buf: Uint8Array, offset: number, length: number, view: DecodeView<number>, bounds: HeaderBounds): boolean {
  view.reset(buf, offset);
  if (offset + length > buf.length) length = buf.length - offset;
  if (length < Geneve.HEADER_LENGTH) {
    fail(view, StructureFailure.TRUNCATED, offset + Math.max(length, 0));
    return false;
  }
  const first = buf[offset]!;
  if (first >>> GeneveBits.VERSION_SHIFT !== Geneve.VERSION) {
    fail(view, StructureFailure.BAD_VERSION, offset);
    return false;
  }
  const optionsStart = offset + Geneve.HEADER_LENGTH;
  const optionsEnd = optionsStart + (first & GeneveBits.OPT_LEN_MASK) * Geneve.WORD;
  const end = offset + length;
  if (optionsEnd > end) {
    fail(view, StructureFailure.OPTIONS_TRUNCATED, offset);
    return false;
  }
  bounds.optionsStart = optionsStart;
  bounds.optionsEnd = optionsEnd;
  bounds.end = end;
  view.flags = buf[offset + 1]!;
  view.protocolType = readU16(buf, offset + 2);
  view.vni = (buf[offset + 4]! << 16) | (buf[offset + 5]! << 8) | buf[offset + 6]!;
  return true;
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
