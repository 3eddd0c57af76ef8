// Shared test helpers: hex literals, a translator with documentation-range addresses, one-shot
// translation into a fresh batch, and packet comparison through the graybox comparator (so that
// "IPv4 ID chosen by the translator" is expressed the same way the conformance suite does).

import { comparePacket, fromHex } from '@nat64/graybox';
import {
  Ipv4View,
  Ipv6View,
  Mapping46,
  Mapping64,
  PacketBatch,
  ParseStatus,
  Translator,
  parseIpv4,
  parseIpv6,
  type TranslatorConfig,
  type Verdict,
} from '@nat64/xlat';
import { internetChecksum, ipv6TextToBytes, pseudoHeaderSum6 } from '@nat64/wire';
import { expect } from 'vitest';

/** Joins hex fragments (whitespace allowed) into bytes. */
export function hex(...parts: string[]): Uint8Array {
  return fromHex(parts.join(''));
}

/** 2001:db8::5, an IPv6 client. */
export const CLIENT6 = ipv6TextToBytes('2001:db8::5')!;
/** 64:ff9b::198.51.100.2, the IPv4 server seen from IPv6. */
export const SERVER6 = ipv6TextToBytes('64:ff9b::198.51.100.2')!;
/** 192.0.2.2, the NAT64's IPv4 address. */
export const POOL4 = 0xc0000202;
/** 198.51.100.2, the IPv4 server. */
export const SERVER4 = 0xc6336402;

export function makeTranslator(config: Partial<TranslatorConfig> = {}): Translator {
  return new Translator({ ipv6Address: '2001:db8::1', ipv4Address: '192.0.2.1', ...config });
}

export interface Result {
  readonly verdict: Verdict;
  readonly packets: Uint8Array[];
  readonly reason: number;
}

function collect(out: PacketBatch): Uint8Array[] {
  const packets: Uint8Array[] = [];
  for (let i = 0; i < out.count; i++) packets.push(out.packet(i).slice());
  return packets;
}

/** Parses `packet` (must succeed) and translates it to IPv4 with `mapping`. */
export function run64(t: Translator, packet: Uint8Array, mapping: Mapping64, flags = 0): Result {
  const view = new Ipv6View();
  expect(parseIpv6(packet, 0, packet.length, view)).toBe(ParseStatus.ok);
  const out = new PacketBatch({ capacity: 16, maxPacketSize: 9000 });
  const verdict = t.toIpv4(view, mapping, out, flags);
  return { verdict, packets: collect(out), reason: t.reason };
}

/** Parses `packet` (must succeed) and translates it to IPv6 with `mapping`. */
export function run46(t: Translator, packet: Uint8Array, mapping: Mapping46, flags = 0): Result {
  const view = new Ipv4View();
  expect(parseIpv4(packet, 0, packet.length, view)).toBe(ParseStatus.ok);
  const out = new PacketBatch({ capacity: 16, maxPacketSize: 9000 });
  const verdict = t.toIpv6(view, mapping, out, flags);
  return { verdict, packets: collect(out), reason: t.reason };
}

/** Mapping for client 2001:db8::5 -> server 198.51.100.2 through 192.0.2.2 (ports/ids as given). */
export function outbound(srcPort = 40000, dstPort = 0, icmpId = 7): Mapping64 {
  const m = new Mapping64();
  m.src = POOL4;
  m.dst = SERVER4;
  m.srcPort = srcPort;
  m.dstPort = dstPort;
  m.icmpId = icmpId;
  return m;
}

/** Mapping for server 198.51.100.2 -> client 2001:db8::5 (ports/ids as given). */
export function inbound(srcPort = 0, dstPort = 1234, icmpId = 0x1234): Mapping46 {
  const m = new Mapping46();
  m.src.set(SERVER6);
  m.dst.set(CLIENT6);
  m.srcPort = srcPort;
  m.dstPort = dstPort;
  m.icmpId = icmpId;
  return m;
}

/**
 * Expects `actual` to equal `expected` byte for byte, except that IPv4 headers at `anyIdAt` may
 * carry any Identification as long as their header checksum verifies.
 */
