// The virtio-net header (struct virtio_net_hdr, include/uapi/linux/virtio_net.h) that a TUN device
// opened with offload puts in front of every packet, both ways. Little-endian on the hosts this
// runs on (the legacy virtio byte order of x86 and arm64).
//
//   0 flags  1 gso_type  2-3 hdr_len  4-5 gso_size  6-7 csum_start  8-9 csum_offset

export const VNET_HEADER_SIZE = 10;

export const VnetFlag = {
  /** The checksum at csum_start + csum_offset holds only the pseudo-header sum; the rest is to be added. */
  NEEDS_CSUM: 1,
  DATA_VALID: 2,
} as const;

export const VnetGso = {
  NONE: 0,
  TCPV4: 1,
  TCPV6: 4,
  UDP_L4: 5,
  /** Or-ed into the type: the segments carry ECN's CWR the way TSO_ECN expects. */
  ECN: 0x80,
} as const;

export const VnetOffset = {
  FLAGS: 0,
  GSO_TYPE: 1,
  HDR_LEN: 2,
  GSO_SIZE: 4,
  CSUM_START: 6,
  CSUM_OFFSET: 8,
} as const;

export function readVnetU16(headers: Uint8Array, at: number): number {
  return headers[at]! | (headers[at + 1]! << 8);
}

export function writeVnetU16(headers: Uint8Array, at: number, value: number): void {
  headers[at] = value & 0xff;
  headers[at + 1] = (value >>> 8) & 0xff;
}

/**
 * Fills the header at `at` for a packet whose checksum at csumStart + csumOffset holds only the
 * pseudo-header sum (NEEDS_CSUM), to be segmented by `gsoType` into `gsoSize`-byte payloads behind
 * `hdrLen` bytes of headers (VnetGso.NONE: one packet).
 */
export function writePartialChecksumHeader(
  headers: Uint8Array,
  at: number,
  gsoType: number,
  hdrLen: number,
  gsoSize: number,
  csumStart: number,
  csumOffset: number,
): void {
  headers[at + VnetOffset.FLAGS] = VnetFlag.NEEDS_CSUM;
  headers[at + VnetOffset.GSO_TYPE] = gsoType;
  writeVnetU16(headers, at + VnetOffset.HDR_LEN, hdrLen);
  writeVnetU16(headers, at + VnetOffset.GSO_SIZE, gsoSize);
  writeVnetU16(headers, at + VnetOffset.CSUM_START, csumStart);
  writeVnetU16(headers, at + VnetOffset.CSUM_OFFSET, csumOffset);
}
