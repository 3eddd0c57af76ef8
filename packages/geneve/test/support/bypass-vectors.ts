// Golden NAT64 bypass packets (docs/protocol/nat64-bypass.md §10), derived outside this code base
// by a separate Python script (hmac, hashlib, struct): the offer a gateway sends and the Neighbor
// Advertisement a server answers with, as Geneve UDP payloads.
//
// Gateway 192.0.2.1 with link-local fe80::1 on the tunnel; server 203.0.113.5, prefix
// 64:ff9b::/96, so clients use 64:ff9b::cb00:7105; server TAP MAC 02:00:00:00:00:05.
import { bytes } from './bytes.js';

export const SERVER4 = 0xcb007105;
/** Persistent secret 0x00..0x1f, transient secret 0x20..0x3f. */
export const PERSISTENT_SECRET = Uint8Array.from({ length: 32 }, (_, i) => i);
export const TRANSIENT_SECRET = Uint8Array.from({ length: 32 }, (_, i) => 32 + i);
/** HMAC-SHA-256(persistent, "NAT64 bypass VNI" || cb 00 71 05), leftmost 24 bits. */
export const BYPASS_VNI = 0x48b25c;
/** HMAC-SHA-256(transient, "NAT64 bypass MAC" || cb 00 71 05), leftmost 48 bits, U/L set, I/G clear. */
export const GATEWAY_MAC = bytes('b2 55 e1 78 1c b0');
export const SERVER_MAC = bytes('02 00 00 00 00 05');
export const GATEWAY_LINK_LOCAL = bytes('fe80 0000 0000 0000 0000 0000 0000 0001');
export const TARGET = bytes('0064 ff9b 0000 0000 0000 0000 cb00 7105');
export const SOLICITED_NODE = bytes('ff02 0000 0000 0000 0000 0001 ff00 7105');
export const MESSAGE = 'NAT64 bypass: nat64.example.net';

/** The bypass option with MESSAGE: 31 bytes of UTF-8 and one 0xFF (8 words). */
export const OFFER_OPTION = bytes('01 62 00 08', '4e 41 54 36 34 20 62 79 70 61 73 73 3a 20 6e 61 74 36 34 2e 65 78 61 6d 70 6c 65 2e 6e 65 74 ff');

export const NS_FRAME = bytes(
  '33 33 ff 00 71 05', // to the solicited-node multicast MAC
  GATEWAY_MAC,
  '86 dd',
  '60 00 00 00 00 20 3a ff', // IPv6, payload 32, ICMPv6, hop limit 255
  GATEWAY_LINK_LOCAL,
  SOLICITED_NODE,
  '87 00 1d 93 00 00 00 00', // NS, code 0, checksum, reserved
  TARGET,
  '01 01', // Source Link-Layer Address option, 1 unit
  GATEWAY_MAC,
);

export const OFFER = bytes(
  '09 00 65 58', // Ver 0, Opt Len 9 words, Protocol Type 0x6558
  '48 b2 5c 00', // VNI, Reserved
  OFFER_OPTION,
  NS_FRAME,
);

export const NA_FRAME = bytes(
  GATEWAY_MAC,
  SERVER_MAC,
  '86 dd',
  '60 00 00 00 00 20 3a ff',
  TARGET,
  GATEWAY_LINK_LOCAL,
  '88 00 9d 10 60 00 00 00', // NA, checksum, Solicited | Override
  TARGET,
  '02 01', // Target Link-Layer Address option
  SERVER_MAC,
);

/** The server's answer: no option (bypass §3.1). */
export const NA_REPLY = bytes('00 00 65 58', '48 b2 5c 00', NA_FRAME);
