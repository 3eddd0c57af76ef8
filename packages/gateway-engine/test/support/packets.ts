// Test packets built field by field (RFC 791, RFC 8200, RFC 768, RFC 9293, RFC 792/4443) with valid
// checksums, and readers for the fields the tests check. Addresses are text at this boundary only.

import { foldSum, ipv4TextToUint32, ipv6TextToBytes, sumWords } from '@nat64/wire';

function v6(text: string): Uint8Array {
  const bytes = ipv6TextToBytes(text);
  if (bytes === null) throw new Error(`bad IPv6 address ${text}`);
  return bytes;
}

function v4(text: string): number {
  const value = ipv4TextToUint32(text);
  if (value < 0) throw new Error(`bad IPv4 address ${text}`);
  return value;
}

export const TCP_SYN = 0x02;
export const TCP_ACK = 0x10;

export interface Packet6 {
  src: string;
  dst: string;
  /** 17 UDP, 6 TCP, 58 ICMPv6, anything else as raw payload. */
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: number;
  /** ICMPv6 type, code and the 4 bytes after the checksum (identifier and sequence for echo). */
  icmp?: { type: number; code: number; rest: number };
  payload?: Uint8Array;
  hopLimit?: number;
  /** A Fragment header: offset in bytes (multiple of 8), more fragments, identification. */
  fragment?: { offset: number; more: boolean; id: number };
}

/** The upper-layer header and payload (TCP 20, UDP 8 or ICMP 8 bytes, then payload), checksum zero. */
function upper(
  protocol: number,
  p: { srcPort?: number; dstPort?: number; tcpFlags?: number; icmp?: { type: number; code: number; rest: number }; payload?: Uint8Array },
): Uint8Array {
  const payload = p.payload ?? new Uint8Array(8).fill(0xab);
  if (protocol === 6) {
    const out = new Uint8Array(20 + payload.length);
    out.set([p.srcPort! >> 8, p.srcPort! & 0xff, p.dstPort! >> 8, p.dstPort! & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, p.tcpFlags ?? TCP_SYN, 0xff, 0xff]);
    out.set(payload, 20);
    return out;
  }
  if (protocol === 17) {
    const out = new Uint8Array(8 + payload.length);
    out.set([p.srcPort! >> 8, p.srcPort! & 0xff, p.dstPort! >> 8, p.dstPort! & 0xff, out.length >> 8, out.length & 0xff]);
    out.set(payload, 8);
    return out;
  }
  if (protocol === 58 || protocol === 1) {
    const out = new Uint8Array(8 + payload.length);
    const icmp = p.icmp!;
    out.set([icmp.type, icmp.code, 0, 0, icmp.rest >>> 24, (icmp.rest >>> 16) & 0xff, (icmp.rest >>> 8) & 0xff, icmp.rest & 0xff]);
    out.set(payload, 8);
    return out;
  }
  return payload.slice();
}

const CHECKSUM_AT: Record<number, number> = { 6: 16, 17: 6, 58: 2, 1: 2 };

/** An IPv6 packet with a valid transport checksum (for a fragment: over the data given). */
export function ipv6(p: Packet6): Uint8Array {
  const body = upper(p.protocol, p);
  const src = v6(p.src);
  const dst = v6(p.dst);
  const at = CHECKSUM_AT[p.protocol];
  if (at !== undefined && (p.fragment === undefined || p.fragment.offset === 0)) {
    let sum = sumWords(src, 0, 16) + sumWords(dst, 0, 16) + body.length + p.protocol;
    sum = sumWords(body, 0, body.length, sum);
    const value = ~foldSum(sum) & 0xffff;
    body[at] = value >> 8;
    body[at + 1] = value & 0xff;
  }
  const extra = p.fragment === undefined ? 0 : 8;
  const out = new Uint8Array(40 + extra + body.length);
  out.set([0x60, 0, 0, 0, (extra + body.length) >> 8, (extra + body.length) & 0xff, extra ? 44 : p.protocol, p.hopLimit ?? 64]);
  out.set(src, 8);
  out.set(dst, 24);
  if (p.fragment !== undefined) {
    const f = p.fragment;
    out.set(
      [p.protocol, 0, (f.offset >> 8) & 0xff, (f.offset & 0xf8) | (f.more ? 1 : 0), f.id >>> 24, (f.id >>> 16) & 0xff, (f.id >>> 8) & 0xff, f.id & 0xff],
      40,
    );
  }
  out.set(body, 40 + extra);
  return out;
}

