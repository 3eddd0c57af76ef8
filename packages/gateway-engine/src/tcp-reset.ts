// A TCP RST for the IPv6 sender of a segment (RFC 9293 3.10.7.1, "If the connection does not exist"):
// from the segment's destination to its source, with SEQ = the segment's ACK number when it carries
// one, otherwise SEQ 0 and ACK = its SEQ plus its length. The gateway sends it when a connection
// whose client spoke first after a hand-off cannot come back (its NAT port went to another client),
// so that the client learns at once instead of retransmitting into silence.
import { finishChecksum, pseudoHeaderSum6, sumWords } from '@nat64/wire';
import type { Ipv6View } from '@nat64/xlat';

const IPV6_HEADER = 40;
const TCP_HEADER = 20;
/** Bytes of the RST this module writes. */
export const TCP_RESET_LENGTH = IPV6_HEADER + TCP_HEADER;
const TCP = 6;
const FLAG_FIN = 0x01;
const FLAG_SYN = 0x02;
const FLAG_RST = 0x04;
const FLAG_ACK = 0x10;

/**
 * Writes the RST answering the TCP segment in `v` at out[at]; returns its length, or 0 when none is
 * due (the segment is itself a RST, or its TCP header is not all there).
 */
export function writeTcpReset(v: Ipv6View, out: Uint8Array, at: number): number {
  const buf = v.buf;
  const l4 = v.l4Offset;
  if (v.protocol !== TCP || v.end - l4 < TCP_HEADER) return 0;
  const flags = buf[l4 + 13]!;
  if ((flags & FLAG_RST) !== 0) return 0;
  const dataOffset = (buf[l4 + 12]! >>> 4) * 4;
  const segmentLength = Math.max(0, v.end - l4 - dataOffset) + ((flags & FLAG_SYN) !== 0 ? 1 : 0) + ((flags & FLAG_FIN) !== 0 ? 1 : 0);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const input = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // IPv6 header: version 6, no traffic class or flow label, payload 20, next header TCP, hop limit 64.
  view.setUint32(at, 0x6000_0000);
  view.setUint16(at + 4, TCP_HEADER);
  out[at + 6] = TCP;
  out[at + 7] = 64;
  out.set(buf.subarray(v.dstOffset, v.dstOffset + 16), at + 8);
  out.set(buf.subarray(v.srcOffset, v.srcOffset + 16), at + 24);
  const t = at + IPV6_HEADER;
  view.setUint16(t, input.getUint16(l4 + 2));
  view.setUint16(t + 2, input.getUint16(l4));
  if ((flags & FLAG_ACK) !== 0) {
    view.setUint32(t + 4, input.getUint32(l4 + 8));
    view.setUint32(t + 8, 0);
    out[t + 13] = FLAG_RST;
  } else {
    view.setUint32(t + 4, 0);
    view.setUint32(t + 8, (input.getUint32(l4 + 4) + segmentLength) >>> 0);
    out[t + 13] = FLAG_RST | FLAG_ACK;
  }
  out[t + 12] = (TCP_HEADER / 4) << 4;
  view.setUint16(t + 14, 0);
  view.setUint32(t + 16, 0);
  const sum = pseudoHeaderSum6(out, at + 8, out, at + 24, TCP, TCP_HEADER) + sumWords(out, t, t + TCP_HEADER);
  view.setUint16(t + 16, finishChecksum(sum));
  return TCP_RESET_LENGTH;
}
