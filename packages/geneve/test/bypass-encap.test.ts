import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BypassEncapsulator, BypassStatus, BypassView, decapsulateBypass } from '@nat64/geneve';
import { BYPASS_VNI, MESSAGE, NA_FRAME, NA_REPLY, NS_FRAME, OFFER } from './support/bypass-vectors.js';

describe('bypass-encap', () => {
  it('writes the golden offer in front of the frame, through headroom', () => {
    const gateway = new BypassEncapsulator({ vni: BYPASS_VNI, message: MESSAGE });
    expect(gateway.headerLength).toBe(44);
    const buf = new Uint8Array(64 + NS_FRAME.length);
    buf.set(NS_FRAME, 64);
    const start = gateway.encapsulate(buf, 64, NS_FRAME.length);
    expect(start).toBe(20);
    expect(buf.subarray(start)).toEqual(OFFER);
  });

  it('writes the golden reply without an option', () => {
    const server = new BypassEncapsulator({ vni: BYPASS_VNI, message: null });
    expect(server.headerLength).toBe(8);
    const buf = new Uint8Array(8 + NA_FRAME.length);
    buf.set(NA_FRAME, 8);
    expect(server.encapsulate(buf, 8, NA_FRAME.length)).toBe(0);
    expect(buf).toEqual(NA_REPLY);
  });

  it('refuses short headroom and out-of-range VNIs', () => {
    const server = new BypassEncapsulator({ vni: BYPASS_VNI, message: null });
    expect(() => server.encapsulate(new Uint8Array(100), 7, 10)).toThrow(RangeError);
    expect(() => server.encapsulate(new Uint8Array(100), 8, 93)).toThrow(RangeError);
    expect(() => new BypassEncapsulator({ vni: 0x100_0000, message: null })).toThrow(RangeError);
  });

  it('produces what the decoder accepts, for any VNI, message and frame', () => {
    const view = new BypassView();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xff_ffff }), fc.option(fc.string({ maxLength: 30 })), fc.uint8Array({ minLength: 14, maxLength: 100 }), (vni, message, frame) => {
        frame[12] = 0x86;
        frame[13] = 0xdd;
        const encapsulator = new BypassEncapsulator({ vni, message });
        const buf = new Uint8Array(200 + frame.length);
        buf.set(frame, 200);
        const start = encapsulator.encapsulate(buf, 200, frame.length);
        const status = decapsulateBypass(buf, start, buf.length - start, view, { vni, direction: message === null ? 'to-gateway' : 'to-server' });
        expect(status).toBe(BypassStatus.FRAME);
        expect(view.hasBypassOption).toBe(message !== null);
        expect(buf.subarray(view.frameOffset, view.frameOffset + view.frameLength)).toEqual(frame);
      }),
    );
  });
});
