import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseStatus, parseIpv4, parseIpv6 } from '../src/parse.js';
import { Ipv4View, Ipv6View } from '../src/view.js';
import { checksumOf, hex } from './support.js';

const SRC6 = '20010db8000000000000000000000005'; // 2001:db8::5
const DST6 = '0064ff9b0000000000000000c6336402'; // 64:ff9b::198.51.100.2
const UDP12 = '04d20035000cde14 61626364'; // UDP 1234 -> 53, length 12, checksum, "abcd"

/** An IPv6 header with the given payload length (hex, 4 digits) and next header (hex, 2 digits). */
const ip6 = (payloadLength: string, nextHeader: string, hopLimit = '40'): string => `60000000 ${payloadLength} ${nextHeader} ${hopLimit} ${SRC6} ${DST6}`;

// RFC 8200 4.3/4.6 Hop-by-Hop and Destination Options with one PadN option; 4.4 Routing type 0,
// segments left 0, one address; then UDP. Payload 8 + 8 + 24 + 12 = 52.
const HBH_DST_RT = hex(
  ip6('0034', '00'),
  '3c00 0104 00000000', // Hop-by-Hop: next Destination Options, PadN(4)
  '2b00 0104 00000000', // Destination Options: next Routing, PadN(4)
  '1102 0000 00000000', // Routing: next UDP, 24 bytes, type 0, segments left 0
  SRC6,
  UDP12,
);

