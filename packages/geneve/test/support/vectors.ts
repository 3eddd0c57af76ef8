// Golden packets, written out byte by byte from RFC 8926 and docs/protocol/geneve-options.md.
// Checksums, the flow-hash source port and the HMAC tags were derived outside this code base (a
// separate Python script; the tags also with `openssl dgst -sha256 -mac HMAC`); the tests verify
// the checksums again with their own sum.
//
// Topology of every vector: gateway 192.0.2.1 / 2001:db8::1 sends to the receiver on server
// 203.0.113.5 / 2001:db8::5, VNI 0x123456, option class 0xFF64, TTL 64, flow-hash seed 0. The
// inner packet is a NAT64-translated UDP datagram 198.51.100.10:40000 -> 203.0.113.5:53 "ping".
import { bytes } from './bytes.js';

export const GATEWAY4 = 0xc0000201;
export const SERVER4 = 0xcb007105;
export const GATEWAY4_BYTES = bytes('c0 00 02 01');
export const SERVER4_BYTES = bytes('cb 00 71 05');
export const GATEWAY6 = bytes('2001 0db8 0000 0000 0000 0000 0000 0001');
export const SERVER6 = bytes('2001 0db8 0000 0000 0000 0000 0000 0005');
export const VNI = 0x123456;
/** The shared key of the auth vectors: bytes 0x00..0x1f, Key ID 1. */
export const AUTH_SECRET = Uint8Array.from({ length: 32 }, (_, i) => i);
export const AUTH_KEY_ID = 1;

export const INNER = bytes(
  '45 00 00 20', // IPv4, IHL 5, TOS 0, Total Length 32
  '12 34 40 00', // Identification 0x1234, DF
  '3f 11 c3 55', // TTL 63, UDP, header checksum
  'c6 33 64 0a', // 198.51.100.10
  'cb 00 71 05', // 203.0.113.5
  '9c 40 00 35', // UDP 40000 -> 53
  '00 0c 1e 4c', // Length 12, checksum
  '70 69 6e 67', // "ping"
);

/** An opaque stand-in for a handoff v1 datagram in a control packet. */
export const CONTROL_PAYLOAD = bytes('de ad be ef 00 01 02 03');

/** UDP/17, created, NAT 198.51.100.10:40000, client [2001:db8:1::42]:5353, created 1700000000123456 us. */
export const MAPPING_DATA = bytes(
  '11 01 00 00', // Protocol 17, Event 1 (created), Reserved
  'c6 33 64 0a', // NAT IPv4 Address 198.51.100.10
  '9c 40 14 e9', // NAT Port 40000, Client Port 5353
  '20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 42', // Client IPv6 Address 2001:db8:1::42
  '00 06 0a 24 18 20 22 40', // Creation Time 1700000000123456 us
);
export const MAPPING_OPTION = bytes('ff 64 01 09', MAPPING_DATA); // class 0xFF64, type 1, 9 words

export const MAPPING_VALUE = {
  protocol: 17,
  event: 1 as const,
  natAddress: 0xc633640a,
  natPort: 40000,
  clientAddress: bytes('2001 0db8 0001 0000 0000 0000 0000 0042'),
  clientPort: 5353,
  creationTimeUs: 1_700_000_000_123_456,
};

/** HMAC-SHA-256 tags, leftmost 16 bytes, over the whole Geneve packet with the tag zeroed. */
export const DATA_TAG = bytes('77 ee 5b 07 44 7f 79 d7 93 5b 32 93 4f 2c a0 2b');
export const CONTROL_TAG = bytes('37 b2 ce 04 dc a3 f6 5d 41 f8 09 44 28 3a 42 b6');