export function expectPacket(actual: Uint8Array | undefined, expected: Uint8Array, anyIdAt: readonly number[] = []): void {
  expect(actual, 'packet missing').toBeDefined();
  const result = comparePacket({ bytes: expected, wildcards: anyIdAt.flatMap((at) => [at + 4, at + 5]), ipv4ChecksumValidOnlyAt: anyIdAt }, actual!);
  expect(result.ok, result.text).toBe(true);
}

/** The UDP packet 192.0.2.2#40000 -> 198.51.100.2#53 (TTL 63, "abcd") an IPv4 router would quote. */
export const QUOTED4 = hex('45000020 0000 0000 3f 11 8f95 c0000202 c6336402', '9c40 0035 000c b261', '61626364');

function writeChecksum(p: Uint8Array, at: number, value: number): void {
  p[at] = value >> 8;
  p[at + 1] = value & 0xff;
}

/**
 * An ICMPv4 error from 198.51.100.99 to 192.0.2.2: type, code, the 4 bytes after the checksum
 * (hex), the quoted packet and an optional RFC 4884 extension (length attribute set from the quote).
 */
export function icmp4Error(type: number, code: number, rest: string, quoted: Uint8Array, extension?: Uint8Array): Uint8Array {
  const icmpLength = 8 + quoted.length + (extension?.length ?? 0);
  const p = new Uint8Array(20 + icmpLength);
  p.set(hex('4500', (20 + icmpLength).toString(16).padStart(4, '0'), '0000 0000 40 01 0000 c6336463 c0000202'));
  p[20] = type;
  p[21] = code;
  p.set(hex(rest), 24);
  p.set(quoted, 28);
  if (extension !== undefined) {
    p[25] = quoted.length / 4;
    p.set(extension, 28 + quoted.length);
  }
  writeChecksum(p, 22, checksumOf(p, 20, p.length, 0));
  writeChecksum(p, 10, checksumOf(p, 0, 20, 0));
  return p;
}

/**
 * An ICMPv6 error from 2001:db8::99 to 64:ff9b::198.51.100.2: type, code, the 4 bytes after the
 * checksum (hex), the quoted packet and an optional RFC 4884 extension.
 */
export function icmp6Error(type: number, code: number, rest: string, quoted: Uint8Array, extension?: Uint8Array): Uint8Array {
  const icmpLength = 8 + quoted.length + (extension?.length ?? 0);
  const p = new Uint8Array(40 + icmpLength);
  p.set(hex('60000000', icmpLength.toString(16).padStart(4, '0'), '3a 40 20010db8000000000000000000000099 0064ff9b0000000000000000c6336402'));
  p[40] = type;
  p[41] = code;
  p.set(hex(rest), 44);
  p.set(quoted, 48);
  if (extension !== undefined) {
    p[44] = quoted.length / 8;
    p.set(extension, 48 + quoted.length);
  }
  writeChecksum(p, 42, checksumOf(p, 40, p.length, pseudoHeaderSum6(p, 8, p, 24, 58, icmpLength)));
  return p;
}

/** Internet checksum (RFC 1071) from @nat64/wire, so that test inputs do not depend on xlat's src/. */
export const checksumOf = internetChecksum;

/** Mapping for an ICMPv4 error from router 198.51.100.99 about QUOTED4, back to the IPv6 client. */
export function errorInbound(): Mapping46 {
  const m = inbound(0, 0, 0);
  m.src.set(ipv6TextToBytes('64:ff9b::198.51.100.99')!);
  m.innerSrc.set(CLIENT6);
  m.innerDst.set(SERVER6);
  m.innerSrcPort = 1234;
  m.innerDstPort = 53;
  return m;
}

/** Mapping for an ICMPv6 error from router 2001:db8::99 about QUOTED6 reversed, to the IPv4 server. */
export function errorOutbound(): Mapping64 {
  const m = outbound(0, 0, 0);
  m.innerSrc = SERVER4;
  m.innerDst = POOL4;
  m.innerSrcPort = 53;
  m.innerDstPort = 40000;
  return m;
}

/** QUOTED6 the other way round: 64:ff9b::198.51.100.2#53 -> 2001:db8::5#1234, hop limit 63. */
export const QUOTED6_REVERSE = hex('60000000 000c 11 3f 0064ff9b0000000000000000c6336402 20010db8000000000000000000000005', '0035 04d2 000c de14', '61626364');
