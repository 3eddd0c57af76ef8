import { describe, expect, it } from 'vitest';
import { layoutIcmpError, plateauBelow } from '../src/icmp-layout.js';
import { IcmpLayout } from '../src/state.js';

function layout(translated: number, extension: number, max: number, headers: number, unit: number): [number, number, number] {
  const l = new IcmpLayout();
  layoutIcmpError(l, translated, extension, max, headers, unit);
  return [l.datagram, l.padded, l.extension];
}

describe('icmp-layout', () => {
  it('cuts a plain error to the size limit', () => {
    expect(layout(1500, 0, 576, 28, 4)).toEqual([548, 548, 0]);
    expect(layout(300, 0, 576, 28, 4)).toEqual([300, 300, 0]);
    expect(layout(1492, 0, 1280, 48, 8)).toEqual([1232, 1232, 0]);
  });

  it('pads a short datagram to 128 bytes ahead of an extension (RFC 4884 section 4)', () => {
    expect(layout(102, 20, 576, 28, 4)).toEqual([102, 128, 20]);
    expect(layout(48, 40, 1280, 48, 8)).toEqual([48, 128, 40]);
  });

  it('trims a longer datagram to whole length units', () => {
    expect(layout(146, 20, 1280, 48, 8)).toEqual([144, 144, 20]);
    expect(layout(130, 20, 576, 28, 4)).toEqual([128, 128, 20]);
  });

  it('trims the datagram rather than the extension, down to 128 bytes', () => {
    expect(layout(516, 40, 576, 28, 4)).toEqual([508, 508, 40]);
    expect(layout(1040, 1104, 1280, 48, 8)).toEqual([128, 128, 1104]);
  });

  it('drops an extension that cannot fit next to 128 bytes of datagram', () => {
    expect(layout(108, 421, 576, 28, 4)).toEqual([108, 108, 0]);
    expect(layout(1040, 1105, 1280, 48, 8)).toEqual([1040, 1040, 0]);
    expect(layout(556, 521, 576, 28, 4)).toEqual([548, 548, 0]);
  });

  it('guesses the RFC 1191 plateau below a total length', () => {
    expect(plateauBelow(1500)).toBe(1492);
    expect(plateauBelow(1492)).toBe(1006);
    expect(plateauBelow(65536)).toBe(65535);
    expect(plateauBelow(69)).toBe(68);
    expect(plateauBelow(40)).toBe(68);
  });
});
