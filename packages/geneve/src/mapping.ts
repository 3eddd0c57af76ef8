// The mapping option's data (options §3): one connection-tracking entry and what happened to it.
// The trio serves tools and tests; the packet path reads the same fields through decap.ts.
import { copyBytes, readU16, readU32, type Codec, writeU16, writeU32 } from '@nat64/wire';
import { TWO_POW_32, availableFrom, checkRoom, joinU64 } from './bytes.js';
import { MAX_SAFE_HIGH_WORD, MappingEvent, OptionSize } from './constants.js';
import { GeneveDecodeError } from './errors.js';

/**
 * One mapping, as the gateway's table holds it. Addresses are numbers and bytes: an IPv4 address
 * is a uint32, an IPv6 address 16 bytes. For ICMP, both ports carry the Echo Identifier.
 */
export interface MappingOption {
  /** IANA protocol number as seen on the IPv4 side: 6 TCP, 17 UDP, 1 ICMP. */
  protocol: number;
  event: MappingEvent;
  natAddress: number;
  natPort: number;
  clientAddress: Uint8Array;
  clientPort: number;
  /** When the gateway created this incarnation of the mapping: microseconds since the Unix epoch. */
  creationTimeUs: number;
}

/** Field offsets within the option data (options §3). */
export const MappingField = {
  PROTOCOL: 0,
  EVENT: 1,
  NAT_ADDRESS: 4,
  NAT_PORT: 8,
  CLIENT_PORT: 10,
  CLIENT_ADDRESS: 12,
  CREATION_TIME: 28,
} as const;

export function isMappingEvent(value: number): value is MappingEvent {
  return value >= MappingEvent.CREATED && value <= MappingEvent.DELETED;
}

function badField(field: string, value: unknown): never {
  throw new RangeError(`mapping ${field} is out of range: ${String(value)}`);
}

// The packet path calls checkMapping and writeMapping per packet. natAddress (above 2^31) and
// creationTimeUs are doubles in V8; handing one to a helper that is not inlined boxes it in a new
// heap number, so both functions read fields into locals and test and write them inline.

/** Throws RangeError unless every field fits its wire field. */
export function checkMapping(value: MappingOption): void {
  const { protocol, event, natAddress, natPort, clientPort, creationTimeUs } = value;
  if (!(Number.isInteger(protocol) && protocol >= 0 && protocol <= 0xff)) badField('protocol', protocol);
  if (!isMappingEvent(event)) badField('event', event);
  if (!(Number.isInteger(natAddress) && natAddress >= 0 && natAddress <= 0xffff_ffff)) badField('natAddress', natAddress);
  if (!(Number.isInteger(natPort) && natPort >= 0 && natPort <= 0xffff)) badField('natPort', natPort);
  if (!(Number.isInteger(clientPort) && clientPort >= 0 && clientPort <= 0xffff)) badField('clientPort', clientPort);
  if (!(Number.isInteger(creationTimeUs) && creationTimeUs >= 0 && creationTimeUs <= Number.MAX_SAFE_INTEGER)) {
    badField('creationTimeUs', creationTimeUs);
  }
  const address = value.clientAddress;
  if (!(address instanceof Uint8Array) || address.length !== OptionSize.IPV6_ADDRESS) badField('clientAddress', address);
}

/** Writes the 36 data bytes of a checked mapping; Reserved is zero. */
export function writeMapping(buf: Uint8Array, offset: number, value: MappingOption): number {
  buf[offset + MappingField.PROTOCOL] = value.protocol;
  buf[offset + MappingField.EVENT] = value.event;
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  const nat = value.natAddress;
  buf[offset + MappingField.NAT_ADDRESS] = nat >>> 24;
  buf[offset + MappingField.NAT_ADDRESS + 1] = nat >>> 16;
  buf[offset + MappingField.NAT_ADDRESS + 2] = nat >>> 8;
  buf[offset + MappingField.NAT_ADDRESS + 3] = nat & 0xff;
  writeU16(buf, offset + MappingField.NAT_PORT, value.natPort);
  writeU16(buf, offset + MappingField.CLIENT_PORT, value.clientPort);
  copyBytes(value.clientAddress, 0, OptionSize.IPV6_ADDRESS, buf, offset + MappingField.CLIENT_ADDRESS);
  const time = value.creationTimeUs;
  // High word below 2^21 and `time | 0` (the low word, as int32) are both small integers.
  writeU32(buf, offset + MappingField.CREATION_TIME, Math.floor(time / TWO_POW_32));
  writeU32(buf, offset + MappingField.CREATION_TIME + 4, time | 0);
  return offset + OptionSize.MAPPING_DATA;
}

export function encodingLength(_value?: MappingOption): number {
  return OptionSize.MAPPING_DATA;
}

export function encode(value: MappingOption, buf: Uint8Array, offset = 0): number {
  checkMapping(value);
  checkRoom(buf, offset, OptionSize.MAPPING_DATA, 'mapping option');
  return writeMapping(buf, offset, value);
}

/**
 * Reads mapping data of `length` bytes (default: the rest of the buffer). Bytes past the 36
 * defined here are ignored, so a later revision can append fields (options §3).
 */
export function decode(buf: Uint8Array, offset = 0, length?: number): MappingOption {
  const available = availableFrom(buf, offset, length);
  if (available < OptionSize.MAPPING_DATA) {
    throw new GeneveDecodeError('OPTION_TRUNCATED', offset + available, 'mapping option', 'truncated');
  }
  const event = buf[offset + MappingField.EVENT]!;
  if (!isMappingEvent(event)) {
    throw new GeneveDecodeError('BAD_FIELD', offset + MappingField.EVENT, 'mapping option', `event ${event}`);
  }
  const timeHigh = readU32(buf, offset + MappingField.CREATION_TIME);
  if (timeHigh > MAX_SAFE_HIGH_WORD) {
    throw new GeneveDecodeError('BAD_FIELD', offset + MappingField.CREATION_TIME, 'mapping option', 'creation time beyond 2^53');
  }
  const clientAddress = new Uint8Array(OptionSize.IPV6_ADDRESS);
  copyBytes(buf, offset + MappingField.CLIENT_ADDRESS, offset + MappingField.CLIENT_ADDRESS + OptionSize.IPV6_ADDRESS, clientAddress, 0);
  return {
    protocol: buf[offset + MappingField.PROTOCOL]!,
    event,
    natAddress: readU32(buf, offset + MappingField.NAT_ADDRESS),
    natPort: readU16(buf, offset + MappingField.NAT_PORT),
    clientAddress,
    clientPort: readU16(buf, offset + MappingField.CLIENT_PORT),
    creationTimeUs: joinU64(timeHigh, readU32(buf, offset + MappingField.CREATION_TIME + 4)),
  };
}

/** The codec trio for MappingOption. */
export const mappingOption: Codec<MappingOption> = { encodingLength, encode, decode };
