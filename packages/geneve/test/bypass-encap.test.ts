import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BypassEncapsulator, BypassIpv4Encapsulator, BypassStatus, BypassView, decapsulateBypass } from '@nat64/geneve';
import { BYPASS_VNI, MESSAGE, NA_FRAME, NA_REPLY, NS_FRAME, OFFER } from './support/bypass-vectors.js';
import { bytes, ipv4HeaderVerifies, udp4Verifies } from './support/bytes.js';

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
      fc.property(
        fc.integer({ min: 0, max: 0xff_ffff }),
        fc.option(fc.string({ maxLength: 30 })),
        fc.uint8Array({ minLength: 14, maxLength: 100 }),
        (vni, message, frame) => {
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
        },
      ),
    );
  });
});

describe('bypass-encap over IPv4', () => {
  it('writes the golden offer as a whole outer packet: IPv4 with DF, UDP from the flow-hash port to 6081', () => {
    const gateway = new BypassIpv4Encapsulator({ source: 0xc0000201, vni: BYPASS_VNI, message: MESSAGE });
    expect(gateway.headroom).toBe(72);
    const buf = new Uint8Array(100 + NS_FRAME.length);
    buf.set(NS_FRAME, 100);
    const start = gateway.encapsulate(buf, 100, NS_FRAME.length, 0xcb007105);
    expect(start).toBe(28);
    expect(buf.subarray(start)).toEqual(
      bytes(
        '45 00 00 9e 00 00 40 00 40 11 3c 48', // IPv4, total 158, DF, TTL 64, UDP, header checksum
        'c0 00 02 01 cb 00 71 05', // 192.0.2.1 -> 203.0.113.5
        'f2 33 17 c1 00 8a 7f 5b', // UDP 62003 (flow hash 0xeac818fb) -> 6081, length 138, checksum
        OFFER,
      ),
    );
    const packet = buf.subarray(start);
    expect(ipv4HeaderVerifies(packet.subarray(0, 20))).toBe(true);
    expect(udp4Verifies(packet.subarray(12, 16), packet.subarray(16, 20), packet.subarray(20))).toBe(true);
  });

  it('keeps a flow on one source port and spreads flows over ports', () => {
    const gateway = new BypassIpv4Encapsulator({ source: 0xc0000201, vni: BYPASS_VNI, message: '' });
    const frame = (clientPort: number) => {
      const buf = new Uint8Array(gateway.headroom + 14 + 48);
      buf.set(bytes('02 00 00 00 00 05 b2 55 e1 78 1c b0 86 dd 60 00 00 00 00 08 11 40'), gateway.headroom);
      buf[gateway.headroom + 22 + 15] = 0x17; // 2001:db8::17 without the prefix bytes: enough for a hash
      buf[gateway.headroom + 54] = clientPort >>> 8;
      buf[gateway.headroom + 55] = clientPort & 0xff;
      const start = gateway.encapsulate(buf, gateway.headroom, 62, 0xcb007105);
      return (buf[start + 20]! << 8) | buf[start + 21]!;
    };
    expect(frame(40000)).toBe(frame(40000));
    const ports = new Set([40000, 40001, 40002, 40003, 40004, 40005].map(frame));
    expect(ports.size).toBeGreaterThan(3);
    for (const port of ports) expect(port).toBeGreaterThanOrEqual(49152);
  });

  it('refuses short headroom', () => {
    const gateway = new BypassIpv4Encapsulator({ source: 0xc0000201, vni: BYPASS_VNI, message: null });
    expect(gateway.headroom).toBe(36);
    expect(() => gateway.encapsulate(new Uint8Array(200), 35, 86, 0xcb007105)).toThrow(RangeError);
  });
});
