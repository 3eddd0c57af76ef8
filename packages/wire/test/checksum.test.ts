import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  finishChecksum,
  finishUdpChecksum,
  foldSum,
  internetChecksum,
  pseudoHeaderSum4,
  pseudoHeaderSum6,
  sumWords,
  updateChecksum,
  verifyChecksum,
} from '../src/checksum.js';

/** Straightforward RFC 1071 reference: add 16-bit words with end-around carry after each add. */
function reference(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  return ~sum & 0xffff;
}

describe('checksum', () => {
  it('matches the RFC 1071 section 3 numerical example', () => {
    // 00 01 f2 03 f4 f5 f6 f7: one's-complement sum 0xddf2, checksum 0x220d.
    const bytes = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(foldSum(sumWords(bytes, 0, 8))).toBe(0xddf2);
    expect(internetChecksum(bytes, 0, 8)).toBe(0x220d);
  });

  it('pads an odd final byte with zero', () => {
    expect(internetChecksum(new Uint8Array([0x12, 0x34, 0x56]), 0, 3)).toBe(~(0x1234 + 0x5600) & 0xffff);
  });

  it('verifies the header checksum of a real IPv4 header', () => {
    // 45 00 0020 0000 4000 40 11 4e76 c6336402 c0000221 (198.51.100.2 -> 192.0.2.33, UDP)
    const header = new Uint8Array([0x45, 0, 0, 0x20, 0, 0, 0x40, 0, 0x40, 0x11, 0x4e, 0x76, 198, 51, 100, 2, 192, 0, 2, 33]);
    expect(verifyChecksum(header, 0, 20)).toBe(true);
    header[8] = 0x3f;
    expect(verifyChecksum(header, 0, 20)).toBe(false);
  });

  it('sums the IPv4 pseudo-header as source, destination, protocol and length', () => {
    // 192.0.2.33 = c000 0221, 198.51.100.2 = c633 6402, UDP 17, length 12
    expect(pseudoHeaderSum4(0xc0000221, 0xc6336402, 17, 12)).toBe(0xc000 + 0x0221 + 0xc633 + 0x6402 + 17 + 12);
  });

  it('sums the IPv6 pseudo-header with a 32-bit length', () => {
    const a = new Uint8Array(16);
    const b = new Uint8Array(16);
    a[0] = 0x20;
    a[15] = 1;
    b[1] = 0x64;
    expect(pseudoHeaderSum6(a, 0, b, 0, 58, 0x10002)).toBe(0x2000 + 1 + 0x64 + 1 + 2 + 58);
  });

  it('agrees with a reference implementation on random data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(internetChecksum(bytes, 0, bytes.length)).toBe(reference(bytes));
      }),
    );
  });

  it('updates incrementally to what a full recomputation gives', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 200 }).filter((b) => b.some((x) => x !== 0)),
        fc.nat(),
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 8 }),
        (data, at, words) => {
          const bytes = Uint8Array.from(data);
          const even = bytes.length & ~1;
          const before = internetChecksum(bytes, 0, bytes.length);
          let removed = 0;
          let added = 0;
          words.forEach((word, k) => {
            const offset = ((at + 2 * k) % even) & ~1;
            removed += (bytes[offset]! << 8) | bytes[offset + 1]!;
            bytes[offset] = word >> 8;
            bytes[offset + 1] = word & 0xff;
            added += word;
          });
          // Overlapping offsets would change one word twice; only compare when each was hit once.
          const offsets = words.map((_, k) => ((at + 2 * k) % even) & ~1);
          fc.pre(new Set(offsets).size === offsets.length);
          fc.pre(bytes.some((x) => x !== 0));
          expect(updateChecksum(before, removed, added)).toBe(internetChecksum(bytes, 0, bytes.length));
        },
      ),
    );
  });

  it('keeps an incorrect checksum exactly as incorrect after an update', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 120 }),
        fc.integer({ min: 1, max: 0xfffe }),
        fc.integer({ min: 0, max: 0xffff }),
        (data, error, word) => {
          const bytes = Uint8Array.from(data);
          const wrong = (internetChecksum(bytes, 0, bytes.length) + error) & 0xffff;
          const sumBefore = foldSum(sumWords(bytes, 0, bytes.length, wrong));
          const old = (bytes[4]! << 8) | bytes[5]!;
          bytes[4] = word >> 8;
          bytes[5] = word & 0xff;
          const updated = updateChecksum(wrong, old, word);
          // The receiver's verification sum is unchanged: the same amount off 0xffff as before.
          expect(foldSum(sumWords(bytes, 0, bytes.length, updated))).toBe(sumBefore === 0 ? 0xffff : sumBefore);
        },
      ),
    );
  });

  it('finishes a sum into the complement of its fold', () => {
    expect(finishChecksum(0x1fffe)).toBe(0x0000);
    expect(finishChecksum(0x0001)).toBe(0xfffe);
  });

  it('sends a computed zero UDP checksum as all ones', () => {
    expect(finishChecksum(0xffff)).toBe(0);
    expect(finishUdpChecksum(0xffff)).toBe(0xffff);
    expect(finishUdpChecksum(0x0001)).toBe(0xfffe);
  });

  it('agrees with the reference on sub-ranges and with a running sum carried in', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), fc.nat(), (data, a, b) => {
        const start = data.length === 0 ? 0 : a % data.length;
        const end = start + (data.length === 0 ? 0 : b % (data.length - start + 1));
        expect(internetChecksum(data, start, end)).toBe(reference(data.subarray(start, end)));
        const even = start + ((end - start) & ~1);
        expect(internetChecksum(data, even, end, sumWords(data, start, even))).toBe(reference(data.subarray(start, end)));
      }),
    );
  });

  it('folds sums beyond 32 bits exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }), fc.integer({ min: 0, max: 2 ** 36 }), (words, extra) => {
        // extra * 0xffff keeps the one's-complement value of the sum unchanged (0xffff is minus zero).
        const plain = words.reduce((sum, word) => sum + word, 0);
        const expected = foldSum(plain);
        const folded = foldSum(plain + extra * 0xffff);
        expect(folded === expected || (folded === 0xffff && expected === 0) || (folded === 0 && expected === 0xffff)).toBe(true);
      }),
    );
    expect(foldSum(2 ** 52)).toBe(foldSum(2 ** 52 % 0xffff));
  });

  it('verifies what it computed, with the IPv4 and IPv6 pseudo-headers', () => {
    // A UDP datagram 192.0.2.1:1234 -> 198.51.100.2:6081, payload "hi!".
    const udp = Uint8Array.from([0x04, 0xd2, 0x17, 0xc1, 0x00, 0x0b, 0, 0, 0x68, 0x69, 0x21]);
    const pseudo4 = pseudoHeaderSum4(0xc0000201, 0xc6336402, 17, udp.length);
    const sum4 = finishUdpChecksum(sumWords(udp, 0, udp.length, pseudo4));
    expect(sum4).toBe(reference(Uint8Array.from([192, 0, 2, 1, 198, 51, 100, 2, 0, 17, 0, 11, ...udp])));
    udp[6] = sum4 >>> 8;
    udp[7] = sum4 & 0xff;
    expect(verifyChecksum(udp, 0, udp.length, pseudo4)).toBe(true);
    const src = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const dst = Uint8Array.from([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 198, 51, 100, 2]);
    udp[6] = 0;
    udp[7] = 0;
    const pseudo6 = pseudoHeaderSum6(src, 0, dst, 0, 17, udp.length);
    expect(internetChecksum(udp, 0, udp.length, pseudo6)).toBe(reference(Uint8Array.from([...src, ...dst, 0, 0, 0, 11, 0, 0, 0, 17, ...udp])));
  });
});