/** Geneve headers and options (the UDP payload without the inner packet). */
export const GENEVE_PLAIN = bytes(
  '00 00 08 00', // Ver 0, Opt Len 0, O 0, C 0, Protocol Type IPv4
  '12 34 56 00', // VNI 0x123456, Reserved
);
export const GENEVE_MAPPING = bytes('0a 00 08 00', '12 34 56 00', MAPPING_OPTION); // Opt Len 10 words
export const GENEVE_AUTH = bytes(
  '06 00 08 00', // Opt Len 6 words
  '12 34 56 00',
  'ff 64 02 05', // class 0xFF64, type 2 (auth), 5 words
  '01 00 00 00', // Key ID 1, Reserved
  DATA_TAG,
);
export const GENEVE_CONTROL = bytes(
  '06 80 88 b5', // Opt Len 6, O set, Protocol Type 0x88B5 (local experimental)
  '12 34 56 00',
  'ff 64 02 05',
  '01 00 00 00',
  CONTROL_TAG,
);

/** Source port 54345 = 0xd449 for the inner flow; 56537 = 0xdcd9 for control (seed-only hash). */
const UDP_DATA_PORTS = 'd4 49 17 c1';
const UDP_CONTROL_PORTS = 'dc d9 17 c1';

function ipv4(totalLength: string, checksum: string): Uint8Array {
  return bytes(`45 00 ${totalLength}`, '00 00 40 00', `40 11 ${checksum}`, GATEWAY4_BYTES, SERVER4_BYTES);
}
function ipv6(flow: string, payloadLength: string): Uint8Array {
  return bytes(flow, `${payloadLength} 11 40`, GATEWAY6, SERVER6); // Next Header UDP, Hop Limit 64
}

export interface GoldenPacket {
  name: string;
  family: 4 | 6;
  packet: Uint8Array;
  /** Offset of the Geneve header (end of the UDP header). */
  geneveOffset: number;
  payload: Uint8Array;
  withMapping: boolean;
  withAuth: boolean;
  control: boolean;
}

const golden = (
  name: string,
  family: 4 | 6,
  outer: Uint8Array,
  udp: string,
  geneve: Uint8Array,
  payload: Uint8Array,
  flags: { mapping?: boolean; auth?: boolean; control?: boolean },
): GoldenPacket => ({
  name,
  family,
  packet: bytes(outer, udp, geneve, payload),
  geneveOffset: outer.length + 8,
  payload,
  withMapping: flags.mapping ?? false,
  withAuth: flags.auth ?? false,
  control: flags.control ?? false,
});

export const GOLDEN: readonly GoldenPacket[] = [
  // IPv4 Total Length 68, UDP Length 48
  golden('plain over IPv4', 4, ipv4('00 44', '3c a2'), `${UDP_DATA_PORTS} 00 30 0b a9`, GENEVE_PLAIN, INNER, {}),
  // Flow Label 0xe5127 (low 20 bits of the flow hash 0x856e5127)
  golden('plain over IPv6', 6, ipv6('60 0e 51 27', '00 30'), `${UDP_DATA_PORTS} 00 30 ae 38`, GENEVE_PLAIN, INNER, {}),
  golden('mapping over IPv4', 4, ipv4('00 6c', '3c 7a'), `${UDP_DATA_PORTS} 00 58 a1 fb`, GENEVE_MAPPING, INNER, { mapping: true }),
  golden('mapping over IPv6', 6, ipv6('60 0e 51 27', '00 58'), `${UDP_DATA_PORTS} 00 58 44 8b`, GENEVE_MAPPING, INNER, { mapping: true }),
  golden('auth over IPv4', 4, ipv4('00 5c', '3c 8a'), `${UDP_DATA_PORTS} 00 48 bc 7b`, GENEVE_AUTH, INNER, { auth: true }),
  golden('auth over IPv6', 6, ipv6('60 0e 51 27', '00 48'), `${UDP_DATA_PORTS} 00 48 5f 0b`, GENEVE_AUTH, INNER, { auth: true }),
  golden('control over IPv4', 4, ipv4('00 44', '3c a2'), `${UDP_CONTROL_PORTS} 00 30 e4 90`, GENEVE_CONTROL, CONTROL_PAYLOAD, { auth: true, control: true }),
  // Flow Label 0xc9dc5 (the seed-only hash 0x811c9dc5)
  golden('control over IPv6', 6, ipv6('60 0c 9d c5', '00 30'), `${UDP_CONTROL_PORTS} 00 30 87 20`, GENEVE_CONTROL, CONTROL_PAYLOAD, {
    auth: true,
    control: true,
  }),
];
