// ICMP echo (RFC 792, RFC 4443 §4) as the traffic of the TunDevice suite: the device writes echo
// requests from its side of the link to the stack's address, and the stack's echo replies are what
// arrives into the device. A real kernel answers by itself; echoReply is the same answer for the fake.
import { internetChecksum as checksum } from './inet.js';

/** The device's side of the link (packet sources) and the stack's (where echo requests go). */
export const LINK = {
  4: { device: [192, 0, 2, 2], stack: [192, 0, 2, 1], prefix: 24 },
  6: {
    device: [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 2],
    stack: [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1],
    prefix: 64,
  },
} as const;
export const STACK_ADDRESS = { 4: '192.0.2.1', 6: '2001:db8::1' } as const;

const ICMP4 = { protocol: 1, request: 8, reply: 0 } as const;
const ICMP6 = { nextHeader: 58, request: 128, reply: 129 } as const;
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const ECHO_HEADER = 8;

export type Family = 4 | 6;

export interface Echo {
  family: Family;
  identifier: number;
  sequence: number;
  /** Bytes after the echo header. */
  data: Uint8Array;
}

function ipv6PseudoHeader(packet: Uint8Array, icmpLength: number): Uint8Array {
  const pseudo = new Uint8Array(40);
  pseudo.set(packet.subarray(8, 40), 0);
  new DataView(pseudo.buffer).setUint32(32, icmpLength);
  pseudo[39] = ICMP6.nextHeader;
  return pseudo;
}

function icmpChecksum(packet: Uint8Array, family: Family): number {
  const header = family === 4 ? IPV4_HEADER : IPV6_HEADER;
  const icmp = packet.subarray(header);
  return family === 4 ? checksum(icmp) : checksum(ipv6PseudoHeader(packet, icmp.length), icmp);
}

function build(
  family: Family,
  type: number,
  identifier: number,
  sequence: number,
  data: Uint8Array,
  source: readonly number[],
  destination: readonly number[],
): Uint8Array {
  const header = family === 4 ? IPV4_HEADER : IPV6_HEADER;
  const packet = new Uint8Array(header + ECHO_HEADER + data.length);
  const view = new DataView(packet.buffer);
  if (family === 4) {
    packet[0] = 0x45;
    view.setUint16(2, packet.length);
    packet[8] = 64;
    packet[9] = ICMP4.protocol;
    packet.set(source, 12);
    packet.set(destination, 16);
    view.setUint16(10, checksum(packet.subarray(0, IPV4_HEADER)));
  } else {
    packet[0] = 0x60;
    view.setUint16(4, ECHO_HEADER + data.length);
    packet[6] = ICMP6.nextHeader;
    packet[7] = 64;
    packet.set(source, 8);
    packet.set(destination, 24);
  }
  packet[header] = type;
  view.setUint16(header + 4, identifier);
  view.setUint16(header + 6, sequence);
  packet.set(data, header + ECHO_HEADER);
  view.setUint16(header + 2, icmpChecksum(packet, family));
  return packet;
}

/** An echo request from the device's side to the stack's address, with `size` bytes of data. */
export function echoRequest(family: Family, identifier: number, sequence: number, size = 8): Uint8Array {
  const data = Uint8Array.from({ length: size }, (_, i) => (sequence + i) & 0xff);
  return build(family, family === 4 ? ICMP4.request : ICMP6.request, identifier, sequence, data, LINK[family].device, LINK[family].stack);
}

function parse(packet: Uint8Array, type4: number, type6: number): Echo | undefined {
  const family = packet.length > 0 ? packet[0]! >> 4 : 0;
  if (family !== 4 && family !== 6) return undefined;
  const header = family === 4 ? (packet[0]! & 0x0f) * 4 : IPV6_HEADER;
  if (packet.length < header + ECHO_HEADER) return undefined;
  const protocol = family === 4 ? packet[9] : packet[6];
  const type = packet[header];
  if (family === 4 ? protocol !== ICMP4.protocol || type !== type4 : protocol !== ICMP6.nextHeader || type !== type6) return undefined;
  if (icmpChecksum(packet, family) !== 0) return undefined;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  return {
    family,
    identifier: view.getUint16(header + 4),
    sequence: view.getUint16(header + 6),
    data: Uint8Array.prototype.slice.call(packet, header + ECHO_HEADER),
  };
}

/** The echo reply in a packet with a valid ICMP checksum (its data copied), or undefined for anything else. */
export function parseEchoReply(packet: Uint8Array): Echo | undefined {
  return parse(packet, ICMP4.reply, ICMP6.reply);
}

/** What the stack answers to an echo request sent to its address; undefined for anything else. */
export function echoReply(packet: Uint8Array): Uint8Array | undefined {
  const request = parse(packet, ICMP4.request, ICMP6.request);
  if (!request) return undefined;
  const { family, identifier, sequence, data } = request;
  const destination = family === 4 ? packet.subarray(16, 20) : packet.subarray(24, 40);
  if (destination.some((byte, i) => byte !== LINK[family].stack[i])) return undefined;
  return build(family, family === 4 ? ICMP4.reply : ICMP6.reply, identifier, sequence, data, LINK[family].stack, LINK[family].device);
}
