import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GeneveDecodeError, NdpStatus, NdpView, inspectNeighborMessage, neighborMessage } from '@nat64/geneve';
import { writeNeighborAdvertisement, writeNeighborSolicitation } from '@nat64/geneve';
import type { NeighborMessage } from '@nat64/geneve';
import { bytes } from './support/bytes.js';
import { GATEWAY_LINK_LOCAL, GATEWAY_MAC, NA_FRAME, NS_FRAME, SERVER_MAC, SOLICITED_NODE, TARGET } from './support/bypass-vectors.js';

const view = new NdpView();

describe('ndp', () => {
  it('builds the golden offer solicitation', () => {
    const buf = new Uint8Array(86);
    expect(writeNeighborSolicitation(buf, 0, { sourceMac: GATEWAY_MAC, source: GATEWAY_LINK_LOCAL, target: TARGET })).toBe(86);
    expect(buf).toEqual(NS_FRAME);
  });

  it('builds the golden advertisement', () => {
    const buf = new Uint8Array(90);
    const end = writeNeighborAdvertisement(buf, 4, {
      sourceMac: SERVER_MAC,
      destinationMac: GATEWAY_MAC,
      source: TARGET,
      destination: GATEWAY_LINK_LOCAL,
      target: TARGET,
    });
    expect(end).toBe(90);
    expect(buf.subarray(4)).toEqual(NA_FRAME);
  });

  it('builds a unicast solicitation for unreachability detection', () => {
    const buf = new Uint8Array(86);
    writeNeighborSolicitation(buf, 0, { sourceMac: GATEWAY_MAC, destinationMac: SERVER_MAC, source: GATEWAY_LINK_LOCAL, target: TARGET });
    expect(neighborMessage.decode(buf)).toMatchObject({ type: 135, destinationMac: SERVER_MAC, destination: TARGET, target: TARGET });
  });

  it('inspects the golden frames into the view', () => {
    expect(inspectNeighborMessage(NS_FRAME, 0, NS_FRAME.length, view)).toBe(NdpStatus.SOLICITATION);
    expect(view).toMatchObject({ type: 135, flags: 0, sourceMacOffset: 6, sourceOffset: 22, destinationOffset: 38, targetOffset: 62, linkLayerOffset: 80 });
    expect(inspectNeighborMessage(NA_FRAME, 0, NA_FRAME.length, view)).toBe(NdpStatus.ADVERTISEMENT);
    expect(view).toMatchObject({ type: 136, flags: 0x60, linkLayerOffset: 80 });
    expect(neighborMessage.decode(NS_FRAME)).toEqual({
      type: 135,
      destinationMac: bytes('33 33 ff 00 71 05'),
      sourceMac: GATEWAY_MAC,
      source: GATEWAY_LINK_LOCAL,
      destination: SOLICITED_NODE,
      target: TARGET,
      flags: 0,
      linkLayer: GATEWAY_MAC,
    });
  });

  it('reports a frame cut short at each header boundary', () => {
    for (const length of [0, 13, 14, 53, 54, 77, 78, 85]) expect(inspectNeighborMessage(NS_FRAME, 0, length, view)).toBe(NdpStatus.TRUNCATED);
    expect(() => neighborMessage.decode(NS_FRAME, 0, 85)).toThrow(GeneveDecodeError);
  });

  it('refuses what RFC 4861 says to discard', () => {
    const cases: [string, (frame: Uint8Array) => void, number][] = [
      ['IPv4 EtherType', (f) => (f[13] = 0x00), NdpStatus.NOT_IPV6],
      ['version 4', (f) => (f[14] = 0x40), NdpStatus.NOT_IPV6],
      ['UDP', (f) => (f[20] = 17), NdpStatus.NOT_ICMPV6],
      ['hop limit 254', (f) => (f[21] = 254), NdpStatus.BAD_HOP_LIMIT],
      ['echo request', (f) => (f[54] = 128), NdpStatus.NOT_NEIGHBOR],
      ['code 1', (f) => (f[55] = 1), NdpStatus.NOT_NEIGHBOR],
      ['checksum', (f) => (f[57] = f[57]! ^ 1), NdpStatus.BAD_CHECKSUM],
    ];
    for (const [, corrupt, status] of cases) {
      const frame = NS_FRAME.slice();
      corrupt(frame);
      expect(inspectNeighborMessage(frame, 0, frame.length, view)).toBe(status);
    }
  });

  it('refuses an option of length zero (RFC 4861 §4.6)', () => {
    const frame = NS_FRAME.slice();
    frame[79] = 0; // the option's Length: its word drops by 1, so the checksum rises by 1
    const fixed = (((frame[56]! << 8) | frame[57]!) + 1) & 0xffff;
    frame[56] = fixed >>> 8;
    frame[57] = fixed & 0xff;
    expect(inspectNeighborMessage(frame, 0, 86, view)).toBe(NdpStatus.BAD_OPTION);
  });

  it('round-trips any message at any offset', () => {
    const address = fc.uint8Array({ minLength: 16, maxLength: 16 });
    const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
    const message: fc.Arbitrary<NeighborMessage> = fc.oneof(
      fc.record({
        type: fc.constant(135 as const),
        destinationMac: mac,
        sourceMac: mac,
        source: address,
        destination: address,
        target: address,
        flags: fc.constant(0),
        linkLayer: fc.option(mac),
      }),
      fc.record({
        type: fc.constant(136 as const),
        destinationMac: mac,
        sourceMac: mac,
        source: address,
        destination: address,
        target: address,
        flags: fc.constantFrom(0, 0x20, 0x40, 0x60, 0xe0),
        linkLayer: fc.option(mac),
      }),
    );
    fc.assert(
      fc.property(message, fc.integer({ min: 0, max: 6 }), (value, offset) => {
        const buf = new Uint8Array(offset + neighborMessage.encodingLength(value));
        expect(neighborMessage.encode(value, buf, offset)).toBe(buf.length);
        expect(neighborMessage.decode(buf, offset)).toEqual(value);
      }),
    );
  });
});
