// The packet the in-process benchmarks feed the engine as a new client flow: 64 bytes of IPv6 UDP
// from 2001:db8:1:<round>::<client> to 2001:db8:64::203.0.113.99 port 9, its checksum filled.
import { finishUdpChecksum, pseudoHeaderSum6, sumWords } from '@nat64/wire';

export const CLIENT_PACKET_BYTES = 64;

const TEMPLATE = new Uint8Array(CLIENT_PACKET_BYTES);
TEMPLATE.set([0x60, 0, 0, 0, 0, 24, 17, 64]);
TEMPLATE.set([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 8);
TEMPLATE.set([0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 203, 0, 113, 99], 24);
TEMPLATE.set([0, 0, 0, 9, 0, 24, 0, 0], 40);

/** Writes the packet of client number `client` (below 65,536) in `round`, from `sourcePort`, at buf[at]. */
export function writeClientPacket(buf: Uint8Array, at: number, round: number, client: number, sourcePort: number): void {
  buf.set(TEMPLATE, at);
  buf[at + 20] = round;
  buf[at + 22] = client >> 8;
  buf[at + 23] = client & 0xff;
  buf[at + 40] = sourcePort >> 8;
  buf[at + 41] = sourcePort & 0xff;
  const sum = finishUdpChecksum(sumWords(buf, at + 40, at + 64, pseudoHeaderSum6(buf, at + 8, buf, at + 24, 17, 24)));
  buf[at + 46] = sum >> 8;
  buf[at + 47] = sum & 0xff;
}