describe('parse', () => {
  it('reads the IPv6 header and UDP ports', () => {
    const v = new Ipv6View();
    const packet = hex(ip6('000c', '11'), UDP12);
    expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v).toMatchObject({ start: 0, end: 52, totalLength: 52, hopLimit: 64, protocol: 17, l4Offset: 40 });
    expect(v).toMatchObject({ srcPort: 1234, dstPort: 53, hasPorts: true, hasChecksum: true, fragmentHeaderOffset: -1 });
    expect(v.srcOffset).toBe(8);
    expect(v.dstOffset).toBe(24);
  });

  it('reads traffic class and flow label', () => {
    const v = new Ipv6View();
    const packet = hex('6b812345 000c 11 40', SRC6, DST6, UDP12); // TC 0xb8, flow label 0x12345
    expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v.trafficClass).toBe(0xb8);
    expect(v.flowLabel).toBe(0x12345);
  });

  it('parses a packet at an offset inside a larger buffer and ignores trailing bytes', () => {
    const v = new Ipv6View();
    const packet = hex('ffff ffff', ip6('000c', '11'), UDP12, 'eeee');
    expect(parseIpv6(packet, 4, packet.length - 4, v)).toBe(ParseStatus.ok);
    expect(v).toMatchObject({ start: 4, end: 56, l4Offset: 44, srcPort: 1234 });
  });

  it('skips Hop-by-Hop, Destination Options and a Routing header with Segments Left 0', () => {
    const v = new Ipv6View();
    expect(parseIpv6(HBH_DST_RT, 0, HBH_DST_RT.length, v)).toBe(ParseStatus.ok);
    expect(v).toMatchObject({ protocol: 17, l4Offset: 40 + 8 + 8 + 24, srcPort: 1234, segmentsLeftPointer: -1 });
  });

  it('points at the Segments Left field of a Routing header that is not done', () => {
    const v = new Ipv6View();
    const packet = hex(ip6('0024', '2b'), '1102 0001 00000000', SRC6, UDP12); // segments left 1
    expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v.segmentsLeftPointer).toBe(40 + 3);
  });

  it('reads a first fragment', () => {
    const v = new Ipv6View();
    const packet = hex(ip6('0014', '2c'), '1100 0001 01020304', UDP12); // offset 0, M=1, ID 0x01020304
    expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v).toMatchObject({ fragmentHeaderOffset: 40, fragmentOffset: 0, moreFragments: true, fragmentId: 0x01020304 });
    expect(v).toMatchObject({ protocol: 17, l4Offset: 48, srcPort: 1234, isFragment: true, isFirstFragment: true });
  });

  it('reads a non-first fragment without looking for a transport header', () => {
    const v = new Ipv6View();
    const packet = hex(ip6('0010', '2c'), '0600 0041 0000abcd', '0102030405060708'); // offset 8 units, M=1, TCP
    expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v).toMatchObject({ fragmentOffset: 64, moreFragments: true, fragmentId: 0xabcd, protocol: 6, l4Offset: 48, hasPorts: false });
    expect(v.isFirstFragment).toBe(false);
  });

  it('treats an atomic fragment as unfragmented but remembers its Fragment header', () => {
    const v = new Ipv6View();
    const packet = hex(ip6('0014', '2c'), '1100 0000 01020408', UDP12);
    expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v.hasFragmentHeader).toBe(true);
    expect(v.isAtomicFragment).toBe(true);
    expect(v.isFragment).toBe(false);
  });

  it('flags an extension header after the Fragment header (RFC 7915 5.1)', () => {
    const v = new Ipv6View();
    const packet = hex(ip6('001c', '2c'), '3c00 0001 00000000', '1100 0104 00000000', UDP12);
    expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v.extensionAfterFragment).toBe(true);
    expect(v.protocol).toBe(0x3c);
  });

  it('does not count ESP after a Fragment header as an extension header', () => {
    const v = new Ipv6View();
    const packet = hex(ip6('0010', '2c'), '3200 0001 00000000', '0000000100000001'); // next header 50
    expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v.extensionAfterFragment).toBe(false);
    expect(v.protocol).toBe(50);
  });

  it('treats a second Fragment header as an extension header after the first', () => {
    const v = new Ipv6View();
    const packet = hex(ip6('001c', '2c'), '2c00 0001 00000000', '1100 0001 00000000', UDP12);
    expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v.extensionAfterFragment).toBe(true);
  });

  it('refuses a packet whose version is not 6', () => {
    const packet = hex('40000000 000c 11 40', SRC6, DST6, UDP12);
    expect(parseIpv6(packet, 0, packet.length, new Ipv6View())).toBe(ParseStatus.badVersion);
  });

  it('reports truncation, never throws, when an IPv6 packet is cut at any byte', () => {
    const v = new Ipv6View();
    for (let length = 0; length < HBH_DST_RT.length; length++) {
      expect(parseIpv6(HBH_DST_RT, 0, length, v), `cut at ${length}`).toBe(ParseStatus.truncated);
    }
  });

  it('reports truncation when the extension chain runs past the payload length', () => {
    const v = new Ipv6View();
    // Payload length 4 while Hop-by-Hop alone needs 8; then payload length 12 for a 24-byte Routing header.
    expect(parseIpv6(hex(ip6('0004', '00'), '3c000104'), 0, 44, v)).toBe(ParseStatus.truncated);
    const rt = hex(ip6('000c', '2b'), '1102 0000 00000000 00000000');
    expect(parseIpv6(rt, 0, rt.length, v)).toBe(ParseStatus.truncated);
  });

  it('reports truncation at every header boundary of a first fragment', () => {
    const packet = hex(ip6('0014', '2c'), '1100 0001 01020304', UDP12);
    for (const cut of [39, 40, 47, 48, 55]) {
      // Same bytes, but the IPv6 payload length claims only what is left.
      const short = packet.slice(0, cut);
      if (cut >= 6) short[5] = Math.max(0, cut - 40);
      expect(parseIpv6(short, 0, short.length, new Ipv6View()), `cut at ${cut}`).toBe(ParseStatus.truncated);
    }
  });

  it('reads the IPv4 header, flags and UDP ports', () => {
    const v = new Ipv4View();
    const packet = hex('45000020 0000 4000 40 11 4e95 c6336402 c0000202', '00359c40000cb261 61626364');
    expect(parseIpv4(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v).toMatchObject({ headerLength: 20, totalLength: 32, dontFragment: true, moreFragments: false, hopLimit: 64, protocol: 17 });
    expect(v).toMatchObject({ src: 0xc6336402, dst: 0xc0000202, srcPort: 53, dstPort: 40000, l4Offset: 20, end: 32 });
  });

  it('refuses an IPv4 header whose checksum does not verify', () => {
    const packet = hex('45000020 0000 4000 40 11 4e96 c6336402 c0000202', '00359c40000cb261 61626364');
    expect(parseIpv4(packet, 0, packet.length, new Ipv4View())).toBe(ParseStatus.badIpv4Checksum);
  });

  it('refuses inconsistent IPv4 length fields', () => {
    expect(parseIpv4(hex('44000020 0000 4000 40 11 0000 c6336402 c0000202 00000000 00000000 00000000'), 0, 32, new Ipv4View())).toBe(ParseStatus.badHeader);
    expect(parseIpv4(hex('45000010 0000 4000 40 11 0000 c6336402 c0000202'), 0, 20, new Ipv4View())).toBe(ParseStatus.badHeader);
    expect(parseIpv4(hex('65000014 0000 4000 40 11 0000 c6336402 c0000202'), 0, 20, new Ipv4View())).toBe(ParseStatus.badVersion);
  });

  it('flags an unexpired Loose or Strict Source Route but not a used-up one', () => {
    const v = new Ipv4View();
    const lsrr = hex('47000028 0000 4000 40 11 905b c6336402 c0000202', '830704c6 33640100', '00359c40000cb261 61626364');
    expect(parseIpv4(lsrr, 0, lsrr.length, v)).toBe(ParseStatus.ok);
    expect(v.sourceRoute).toBe(true);
    expect(v.l4Offset).toBe(28);
    const ssrr = hex('47000028 0000 4000 40 11 8a5b c6336402 c0000202', '890704c6 33640100', '00359c40000cb261 61626364');
    expect(parseIpv4(ssrr, 0, ssrr.length, v)).toBe(ParseStatus.ok);
    expect(v.sourceRoute).toBe(true);
    const used = hex('47000028 0000 4000 40 11 8c5b c6336402 c0000202', '830708c6 33640100', '00359c40000cb261 61626364');
    expect(parseIpv4(used, 0, used.length, v)).toBe(ParseStatus.ok);
    expect(v.sourceRoute).toBe(false);
    const recordRoute = hex('47000028 0000 4000 40 11 4482 c6336402 c0000202', '01070704 00000000', '00359c40000cb261 61626364');
    expect(parseIpv4(recordRoute, 0, recordRoute.length, v)).toBe(ParseStatus.ok);
    expect(v.sourceRoute).toBe(false);
  });

  it('refuses malformed IPv4 options', () => {
    const packet = hex('47000028 0000 4000 40 11 458c c6336402 c0000202', '07010000 00000000', '00359c40000cb261 61626364');
    expect(parseIpv4(packet, 0, packet.length, new Ipv4View())).toBe(ParseStatus.badIpv4Options);
  });

  it('reports truncation when an IPv4 packet is cut at any byte', () => {
    const packet = hex('45000020 0000 4000 40 11 4e95 c6336402 c0000202', '00359c40000cb261 61626364');
    for (let length = 0; length < packet.length; length++) {
      expect(parseIpv4(packet, 0, length, new Ipv4View()), `cut at ${length}`).toBe(ParseStatus.truncated);
    }
  });

  it('refuses a first fragment too short to hold its TCP header', () => {
    // 45 00 0024 (36 bytes) id 1 MF, TCP with 16 bytes only
    const packet = hex('45000024 0001 2000 40 06 6e9b c6336402 c0000202', '00350050 00000000 00000000 50020000');
    expect(parseIpv4(packet, 0, packet.length, new Ipv4View())).toBe(ParseStatus.truncated);
  });

  it('parses the packet quoted in an ICMPv4 error, RFC 4884 extension included', () => {
    // ICMPv4 3/3, length attribute 32 (128 bytes of datagram), then a 4-byte extension.
    const quoted = `45000020 0000 4000 3f 11 4f95 c0000202 c6336402 9c400035000cb261 61626364${'00'.repeat(96)}`;
    const icmp = `0303 0000 0020 0000 ${quoted} 20000000`;
    const packet = hex('450000a0 0000 0000 40 01 0000 c6336401 c0000202', icmp);
    fixIpv4Checksum(packet);
    fixIcmpChecksum(packet, 20);
    const v = new Ipv4View();
    expect(parseIpv4(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v).toMatchObject({ isIcmpError: true, icmpType: 3, icmpCode: 3, innerStart: 28, innerEnd: 28 + 128, extensionEnd: 160 });
    expect(v.innerStatus).toBe(ParseStatus.ok);
    expect(v.inner).toMatchObject({ start: 28, end: 60, src: POOL, dst: SERVER, srcPort: 40000, dstPort: 53, hopLimit: 63 });
  });

  it('ignores an RFC 4884 length that points past the message', () => {
    const icmp = '0303 0000 00ff 0000 45000020 0000 4000 3f 11 4f95 c0000202 c6336402 9c400035000cb261';
    const packet = hex('45000038 0000 0000 40 01 0000 c6336401 c0000202', icmp);
    fixIpv4Checksum(packet);
    fixIcmpChecksum(packet, 20);
    const v = new Ipv4View();
    expect(parseIpv4(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v).toMatchObject({ innerEnd: 56, extensionEnd: 56 });
    expect(v.inner).toMatchObject({ end: 56, srcPort: 40000, hasChecksum: true });
  });

  it('reports a quoted packet shorter than its IP header', () => {
    const packet = hex('60000000 0014 3a 40', SRC6, DST6, '0104 0000 00000000', '60000000 000c 11 3f 0064ff9b');
    fixIcmpChecksum(packet, 40);
    const v = new Ipv6View();
    expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v.isIcmpError).toBe(true);
    expect(v.innerStatus).toBe(ParseStatus.truncated);
  });

  it('accepts a quoted packet cut inside its transport header', () => {
    const packet = hex('60000000 0032 3a 40', SRC6, DST6, '0104 0000 00000000', `60000000 000c 11 3f ${DST6} ${SRC6} 0035`);
    fixIcmpChecksum(packet, 40);
    const v = new Ipv6View();
    expect(parseIpv6(packet, 0, packet.length, v)).toBe(ParseStatus.ok);
    expect(v.innerStatus).toBe(ParseStatus.ok);
    expect(v.inner).toMatchObject({ protocol: 17, hasPorts: false, hasChecksum: false, totalLength: 52, end: 48 + 40 + 2 });
  });

  it('refuses an ICMPv4 or ICMPv6 error whose checksum does not verify, before looking at its quote', () => {
    const icmp4 = hex('45000038 0000 0000 40 01 0000 c6336401 c0000202', '0303 0000 00000000 45000020 0000 4000 3f 11 4f95 c0000202 c6336402 9c400035000cb261');
    fixIpv4Checksum(icmp4);
    fixIcmpChecksum(icmp4, 20);
    const v4 = new Ipv4View();
    expect(parseIpv4(icmp4, 0, icmp4.length, v4)).toBe(ParseStatus.ok);
    icmp4[40] = 0x9d; // a flipped bit in the quoted source port
    expect(parseIpv4(icmp4, 0, icmp4.length, v4)).toBe(ParseStatus.badIcmpChecksum);

    const icmp6 = hex('60000000 003c 3a 40', SRC6, DST6, '0104 0000 00000000', `60000000 000c 11 3f ${DST6} ${SRC6} ${UDP12}`);
    fixIcmpChecksum(icmp6, 40);
    const v6 = new Ipv6View();
    expect(parseIpv6(icmp6, 0, icmp6.length, v6)).toBe(ParseStatus.ok);
    icmp6[23] = 6; // another source: the ICMPv6 checksum covers the pseudo-header
    expect(parseIpv6(icmp6, 0, icmp6.length, v6)).toBe(ParseStatus.badIcmpChecksum);
  });

  it('leaves the checksum of an ICMP query and of a quoted packet alone: translation carries it as it is', () => {
    const echo = hex(ip6('000c', '3a'), '8000 0000 1234 0001 61626364'); // checksum 0, wrong
    expect(parseIpv6(echo, 0, echo.length, new Ipv6View())).toBe(ParseStatus.ok);
  });

  it('flags a UDP checksum of zero, in IPv6 and IPv4', () => {
    const v6 = new Ipv6View();
    const zero6 = hex(ip6('000c', '11'), '04d20035000c0000 61626364');
    expect(parseIpv6(zero6, 0, zero6.length, v6)).toBe(ParseStatus.ok);
    expect(v6.udpChecksumZero).toBe(true);
    const some6 = hex(ip6('000c', '11'), UDP12);
    expect(parseIpv6(some6, 0, some6.length, v6)).toBe(ParseStatus.ok);
    expect(v6.udpChecksumZero).toBe(false);
    const v4 = new Ipv4View();
    const zero4 = hex('45000020 0000 0000 40 11 0000 c6336401 c0000202', '9c400035000c0000 61626364');
    fixIpv4Checksum(zero4);
    expect(parseIpv4(zero4, 0, zero4.length, v4)).toBe(ParseStatus.ok);
    expect(v4.udpChecksumZero).toBe(true);
  });

  it('never throws on random bytes', () => {
    const v6 = new Ipv6View();
    const v4 = new Ipv4View();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const offset = bytes.length === 0 ? 0 : a % bytes.length;
        const length = b % (bytes.length - offset + 1);
        parseIpv6(bytes, offset, length, v6);
        parseIpv4(bytes, offset, length, v4);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on mutations of valid packets', () => {
    const seeds = [HBH_DST_RT, hex(ip6('0014', '2c'), '1100 0001 01020304', UDP12)];
    const v6 = new Ipv6View();
    const v4 = new Ipv4View();
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (seed, edits) => {
        const bytes = seed.slice();
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        const status = parseIpv6(bytes, 0, bytes.length, v6);
        expect(typeof status).toBe('number');
        bytes[0] = 0x45;
        parseIpv4(bytes, 0, bytes.length, v4);
      }),
      { numRuns: 2000 },
    );
  });
});

const POOL = 0xc0000202;
const SERVER = 0xc6336402;

/** Writes the ICMP (at `icmp` 20) or ICMPv6 (at 40, with the pseudo-header) checksum of the message that ends the packet. */
function fixIcmpChecksum(packet: Uint8Array, icmp: number): void {
  packet[icmp + 2] = 0;
  packet[icmp + 3] = 0;
  let pseudo = 0;
  if (icmp === 40) {
    pseudo = 58 + (packet.length - 40);
    for (let i = 8; i < 40; i += 2) pseudo += (packet[i]! << 8) | packet[i + 1]!;
  }
  const value = checksumOf(packet, icmp, packet.length, pseudo);
  packet[icmp + 2] = value >> 8;
  packet[icmp + 3] = value & 0xff;
}

function fixIpv4Checksum(packet: Uint8Array): void {
  packet[10] = 0;
  packet[11] = 0;
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (packet[i]! << 8) | packet[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  packet[10] = (~sum >> 8) & 0xff;
  packet[11] = ~sum & 0xff;
}
