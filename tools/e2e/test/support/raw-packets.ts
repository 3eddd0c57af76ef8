// Raw IPv6 and IPv4 packets built field by field (RFC 8200, RFC 791, RFC 768, RFC 792/4443), with valid
// checksums unless a test spoils them: what the martian end-to-end test injects on the kernel side of
// the gateway's TUN device. Addresses are text here, at the test's boundary.

import { isIPv4, isIPv6 } from 'node:net';

function bytes6(text: string): Uint8Array {
  if (!isIPv6(text)) throw new Error(`not an IPv6 address: ${text}`);
  const [head = '', tail = ''] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = text.includes('::') ? groups(tail) : [];
  const all = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return Uint8Array.from(all.flatMap((g) => [g >> 8, g & 0xff]));
}

function bytes4(text: string): Uint8Array {
  if (!isIPv4(text)) throw new Error(`not an IPv4 address: ${text}`);
  return Uint8Array.from(text.split('.').map(Number));
}

function sum(data: Uint8Array, start = 0, end = data.length, initial = 0): number {
  let s = initial;
  for (let i = start; i < end; i += 2) s += (data[i]! << 8) | (i + 1 < end ? data[i + 1]! : 0);
  return s;
}

function finish(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

function put16(p: Uint8Array, at: number, value: number): void {
  p[at] = value >> 8;
  p[at + 1] = value & 0xff;
}

export function read16(p: Uint8Array, at: number): number {
  return (p[at]! << 8) | p[at + 1]!;
}

/** UDP header and payload, checksum zero until the IP layer fills it in. */
function udpBody(srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const body = new Uint8Array(8 + payload.length);
  put16(body, 0, srcPort);
  put16(body, 2, dstPort);
  put16(body, 4, body.length);
  body.set(payload, 8);
  return body;
}

/** An IPv6 packet with `body` after the header (next header `protocol`); fills in a UDP or ICMPv6 checksum. */
function ipv6(src: string, dst: string, protocol: number, body: Uint8Array, checksumAt = -1): Uint8Array {
  const p = new Uint8Array(40 + body.length);
  p.set([0x60, 0, 0, 0], 0);
  put16(p, 4, body.length);
  p[6] = protocol;
  p[7] = 64;
  p.set(bytes6(src), 8);
  p.set(bytes6(dst), 24);
  p.set(body, 40);
  if (checksumAt >= 0) {
    const value = finish(sum(p, 40, p.length, sum(p, 8, 40) + body.length + protocol));
    put16(p, 40 + checksumAt, protocol === 17 && value === 0 ? 0xffff : value);
  }
  return p;
}

export function udp6(src: string, dst: string, srcPort: number, dstPort: number, payload = new Uint8Array(16).fill(0x61)): Uint8Array {
  return ipv6(src, dst, 17, udpBody(srcPort, dstPort, payload), 6);
}

/** An ICMPv6 error (type, code) quoting `quoted`. */
export function icmp6Error(src: string, dst: string, type: number, code: number, quoted: Uint8Array): Uint8Array {
  const body = new Uint8Array(8 + quoted.length);
  body[0] = type;
  body[1] = code;
  body.set(quoted, 8);
  return ipv6(src, dst, 58, body, 2);
}

/**
 * The fragments of an unfragmented IPv6 packet, its upper-layer data split at the given byte offsets
 * (multiples of 8), all with Fragment ID `id`.
 */
export function fragments6(packet: Uint8Array, cuts: readonly number[], id: number): Uint8Array[] {
  const data = packet.subarray(40);
  const bounds = [0, ...cuts, data.length];
  return bounds.slice(0, -1).map((from, k) => fragment6(packet, from, data.subarray(from, bounds[k + 1]), k < bounds.length - 2, id));
}

/** One IPv6 fragment of `packet`'s datagram: `data` at byte `offset`, M as given. */
export function fragment6(packet: Uint8Array, offset: number, data: Uint8Array, more: boolean, id: number): Uint8Array {
  const p = new Uint8Array(48 + data.length);
  p.set(packet.subarray(0, 40));
  put16(p, 4, 8 + data.length);
  p[6] = 44;
  p[40] = packet[6]!;
  put16(p, 42, (offset & 0xfff8) | (more ? 1 : 0));
  p.set([id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff], 44);
  p.set(data, 48);
  return p;
}

/** An IPv4 packet with `body` after a 20-byte header; fills in a UDP or ICMP checksum at `checksumAt`. */
function ipv4(src: string, dst: string, protocol: number, body: Uint8Array, checksumAt: number, flags = 0): Uint8Array {
  const p = new Uint8Array(20 + body.length);
  p.set([0x45, 0], 0);
  put16(p, 2, p.length);
  put16(p, 4, 0x1234);
  put16(p, 6, flags);
  p[8] = 64;
  p[9] = protocol;
  p.set(bytes4(src), 12);
  p.set(bytes4(dst), 16);
  p.set(body, 20);
  const pseudo = protocol === 1 ? 0 : sum(p, 12, 20) + protocol + body.length;
  const value = finish(sum(p, 20, p.length, pseudo));
  put16(p, 20 + checksumAt, protocol === 17 && value === 0 ? 0xffff : value);
  put16(p, 10, finish(sum(p, 0, 20)));
  return p;
}

export function udp4(src: string, dst: string, srcPort: number, dstPort: number, payload = new Uint8Array(16).fill(0x62)): Uint8Array {
  return ipv4(src, dst, 17, udpBody(srcPort, dstPort, payload), 6);
}

/** IPv4 UDP without checksum (RFC 768 "no checksum"); `moreFragments` makes it a first fragment. */
export function udp4WithoutChecksum(src: string, dst: string, srcPort: number, dstPort: number, moreFragments: boolean): Uint8Array {
  const p = udp4(src, dst, srcPort, dstPort);
  put16(p, 26, 0);
  put16(p, 6, moreFragments ? 0x2000 : 0);
  put16(p, 10, 0);
  put16(p, 10, finish(sum(p, 0, 20)));
  return p;
}

/** An ICMPv4 error (type, code) quoting `quoted`. */
export function icmp4Error(src: string, dst: string, type: number, code: number, quoted: Uint8Array): Uint8Array {
  const body = new Uint8Array(8 + quoted.length);
  body[0] = type;
  body[1] = code;
  body.set(quoted, 8);
  return ipv4(src, dst, 1, body, 2);
}

/** A copy with one bit of its last byte flipped: any checksum over it no longer verifies. */
export function corrupted(packet: Uint8Array): Uint8Array {
  const copy = packet.slice();
  copy[copy.length - 1]! ^= 0x04;
  return copy;
}