/** Splits the body of an unfragmented IPv6 packet into two fragments at `at` bytes (a multiple of 8). */
export function fragment6(packet: Uint8Array, at: number, id: number): [Uint8Array, Uint8Array] {
  const protocol = packet[6]!;
  const body = packet.subarray(40);
  const piece = (offset: number, data: Uint8Array, more: boolean): Uint8Array => {
    const out = new Uint8Array(48 + data.length);
    out.set(packet.subarray(0, 40));
    out[4] = (8 + data.length) >> 8;
    out[5] = (8 + data.length) & 0xff;
    out[6] = 44;
    out.set([protocol, 0, (offset >> 8) & 0xff, (offset & 0xf8) | (more ? 1 : 0), id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff], 40);
    out.set(data, 48);
    return out;
  };
  return [piece(0, body.subarray(0, at), true), piece(at, body.subarray(at), false)];
}

export interface Packet4 {
  src: string;
  dst: string;
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: number;
  icmp?: { type: number; code: number; rest: number };
  payload?: Uint8Array;
  ttl?: number;
  dontFragment?: boolean;
}

/** An IPv4 packet (no options) with valid header and transport checksums. */
export function ipv4(p: Packet4): Uint8Array {
  const body = upper(p.protocol, p);
  const src = v4(p.src);
  const dst = v4(p.dst);
  const at = CHECKSUM_AT[p.protocol];
  if (at !== undefined) {
    let sum = p.protocol === 1 ? 0 : (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + p.protocol + body.length;
    sum = sumWords(body, 0, body.length, sum);
    const value = ~foldSum(sum) & 0xffff;
    body[at] = value >> 8;
    body[at + 1] = value & 0xff;
  }
  const out = new Uint8Array(20 + body.length);
  const total = out.length;
  out.set([0x45, 0, total >> 8, total & 0xff, 0x12, 0x34, p.dontFragment ? 0x40 : 0, 0, p.ttl ?? 64, p.protocol, 0, 0]);
  out.set([src >>> 24, (src >>> 16) & 0xff, (src >>> 8) & 0xff, src & 0xff, dst >>> 24, (dst >>> 16) & 0xff, (dst >>> 8) & 0xff, dst & 0xff], 12);
  const header = ~foldSum(sumWords(out, 0, 20)) & 0xffff;
  out[10] = header >> 8;
  out[11] = header & 0xff;
  out.set(body, 20);
  return out;
}

/** Dotted text of the IPv4 address at `offset`. */
export function addr4(packet: Uint8Array, offset: number): string {
  return `${packet[offset]}.${packet[offset + 1]}.${packet[offset + 2]}.${packet[offset + 3]}`;
}

export function read16(packet: Uint8Array, offset: number): number {
  return (packet[offset]! << 8) | packet[offset + 1]!;
}

/** Whether the IPv4 header checksum and the transport checksum (TCP/UDP/ICMP) verify. */
export function checksumsValid4(packet: Uint8Array): boolean {
  if (foldSum(sumWords(packet, 0, 20)) !== 0xffff) return false;
  const protocol = packet[9]!;
  const body = packet.subarray(20, read16(packet, 2));
  if (protocol === 1) return foldSum(sumWords(body, 0, body.length)) === 0xffff;
  const pseudo = sumWords(packet, 12, 20) + protocol + body.length;
  return foldSum(sumWords(body, 0, body.length, pseudo)) === 0xffff;
}

/** Whether the transport checksum of an unfragmented IPv6 packet verifies. */
export function checksumValid6(packet: Uint8Array): boolean {
  const body = packet.subarray(40, 40 + read16(packet, 4));
  const pseudo = sumWords(packet, 8, 40) + body.length + packet[6]!;
  return foldSum(sumWords(body, 0, body.length, pseudo)) === 0xffff;
}
