// The 28-octet common header (§5.1). The header codec is raw: it reads and writes every field as
// it is, A flag and Length included, and judges nothing; datagram-level validation is inspect.ts.
import { readU16, readU32, readU64, writeU16, writeU32, writeU64 } from '@nat64/wire';
import { checkU64, checkUint } from './bytes.js';
import { Size } from './constants.js';
import { HandoffDecodeError } from './errors.js';
import { HEADER_FIELDS, fieldStart } from './layout.js';
import { codecOf, type Part } from './part.js';
import type { Codec, HandoffHeader } from './types.js';

export function checkHeader(value: HandoffHeader): void {
  checkUint(value.version, 0xff, 'version');
  checkUint(value.type, 0xff, 'type');
  checkUint(value.length, Size.MAX_DATAGRAM, 'length');
  checkUint(value.flags, 0xffff, 'flags');
  checkU64(value.epoch, 'epoch');
  checkU64(value.cookie, 'cookie');
  checkUint(value.sequence, 0xffff_ffff, 'sequence');
}

/** Writes a header already checked by checkHeader(); Reserved is written as zero. */
export function writeHeader(buf: Uint8Array, offset: number, value: HandoffHeader): number {
  buf[offset] = value.version;
  buf[offset + 1] = value.type;
  writeU16(buf, offset + 2, value.length);
  writeU16(buf, offset + 4, value.flags);
  writeU16(buf, offset + 6, 0);
  writeU64(buf, offset + 8, value.epoch);
  writeU64(buf, offset + 16, value.cookie);
  writeU32(buf, offset + 24, value.sequence);
  return offset + Size.HEADER;
}

function readHeader(buf: Uint8Array, offset: number, available: number): HandoffHeader {
  if (available < Size.HEADER) {
    throw new HandoffDecodeError('TRUNCATED', offset + fieldStart(HEADER_FIELDS, available), 'header', 'truncated');
  }
  return {
    version: buf[offset]!,
    type: buf[offset + 1]!,
    length: readU16(buf, offset + 2),
    flags: readU16(buf, offset + 4),
    epoch: readU64(buf, offset + 8),
    cookie: readU64(buf, offset + 16),
    sequence: readU32(buf, offset + 24),
  };
}

const headerPart: Part<HandoffHeader> = { length: () => Size.HEADER, check: checkHeader, write: writeHeader, read: readHeader };

export const header: Codec<HandoffHeader> = codecOf(headerPart, 'header', 'header');
