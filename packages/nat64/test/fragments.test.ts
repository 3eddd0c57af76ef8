import { describe, expect, it } from 'vitest';
import { FAMILY, FragmentTracker, Nat64Error, VERDICT } from '@nat64/nat64';
import { SECRET, TestClock } from './support.js';

/**
 * An IPv6 header with a Fragment header, as far as the tracker reads it: source at 8, destination at 24
 * (RFC 8200 3). Source 2001:db8::<src>, destination 64:ff9b::c633:640a (198.51.100.10 under the
 * RFC 6052 well-known prefix), then 8 payload bytes of `fill`.
 */
function ipv6Fragment(src: number, fill: number): Uint8Array {
  return Uint8Array.from([
    0x60,
    0,
    0,
    0,
    0,
    16,
    44,
    64,
    0x20,
    0x01,
    0x0d,
    0xb8,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    src,
    0x00,
    0x64,
    0xff,
    0x9b,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0xc6,
    0x33,
    0x64,
    0x0a,
    17,
    0,
    0,
    8,
    0,
    0,
    0x12,
    0x34,
    fill,
    fill,
    fill,
    fill,
    fill,
    fill,
    fill,
    fill,
  ]);
}

/** An IPv4 header: source 198.51.100.10 at 12, destination 203.0.113.1 at 16 (RFC 791 3.1). */
const IPV4_HEADER = Uint8Array.from([0x45, 0, 0, 28, 0xab, 0xcd, 0x20, 0, 64, 17, 0, 0, 198, 51, 100, 10, 203, 0, 113, 1]);

function tracker(options: Partial<ConstructorParameters<typeof FragmentTracker>[0]> = {}) {
  const clock = new TestClock();
  return { clock, fragments: new FragmentTracker({ clock: clock.read, secret: SECRET, ...options }) };
}

