// What the kernel makes of a GSO packet written with a virtio-net header (skb_segment with
// __udp_gso_segment or tcp_gso_segment, then inet_gso_segment or ipv6_gso_segment): the headers
// copied in front of every gso_size bytes of payload, lengths set, the IPv4 Identification counted
// up from the first segment's, TCP sequence numbers advanced and PSH left on the last segment, every
// checksum computed in full. A packet without GSO comes back as it is, its checksum completed when
// VIRTIO_NET_HDR_F_NEEDS_CSUM asks for it.
import { VnetFlag, VnetGso, VnetOffset, readVnetU16 } from '../../src/vnet.js';

function sum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let s = initial;
  let i = start;
  for (; i + 1 < end; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) s += bytes[i]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function put16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = (value >>> 8) & 0xff;
  bytes[at + 1] = value & 0xff;
}

/** Fills in the IPv4 header checksum and the transport checksum of a complete packet. */
export function fillChecksums(packet: Uint8Array): Uint8Array {
  const four = packet[0]! >>> 4 === 4;
  const l3 = four ? 20 : 40;
  const protocol = four ? packet[9]! : packet[6]!;
  if (four) {
    put16(packet, 10, 0);
    put16(packet, 10, ~sum(packet, 0, 20) & 0xffff);
  }
  const field = l3 + (protocol === 17 ? 6 : 16);
  put16(packet, field, 0);
  const pseudo = (four ? sum(packet, 12, 20) : sum(packet, 8, 40)) + protocol + (packet.length - l3);
  let check = ~sum(packet, l3, packet.length, pseudo) & 0xffff;
  if (protocol === 17 && check === 0) check = 0xffff;
  put16(packet, field, check);
  return packet;
}

export function segment(packet: Uint8Array, header: Uint8Array): Uint8Array[] {
  const gso = header[VnetOffset.GSO_TYPE]!;
  if (gso === VnetGso.NONE) {
    return [(header[VnetOffset.FLAGS]! & VnetFlag.NEEDS_CSUM) !== 0 ? fillChecksums(packet.slice()) : packet.slice()];
  }
  const hdrLen = readVnetU16(header, VnetOffset.HDR_LEN);
  const size = readVnetU16(header, VnetOffset.GSO_SIZE);
  const four = packet[0]! >>> 4 === 4;
  const l3 = four ? 20 : 40;
  const segments: Uint8Array[] = [];
  const id = (packet[4]! << 8) | packet[5]!;
  const seq = ((packet[l3 + 4]! << 24) | (packet[l3 + 5]! << 16) | (packet[l3 + 6]! << 8) | packet[l3 + 7]!) >>> 0;
  for (let at = hdrLen, k = 0; at < packet.length; at += size, k++) {
    const end = Math.min(at + size, packet.length);
    const out = new Uint8Array(hdrLen + end - at);
    out.set(packet.subarray(0, hdrLen), 0);
    out.set(packet.subarray(at, end), hdrLen);
    if (four) {
      put16(out, 2, out.length);
      put16(out, 4, (id + k) & 0xffff);
    } else {
      put16(out, 4, out.length - 40);
    }
    if (gso === VnetGso.UDP_L4) {
      put16(out, l3 + 4, out.length - l3);
    } else {
      const s = (seq + k * size) >>> 0;
      put16(out, l3 + 4, s >>> 16);
      put16(out, l3 + 6, s & 0xffff);
      if (end < packet.length) out[l3 + 13] = out[l3 + 13]! & ~0x09;
    }
    segments.push(fillChecksums(out));
  }
  return segments;
}
