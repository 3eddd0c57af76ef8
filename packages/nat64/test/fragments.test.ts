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
    0x60, 0, 0, 0, 0, 16, 44, 64,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, src,
    0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 0xc6, 0x33, 0x64, 0x0a,
    17, 0, 0, 8, 0, 0, 0x12, 0x34,
    fill, fill, fill, fill, fill, fill, fill, fill,
  ]);
}

/** An IPv4 header: source 198.51.100.10 at 12, destination 203.0.113.1 at 16 (RFC 791 3.1). */
const IPV4_HEADER = Uint8Array.from([
  0x45, 0, 0, 28, 0xab, 0xcd, 0x20, 0, 64, 17, 0, 0,
  198, 51, 100, 10,
  203, 0, 113, 1,
]);

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
});
