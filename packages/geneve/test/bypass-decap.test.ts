import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BYPASS_STATUS_COUNT, BYPASS_STATUS_NAMES, BypassStatus, BypassView, decapsulateBypass, isBypassDrop, isBypassPacket } from '@nat64/geneve';
import type { BypassPolicy } from '@nat64/geneve';
import { bytes } from './support/bytes.js';
import { BYPASS_VNI, MESSAGE, NA_FRAME, NA_REPLY, NS_FRAME, OFFER } from './support/bypass-vectors.js';
import { GENEVE_MAPPING, GENEVE_PLAIN, INNER } from './support/vectors.js';

const view = new BypassView();
const server: BypassPolicy = { vni: BYPASS_VNI, direction: 'to-server' };
const anyVni: BypassPolicy = { vni: -1, direction: 'to-server' };
const gateway: BypassPolicy = { vni: BYPASS_VNI, direction: 'to-gateway' };

function run(packet: Uint8Array, policy: BypassPolicy, offset = 0): number {
  return decapsulateBypass(packet, offset, packet.length - offset, view, policy);
}

describe('bypass-decap', () => {
  it('names every status once', () => {
    expect(BYPASS_STATUS_NAMES).toHaveLength(BYPASS_STATUS_COUNT);
    expect(Object.values(BypassStatus).sort((a, b) => a - b)).toEqual([...Array(BYPASS_STATUS_COUNT).keys()]);
    expect(isBypassDrop(BypassStatus.FRAME) || isBypassDrop(BypassStatus.AUDIT_MIRROR)).toBe(false);
    expect(isBypassDrop(BypassStatus.VNI_MISMATCH)).toBe(true);
  });

  it('reads the golden offer: VNI, message and frame', () => {
    const buf = bytes('ff ff ff', OFFER);
    expect(run(buf, anyVni, 3)).toBe(BypassStatus.FRAME);
    expect(view).toMatchObject({ vni: BYPASS_VNI, hasBypassOption: true, messageOffset: 15, messageLength: 31, frameOffset: 47, frameLength: 86 });
    expect(new TextDecoder().decode(buf.subarray(view.messageOffset, view.messageOffset + view.messageLength))).toBe(MESSAGE);
    expect(buf.subarray(view.frameOffset)).toEqual(NS_FRAME);
  });

  it('accepts the golden reply at the gateway and refuses it with the option', () => {
    expect(run(NA_REPLY, gateway)).toBe(BypassStatus.FRAME);
    expect(view).toMatchObject({ hasBypassOption: false, frameOffset: 8, frameLength: 86 });
    expect(run(OFFER, gateway)).toBe(BypassStatus.OPTION_FROM_SERVER);
    expect(view.failOffset).toBe(8);
  });

  it('drops another VNI', () => {
    const other = OFFER.slice();
    other[6] = other[6]! ^ 1;
    expect(run(other, server)).toBe(BypassStatus.VNI_MISMATCH);
    expect(view.failOffset).toBe(4);
    expect(run(other, anyVni)).toBe(BypassStatus.FRAME);
  });

  it('counts an audit mirror and never calls it a frame, whatever else it carries', () => {
    const mirror = bytes('03 40 65 58', '48 b2 5c 00', '01 62 81 02', '61 75 64 69 74 ff ff ff', NS_FRAME);
    expect(run(mirror, server)).toBe(BypassStatus.AUDIT_MIRROR);
    expect(view).toMatchObject({ auditMirror: true, auditMessageOffset: 12, auditMessageLength: 5 });
    const mirroredReply = bytes('01 40 65 58', '48 b2 5c 00', '01 62 81 00', NA_FRAME);
    expect(run(mirroredReply, gateway)).toBe(BypassStatus.AUDIT_MIRROR);
  });

  it('drops unknown critical options but skips unknown non-critical ones', () => {
    expect(run(bytes('01 40 65 58', '48 b2 5c 00', '01 62 82 00', NS_FRAME), server)).toBe(BypassStatus.UNKNOWN_CRITICAL);
    expect(run(bytes('01 00 65 58', '48 b2 5c 00', 'ff 64 82 00', NS_FRAME), server)).toBe(BypassStatus.UNKNOWN_CRITICAL);
    expect(run(bytes('02 00 65 58', '48 b2 5c 00', 'ff 64 05 01 00 00 00 00', NS_FRAME), server)).toBe(BypassStatus.FRAME);
    expect(view.skippedOptions).toBe(1);
  });

  it('drops the O bit, other protocol types and frames that are not IPv6', () => {
    expect(run(bytes('00 80 65 58', '48 b2 5c 00', NA_FRAME), server)).toBe(BypassStatus.OAM);
    expect(run(bytes('00 00 86 dd', '48 b2 5c 00', NA_FRAME.subarray(14)), server)).toBe(BypassStatus.BAD_PROTOCOL);
    expect(run(bytes('00 00 65 58', '48 b2 5c 00', NA_FRAME.subarray(0, 13)), server)).toBe(BypassStatus.BAD_INNER);
    const arp = NA_FRAME.slice();
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(run(bytes('00 00 65 58', '48 b2 5c 00', arp), server)).toBe(BypassStatus.BAD_INNER);
  });

  it('drops packets cut short at each structural boundary', () => {
    for (let length = 0; length < 8; length++) expect(decapsulateBypass(OFFER, 0, length, view, server)).toBe(BypassStatus.TRUNCATED);
    for (const length of [8, 12, 43]) expect(decapsulateBypass(OFFER, 0, length, view, server)).toBe(BypassStatus.OPTIONS_TRUNCATED);
    expect(run(bytes('01 00 65 58', '48 b2 5c 00', '01 62 00 01'), server)).toBe(BypassStatus.OPTION_OVERRUN);
    expect(run(bytes('40 00 65 58', '48 b2 5c 00'), server)).toBe(BypassStatus.BAD_VERSION);
  });

  it('tells bypass packets from those of our mapping transport', () => {
    expect(isBypassPacket(OFFER, 0, OFFER.length)).toBe(true);
    expect(isBypassPacket(NA_REPLY, 0, NA_REPLY.length)).toBe(true);
    expect(isBypassPacket(bytes(GENEVE_PLAIN, INNER), 0, 40)).toBe(false);
    expect(isBypassPacket(bytes(GENEVE_MAPPING, INNER), 0, 80)).toBe(false);
    expect(isBypassPacket(bytes('01 00 08 00', '00 00 01 00', '01 62 00 00'), 0, 12)).toBe(true);
    expect(isBypassPacket(OFFER, 0, 5)).toBe(false);
  });

  it('never throws and always names a status, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (packet, toGateway) => {
        const status = run(packet, toGateway ? gateway : anyVni);
        expect(status).toBeGreaterThanOrEqual(0);
        expect(status).toBeLessThan(BYPASS_STATUS_COUNT);
        isBypassPacket(packet, 0, packet.length);
      }),
    );
  });
});
