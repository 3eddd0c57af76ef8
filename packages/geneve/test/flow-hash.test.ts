import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flowHash, sourcePortFromHash } from '@nat64/geneve';
import { bytes } from './support/bytes.js';
import { INNER } from './support/vectors.js';

/** FNV-1a 32 as its authors define it, byte by byte, for the independent check. */
function fnv1a(data: Uint8Array, seed = 0): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (const byte of data) hash = Number((BigInt(hash ^ byte) * 0x01000193n) & 0xffffffffn);
  return hash;
}

/** An IPv4 header (IHL 5) followed by `l4`, with the given protocol, addresses and flags/offset word. */
function ipv4(protocol: number, source: string, destination: string, l4: string, fragment = '40 00'): Uint8Array {
  const l4Bytes = bytes(l4);
  const total = 20 + l4Bytes.length;
  return bytes(
    `45 00 ${(total >> 8).toString(16).padStart(2, '0')} ${(total & 0xff).toString(16).padStart(2, '0')}`,
    `00 01 ${fragment}`,
    `40 ${protocol.toString(16).padStart(2, '0')} 00 00`,
    source,
    destination,
    l4Bytes,
  );
}

const A = 'c6 33 64 0a';
const B = 'cb 00 71 05';

describe('flow-hash', () => {
  it('hashes the golden inner packet to FNV-1a of its 5-tuple, port 54345', () => {
    const tuple = bytes(A, B, '11', '9c 40', '00 35'); // addresses, protocol 17, ports 40000 and 53
    expect(flowHash(INNER, 0, INNER.length, 0) >>> 0).toBe(fnv1a(tuple));
    expect(flowHash(INNER, 0, INNER.length, 0) >>> 0).toBe(0x856e5127);
    expect(sourcePortFromHash(0x856e5127)).toBe(54345);
    expect(sourcePortFromHash(0x856e5127 | 0)).toBe(54345);
  });

  it('gives the same port to every packet of a flow, whatever else differs', () => {
    const one = ipv4(6, A, B, '9c 40 01 bb 00 00 00 01 00 00 00 00 50 02 ff ff 00 00 00 00');
    const two = ipv4(6, A, B, '9c 40 01 bb 12 34 56 78 9a bc de f0 50 10 00 10 ab cd 00 00 61 62 63');
    two[4] = 0x77; // another Identification
    two[8] = 3; // another TTL
    expect(flowHash(two, 0, two.length, 0)).toBe(flowHash(one, 0, one.length, 0));
  });

  it('hashes fragments without ports, so all fragments of a datagram go alike', () => {
    const first = ipv4(17, A, B, '9c 40 00 35 00 10 00 00', '20 00');
    const later = ipv4(17, A, B, '01 02 03 04 05 06 07 08', '00 03');
    expect(flowHash(first, 0, first.length, 0) >>> 0).toBe(fnv1a(bytes(A, B, '11 00 00 00 00')));
    expect(flowHash(later, 0, later.length, 0)).toBe(flowHash(first, 0, first.length, 0));
  });

  it('uses the ICMP Echo Identifier as the source port', () => {
    const echo = ipv4(1, A, B, '08 00 00 00 12 34 00 01');
    const reply = ipv4(1, A, B, '00 00 00 00 12 34 00 02');
    const unreachable = ipv4(1, A, B, '03 03 00 00 12 34 00 01');
    expect(flowHash(echo, 0, echo.length, 0) >>> 0).toBe(fnv1a(bytes(A, B, '01 12 34 00 00')));
    expect(flowHash(reply, 0, reply.length, 0)).toBe(flowHash(echo, 0, echo.length, 0));
    expect(flowHash(unreachable, 0, unreachable.length, 0) >>> 0).toBe(fnv1a(bytes(A, B, '01 00 00 00 00')));
  });

  it('hashes a payload that is not IPv4 as the seed alone', () => {
    expect(flowHash(bytes('60 00 00 00'), 0, 4, 7) >>> 0).toBe(fnv1a(new Uint8Array(0), 7));
    expect(flowHash(INNER, 0, 19, 0) >>> 0).toBe(0x811c9dc5);
  });

  it('gives different flows different ports, all in the ephemeral range', () => {
    const ports = new Set<number>();
    for (let client = 0; client < 1000; client++) {
      const packet = ipv4(17, A, B, `${(0xc000 + client).toString(16).match(/../g)!.join(' ')} 00 35 00 08 00 00`);
      const port = sourcePortFromHash(flowHash(packet, 0, packet.length, 0));
      expect(port).toBeGreaterThanOrEqual(49152);
      expect(port).toBeLessThanOrEqual(65535);
      ports.add(port);
    }
    // 1000 flows over 16384 ports: a uniform hash collides about 30 times.
    expect(ports.size).toBeGreaterThan(940);
  });

  it('changes with the seed and stays within 49152-65535 for any hash', () => {
    expect(flowHash(INNER, 0, INNER.length, 1)).not.toBe(flowHash(INNER, 0, INNER.length, 0));
    fc.assert(
      fc.property(fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }), (hash) => {
        const port = sourcePortFromHash(hash);
        expect(port >= 49152 && port <= 65535).toBe(true);
      }),
    );
  });

  it('reads only inside the given range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), fc.nat({ max: 60 }), (data, cut) => {
        const length = Math.min(cut, data.length);
        const inside = data.slice(0, length);
        const padded = bytes(inside, new Uint8Array(40).fill(0xff));
        expect(flowHash(padded, 0, length, 0)).toBe(flowHash(inside, 0, length, 0));
      }),
    );
  });
});
