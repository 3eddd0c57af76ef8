// Ethernet II headers (IEEE 802.3 §3.1.1), the inner framing of NAT64 bypass (bypass §4): the
// codec trio for tools and tests, and in-place helpers for the packet path. MAC addresses are
// 6-byte Uint8Arrays; formatMac/parseMac are for configuration and logs only.
import { copyBytes, readU16, type Codec, writeU16 } from '@nat64/wire';
import { availableFrom, checkBytes, checkRoom, checkUint } from './bytes.js';
import { Ethernet } from './constants.js';
import { GeneveDecodeError } from './errors.js';

export interface EthernetHeader {
  destination: Uint8Array;
  source: Uint8Array;
  etherType: number;
}

/** Writes an Ethernet II header at `offset`; returns the offset of the payload. No checks. */
export function writeEthernetHeader(buf: Uint8Array, offset: number, destination: Uint8Array, source: Uint8Array, etherType: number): number {
  copyBytes(destination, 0, Ethernet.ADDRESS_LENGTH, buf, offset);
  copyBytes(source, 0, Ethernet.ADDRESS_LENGTH, buf, offset + Ethernet.ADDRESS_LENGTH);
  writeU16(buf, offset + Ethernet.TYPE_OFFSET, etherType);
  return offset + Ethernet.HEADER_LENGTH;
}

/** The EtherType of the frame at `offset`, or -1 when fewer than 14 bytes are there. */
export function readEtherType(buf: Uint8Array, offset: number, length: number): number {
  return length < Ethernet.HEADER_LENGTH ? -1 : readU16(buf, offset + Ethernet.TYPE_OFFSET);
}

/** Whether the 6 bytes at buf[offset] equal `mac`. */
export function macEquals(buf: Uint8Array, offset: number, mac: Uint8Array): boolean {
  for (let i = 0; i < Ethernet.ADDRESS_LENGTH; i++) if (buf[offset + i] !== mac[i]) return false;
  return true;
}

/** A locally administered unicast address: U/L set, I/G clear (IEEE 802 §8.2). */
export function isLocalUnicastMac(mac: Uint8Array, offset = 0): boolean {
  return (mac[offset]! & (Ethernet.LOCAL_BIT | Ethernet.GROUP_BIT)) === Ethernet.LOCAL_BIT;
}

export function formatMac(mac: Uint8Array, offset = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < Ethernet.ADDRESS_LENGTH; i++) parts.push(mac[offset + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Parses "02:00:5e:10:00:01"; throws RangeError on anything else. */
export function parseMac(text: string): Uint8Array {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) throw new RangeError(`"${text}" is not a MAC address`);
  return Uint8Array.from(text.split(':'), (part) => Number.parseInt(part, 16));
}

export function encodingLength(_value?: EthernetHeader): number {
  return Ethernet.HEADER_LENGTH;
}

export function encode(value: EthernetHeader, buf: Uint8Array, offset = 0): number {
  checkBytes(value.destination, Ethernet.ADDRESS_LENGTH, 'destination');
  checkBytes(value.source, Ethernet.ADDRESS_LENGTH, 'source');
  checkUint(value.etherType, 0xffff, 'etherType');
  checkRoom(buf, offset, Ethernet.HEADER_LENGTH, 'Ethernet header');
  return writeEthernetHeader(buf, offset, value.destination, value.source, value.etherType);
}

export function decode(buf: Uint8Array, offset = 0, length?: number): EthernetHeader {
  const available = availableFrom(buf, offset, length);
  if (available < Ethernet.HEADER_LENGTH) {
    throw new GeneveDecodeError('HEADER_TRUNCATED', offset + available, 'Ethernet header', 'truncated');
  }
  return {
    destination: buf.slice(offset, offset + Ethernet.ADDRESS_LENGTH),
    source: buf.slice(offset + Ethernet.ADDRESS_LENGTH, offset + Ethernet.TYPE_OFFSET),
    etherType: readU16(buf, offset + Ethernet.TYPE_OFFSET),
  };
}

/** The codec trio for EthernetHeader. */
export const ethernetHeader: Codec<EthernetHeader> = { encodingLength, encode, decode };
