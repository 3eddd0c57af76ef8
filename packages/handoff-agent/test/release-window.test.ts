import { describe, expect, it } from 'vitest';
import type { AckBlock } from '@nat64/handoff-codec';
import { ReleaseVerdict, ReleaseWindow } from '../src/release-window.js';

function blocks(window: ReleaseWindow): AckBlock[] {
  const slots = Array.from({ length: 16 }, () => ({ start: 0, end: 0 }));
  return slots.slice(0, window.fillBlocks(slots));
}

describe('release-window', () => {
  it('classifies sequence numbers against N and the window (6.3)', () => {
    const window = new ReleaseWindow(16);
    expect(window.classify(1)).toBe(ReleaseVerdict.NEXT);
    expect(window.classify(0)).toBe(ReleaseVerdict.DUPLICATE);
    expect(window.classify(16)).toBe(ReleaseVerdict.AHEAD);
    expect(window.classify(17)).toBe(ReleaseVerdict.BEYOND_WINDOW);
    window.hold(5, new Uint8Array([1]));
    expect(window.classify(5)).toBe(ReleaseVerdict.DUPLICATE);
  });

  it('compares serially across the 32-bit wrap (RFC 1982)', () => {
    const window = new ReleaseWindow(16);
    window.cumulative = 0xffff_ffff;
    expect(window.classify(0)).toBe(ReleaseVerdict.NEXT);
    expect(window.classify(3)).toBe(ReleaseVerdict.AHEAD);
    expect(window.classify(0xffff_fff0)).toBe(ReleaseVerdict.DUPLICATE);
  });

  it('gives held datagrams back in order once the gap fills', () => {
    const window = new ReleaseWindow(16);
    window.hold(3, new Uint8Array([3]));
    window.hold(2, new Uint8Array([2]));
    expect(window.takeNext()).toBeUndefined();
    window.advance();
    expect(window.takeNext()).toEqual(new Uint8Array([2]));
    window.advance();
    expect(window.takeNext()).toEqual(new Uint8Array([3]));
  });

  it('copies a held datagram', () => {
    const window = new ReleaseWindow(16);
    const bytes = new Uint8Array([7]);
    window.hold(2, bytes);
    bytes[0] = 0;
    window.advance();
    expect(window.takeNext()).toEqual(new Uint8Array([7]));
  });

  it('lists held numbers as ascending, non-adjacent ranges above N + 1', () => {
    const window = new ReleaseWindow(64);
    window.cumulative = 0xffff_fffe;
    // N = 0xfffffffe; N + 1 = 0xffffffff is missing, 0 to 3 and 9 are held.
    for (const sequence of [3, 1, 0, 2, 9]) window.hold(sequence, new Uint8Array(1));
    expect(blocks(window)).toEqual([
      { start: 0, end: 3 },
      { start: 9, end: 9 },
    ]);
  });

  it('lists at most the 16 lowest ranges', () => {
    const window = new ReleaseWindow(100);
    for (let sequence = 2; sequence < 60; sequence += 2) window.hold(sequence, new Uint8Array(1));
    const listed = blocks(window);
    expect(listed).toHaveLength(16);
    expect(listed[0]).toEqual({ start: 2, end: 2 });
    expect(listed[15]).toEqual({ start: 32, end: 32 });
  });
});
