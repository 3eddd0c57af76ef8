import { describe, expect, it } from 'vitest';
import { foldSum, pseudoHeaderSum6, sumWords } from '@nat64/wire';
import { Ipv6View, parseIpv6, ParseStatus } from '@nat64/xlat';
import { TCP_RESET_LENGTH, writeTcpReset } from '@nat64/gateway-engine';
import { CLIENT, SERVER6 } from './support/engine.js';
import { TCP_ACK, TCP_SYN, ipv6, read16 } from './support/packets.js';

const RST = 0x04;
const PSH = 0x08;

function segment(flags: number, seq: number, ack: number, payload = new Uint8Array(0)): Ipv6View {
  const bytes = ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 41_000, dstPort: 80, tcpFlags: flags, payload });
  const view = new DataView(bytes.buffer);
  view.setUint32(44, seq);
  view.setUint32(48, ack);
  const v = new Ipv6View(false);
  expect(parseIpv6(bytes, 0, bytes.length, v)).toBe(ParseStatus.ok);
  return v;
}

function reset(v: Ipv6View): { bytes: Uint8Array; seq: number; ack: number; flags: number } {
  const out = new Uint8Array(100);
  expect(writeTcpReset(v, out, 10)).toBe(TCP_RESET_LENGTH);
  const bytes = out.subarray(10, 10 + TCP_RESET_LENGTH);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { bytes, seq: view.getUint32(44), ack: view.getUint32(48), flags: bytes[53]! };
}

describe('writeTcpReset', () => {
  it('answers a segment with ACK by a RST whose sequence number is that ACK, back to its sender, with a valid checksum', () => {
    const { bytes, seq, flags } = reset(segment(TCP_ACK | PSH, 1000, 0xdead_beef, Uint8Array.of(1, 2, 3)));
    expect([seq, flags]).toEqual([0xdead_beef, RST]);
    expect(bytes.subarray(8, 24)).toEqual(segment(TCP_ACK, 0, 0).buf.subarray(24, 40));
    expect(bytes.subarray(24, 40)).toEqual(segment(TCP_ACK, 0, 0).buf.subarray(8, 24));
    expect([read16(bytes, 40), read16(bytes, 42)]).toEqual([80, 41_000]);
    expect([bytes[0]! >> 4, read16(bytes, 4), bytes[6]]).toEqual([6, 20, 6]);
    const sum = pseudoHeaderSum6(bytes, 8, bytes, 24, 6, 20) + sumWords(bytes, 40, 60);
    expect(foldSum(sum)).toBe(0xffff);
  });

  it('answers a segment without ACK by RST+ACK acknowledging its sequence number plus its length', () => {
    const { seq, ack, flags } = reset(segment(TCP_SYN, 0xffff_fffe, 0, Uint8Array.of(1, 2)));
    expect([seq, ack, flags]).toEqual([0, 1, RST | TCP_ACK]);
  });

  it('never answers a RST', () => {
    expect(writeTcpReset(segment(RST | TCP_ACK, 1, 1), new Uint8Array(100), 0)).toBe(0);
  });
});