describe('fragments', () => {
  it('gives later fragments the value their first fragment recorded', () => {
    const { fragments } = tracker();
    const first = ipv6Fragment(1, 0xaa);
    expect(fragments.first(FAMILY.IPV6, first, 8, 24, 0x1234, 17, 4_294_967_301)).toEqual([]);
    const later = ipv6Fragment(1, 0xbb);
    expect(fragments.later(FAMILY.IPV6, later, 8, 24, 0x1234, 17, 48, 56)).toBe(4_294_967_301);
  });

  it('holds fragments that come before the first and hands back copies when it arrives', () => {
    const { fragments } = tracker();
    const buffer = ipv6Fragment(1, 0xbb);
    expect(fragments.later(FAMILY.IPV6, buffer, 8, 24, 7, 17, 48, 56)).toBe(VERDICT.FRAGMENT_HELD);
    buffer.fill(0xcc, 48); // the receive buffer is reused
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0xdd), 8, 24, 7, 17, 40, 56)).toBe(VERDICT.FRAGMENT_HELD);
    const held = fragments.first(FAMILY.IPV6, ipv6Fragment(1, 0xaa), 8, 24, 7, 17, 3);
    expect(held.map((f) => [...f])).toEqual([
      [0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb],
      [17, 0, 0, 8, 0, 0, 0x12, 0x34, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd],
    ]);
    expect(fragments.later(FAMILY.IPV6, buffer, 8, 24, 7, 17, 48, 56)).toBe(3);
    const counters = Object.fromEntries(fragments.counterSnapshot().map((c) => [c.name, c.value]));
    expect(counters).toMatchObject({ fragmentsHeld: 2, fragmentsReleased: 2, fragmentsTimedOut: 0 });
  });

  it('holds a copy even of a Node Buffer, whose slice would be a view', () => {
    const { fragments } = tracker();
    const buffer = Buffer.from(ipv6Fragment(1, 0xbb));
    expect(fragments.later(FAMILY.IPV6, buffer, 8, 24, 0x1234, 17, 0, buffer.length)).toBe(VERDICT.FRAGMENT_HELD);
    buffer.fill(0);
    const [held] = fragments.first(FAMILY.IPV6, ipv6Fragment(1, 0xaa), 8, 24, 0x1234, 17, 1);
    expect(held).toEqual(ipv6Fragment(1, 0xbb));
  });

  it('drops held fragments whose first fragment does not come within FRAGMENT_MIN', () => {
    const { fragments, clock } = tracker();
    fragments.later(FAMILY.IPV6, ipv6Fragment(1, 1), 8, 24, 7, 17, 48, 56);
    clock.advance(1_999);
    expect(fragments.expire()).toBe(0);
    // Another fragment of the same datagram does not extend its wait.
    fragments.later(FAMILY.IPV6, ipv6Fragment(1, 2), 8, 24, 7, 17, 48, 56);
    clock.advance(1);
    expect(fragments.expire()).toBe(2);
    expect(fragments.count).toBe(0);
    expect(fragments.first(FAMILY.IPV6, ipv6Fragment(1, 3), 8, 24, 7, 17, 5)).toEqual([]);
  });

  it('forgets a datagram two seconds after its last fragment', () => {
    const { fragments, clock } = tracker();
    fragments.first(FAMILY.IPV6, ipv6Fragment(1, 1), 8, 24, 7, 17, 5);
    clock.advance(1_500);
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 1), 8, 24, 7, 17, 48, 56)).toBe(5);
    clock.advance(1_500);
    fragments.expire();
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 1), 8, 24, 7, 17, 48, 56)).toBe(5);
    clock.advance(2_000);
    fragments.expire();
    expect(fragments.count).toBe(0);
  });

  it('keeps datagrams apart by source, identification, protocol and family', () => {
    const { fragments } = tracker();
    fragments.first(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 7, 17, 100);
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(2, 0), 8, 24, 7, 17, 48, 56)).toBe(VERDICT.FRAGMENT_HELD);
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 8, 17, 48, 56)).toBe(VERDICT.FRAGMENT_HELD);
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 7, 6, 48, 56)).toBe(VERDICT.FRAGMENT_HELD);
    // Source and destination swapped.
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0), 24, 8, 7, 17, 48, 56)).toBe(VERDICT.FRAGMENT_HELD);
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 7, 17, 48, 56)).toBe(100);
  });

  it('tracks IPv4 datagrams by their 4-byte addresses', () => {
    const { fragments } = tracker();
    fragments.first(FAMILY.IPV4, IPV4_HEADER, 12, 16, 0xabcd, 17, 9);
    expect(fragments.later(FAMILY.IPV4, IPV4_HEADER, 12, 16, 0xabcd, 17, 0, 20)).toBe(9);
    expect(fragments.later(FAMILY.IPV6, IPV4_HEADER, 0, 0, 0xabcd, 17, 0, 20)).toBe(VERDICT.FRAGMENT_HELD);
  });

  it('drops fragments past the held count or byte budget', () => {
    const { fragments } = tracker({ maxHeldFragments: 2, maxHeldBytes: 20 });
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 1, 17, 48, 56)).toBe(VERDICT.FRAGMENT_HELD);
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 2, 17, 40, 56)).toBe(VERDICT.FRAGMENT_LIMIT);
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 2, 17, 48, 56)).toBe(VERDICT.FRAGMENT_HELD);
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 3, 17, 48, 50)).toBe(VERDICT.FRAGMENT_LIMIT);
    fragments.first(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 1, 17, 0);
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 3, 17, 48, 50)).toBe(VERDICT.FRAGMENT_HELD);
    expect(fragments.counterSnapshot().find((c) => c.name === 'fragmentsOverLimit')?.value).toBe(2);
  });

  it('forgets the oldest datagram when full', () => {
    const { fragments, clock } = tracker({ maxEntries: 2 });
    fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 1, 17, 48, 56);
    clock.advance(10);
    fragments.first(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 2, 17, 22);
    clock.advance(10);
    fragments.first(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 3, 17, 33);
    expect(fragments.count).toBe(2);
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 2, 17, 48, 56)).toBe(22);
    expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0), 8, 24, 3, 17, 48, 56)).toBe(33);
    const counters = Object.fromEntries(fragments.counterSnapshot().map((c) => [c.name, c.value]));
    expect(counters).toMatchObject({ datagramsForgotten: 1, fragmentsTimedOut: 1 });
  });

  it('refuses a timeout below FRAGMENT_MIN', () => {
    expect(() => tracker({ timeoutMs: 1_999 })).toThrow(Nat64Error);
  });

  describe('overlaps (RFC 5722)', () => {
    const ID = 0x77;
    const later = (f: FragmentTracker, start: number, end: number, src = 1) => f.later(FAMILY.IPV6, ipv6Fragment(src, 0xbb), 8, 24, ID, 17, 0, 56, start, end);
    const first = (f: FragmentTracker, end: number, token = 9) => f.first(FAMILY.IPV6, ipv6Fragment(1, 0xaa), 8, 24, ID, 17, token, 0, end);
    const counters = (f: FragmentTracker) => Object.fromEntries(f.counterSnapshot().map((c) => [c.name, c.value]));

    it('passes fragments that cover the datagram once, in any order', () => {
      const { fragments } = tracker();
      expect(later(fragments, 2400, 2405)).toBe(VERDICT.FRAGMENT_HELD);
      expect(later(fragments, 1200, 2400)).toBe(VERDICT.FRAGMENT_HELD);
      expect(first(fragments, 1200)).toHaveLength(2);
      expect(counters(fragments)).toMatchObject({ datagramsOverlapping: 0, fragmentsDiscarded: 0 });
    });

    it('discards the whole datagram when a fragment overlaps another: the held ones, itself and those after', () => {
      const { fragments } = tracker();
      expect(later(fragments, 1200, 2400)).toBe(VERDICT.FRAGMENT_HELD);
      expect(later(fragments, 2400, 3600)).toBe(VERDICT.FRAGMENT_HELD);
      expect(later(fragments, 2392, 2800)).toBe(VERDICT.FRAGMENT_OVERLAP);
      expect(first(fragments, 1200)).toBeNull(); // the first fragment of a discarded datagram goes too
      expect(later(fragments, 3600, 3700)).toBe(VERDICT.FRAGMENT_OVERLAP);
      expect(counters(fragments)).toMatchObject({ datagramsOverlapping: 1, fragmentsDiscarded: 5, fragmentsHeld: 2, fragmentsReleased: 0 });
      // The held copies were let go.
      expect(fragments.later(FAMILY.IPV6, ipv6Fragment(2, 0xbb), 8, 24, ID, 17, 0, 1 << 20)).toBe(VERDICT.FRAGMENT_HELD);
    });

    it('discards a datagram whose later fragment overlaps the first, after the first went through', () => {
      const { fragments } = tracker();
      expect(first(fragments, 1232)).toEqual([]);
      expect(later(fragments, 1232, 2000)).toBe(9);
      expect(later(fragments, 8, 16)).toBe(VERDICT.FRAGMENT_OVERLAP);
      expect(later(fragments, 2000, 2008)).toBe(VERDICT.FRAGMENT_OVERLAP);
    });

    it('treats a second first fragment, or an exact duplicate, as an overlap', () => {
      const { fragments } = tracker();
      expect(first(fragments, 1232)).toEqual([]);
      expect(first(fragments, 1232, 10)).toBeNull();
      const other = tracker().fragments;
      expect(later(other, 800, 1600)).toBe(VERDICT.FRAGMENT_HELD);
      expect(later(other, 800, 1600)).toBe(VERDICT.FRAGMENT_OVERLAP);
    });

    it('keeps datagrams apart: an overlap in one leaves the others alone', () => {
      const { fragments } = tracker();
      expect(later(fragments, 800, 1600, 1)).toBe(VERDICT.FRAGMENT_HELD);
      expect(later(fragments, 800, 1600, 2)).toBe(VERDICT.FRAGMENT_HELD);
      expect(later(fragments, 1000, 1100, 1)).toBe(VERDICT.FRAGMENT_OVERLAP);
      expect(later(fragments, 1600, 1700, 2)).toBe(VERDICT.FRAGMENT_HELD);
    });

    it('follows 16 separate pieces, merging those that meet, and discards a datagram in more', () => {
      const { fragments } = tracker();
      for (let k = 1; k <= 16; k++) expect(later(fragments, k * 160, k * 160 + 80)).toBe(VERDICT.FRAGMENT_HELD);
      // Gaps filled merge pieces, so these fit again.
      expect(later(fragments, 240, 320)).toBe(VERDICT.FRAGMENT_HELD);
      expect(later(fragments, 4000, 4080)).toBe(VERDICT.FRAGMENT_HELD);
      expect(later(fragments, 5000, 5080)).toBe(VERDICT.FRAGMENT_OVERLAP);
      expect(counters(fragments)).toMatchObject({ datagramsScattered: 1, datagramsOverlapping: 0, fragmentsDiscarded: 19 });
    });

    it('follows a 64 KiB datagram in 1232-byte fragments, in order and reversed', () => {
      for (const reversed of [false, true]) {
        const { fragments } = tracker({ maxHeldFragments: 100, maxHeldBytes: 1 << 22 });
        const starts = Array.from({ length: 53 }, (_, k) => k * 1232).filter((start) => start > 0);
        if (reversed) starts.reverse();
        for (const start of starts) expect(later(fragments, start, Math.min(start + 1232, 65_527))).toBe(VERDICT.FRAGMENT_HELD);
        expect(first(fragments, 1232)).toHaveLength(52);
      }
    });

    it('does not check a fragment handed back by the first fragment again', () => {
      const { fragments } = tracker();
      expect(later(fragments, 1232, 1300)).toBe(VERDICT.FRAGMENT_HELD);
      expect(first(fragments, 1232)).toHaveLength(1);
      expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0xbb), 8, 24, ID, 17, 0, 56)).toBe(9);
    });

    it("gives a discarded datagram's slot to the next datagram clean once it is forgotten", () => {
      const { fragments, clock } = tracker({ maxEntries: 1 });
      expect(first(fragments, 1232)).toEqual([]);
      expect(first(fragments, 1232)).toBeNull();
      clock.advance(2_000);
      fragments.expire();
      const next = fragments.first(FAMILY.IPV6, ipv6Fragment(1, 0xaa), 8, 24, ID + 1, 17, 4, 0, 1232);
      expect(next).toEqual([]);
      expect(fragments.later(FAMILY.IPV6, ipv6Fragment(1, 0xbb), 8, 24, ID + 1, 17, 0, 56, 1232, 1300)).toBe(4);
    });

    it('accepts the identification again once the discarded datagram is forgotten', () => {
      const { fragments, clock } = tracker();
      expect(later(fragments, 800, 1600)).toBe(VERDICT.FRAGMENT_HELD);
      expect(later(fragments, 800, 1600)).toBe(VERDICT.FRAGMENT_OVERLAP);
      clock.advance(2_000);
      fragments.expire();
      expect(later(fragments, 800, 1600)).toBe(VERDICT.FRAGMENT_HELD);
    });
  });
});
