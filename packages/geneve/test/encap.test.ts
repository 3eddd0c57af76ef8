import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecapStatus, GeneveView, Ipv4Encapsulator, Ipv6Encapsulator, createReceivePolicy, decapsulate } from '@nat64/geneve';
import type { MappingOption } from '@nat64/geneve';
import { bytes, ipv4HeaderVerifies, udp4Verifies, udp6Verifies } from './support/bytes.js';
import { AUTH_KEY_ID, AUTH_SECRET, GATEWAY4, GATEWAY4_BYTES, GATEWAY6, GOLDEN, INNER, MAPPING_VALUE } from './support/vectors.js';
import { SERVER4, SERVER4_BYTES, SERVER6, VNI } from './support/vectors.js';

const auth = { keyId: AUTH_KEY_ID, secret: AUTH_SECRET };

function encapsulator(family: 4 | 6, withAuth: boolean): Ipv4Encapsulator | Ipv6Encapsulator {
  const common = { vni: VNI, ...(withAuth ? { auth } : {}) };
  return family === 4 ? new Ipv4Encapsulator({ ...common, source: GATEWAY4 }) : new Ipv6Encapsulator({ ...common, source: GATEWAY6 });
}

/** Runs one encapsulation of `payload`, placed at the end of a buffer with `extra` spare bytes in front. */
function run(family: 4 | 6, withAuth: boolean, payload: Uint8Array, mapping: MappingOption | null, control: boolean, extra = 0) {
  const e = encapsulator(family, withAuth);
  const buf = new Uint8Array(extra + e.headroom + payload.length).fill(0xee);
  const payloadOffset = extra + e.headroom;
  buf.set(payload, payloadOffset);
  let start: number;
  if (e instanceof Ipv4Encapsulator) {
    start = control
      ? e.encapsulateControl(buf, payloadOffset, payload.length, SERVER4, mapping)
      : e.encapsulate(buf, payloadOffset, payload.length, SERVER4, mapping);
  } else {
    start = control
      ? e.encapsulateControl(buf, payloadOffset, payload.length, SERVER6, mapping)
      : e.encapsulate(buf, payloadOffset, payload.length, SERVER6, mapping);
  }
  return { buf, start, payloadOffset };
}

function checksumsVerify(family: 4 | 6, packet: Uint8Array): boolean {
  if (family === 4) return ipv4HeaderVerifies(packet.subarray(0, 20)) && udp4Verifies(GATEWAY4_BYTES, SERVER4_BYTES, packet.subarray(20));
  return udp6Verifies(GATEWAY6, SERVER6, packet.subarray(40));
}

describe('encap', () => {
  for (const vector of GOLDEN) {
    it(`writes the golden ${vector.name} packet`, () => {
      const { buf, start } = run(vector.family, vector.withAuth, vector.payload, vector.withMapping ? MAPPING_VALUE : null, vector.control);
      expect(buf.subarray(start)).toEqual(vector.packet);
    });

    it(`carries checksums in the golden ${vector.name} packet that verify`, () => {
      expect(checksumsVerify(vector.family, vector.packet)).toBe(true);
    });
  }

  it('writes exactly in front of the payload without touching it or the bytes before the headers', () => {
    for (const family of [4, 6] as const) {
      const { buf, start, payloadOffset } = run(family, true, INNER, MAPPING_VALUE, false, 24);
      const original = buf.buffer;
      expect(start).toBe(24);
      expect(buf.buffer).toBe(original);
      expect(buf.subarray(payloadOffset)).toEqual(INNER);
      expect(buf.subarray(0, 24).every((b) => b === 0xee)).toBe(true);
    }
  });

  it('starts later by the unused mapping space when no mapping is sent', () => {
    const e = new Ipv4Encapsulator({ vni: VNI, source: GATEWAY4 });
    const buf = new Uint8Array(e.headroom + INNER.length);
    buf.set(INNER, e.headroom);
    const before = buf.subarray(e.headroom);
    const start = e.encapsulate(buf, e.headroom, INNER.length, SERVER4, null);
    // headroom = 20 + 8 + 8 + 40 (mapping option); without a mapping only 36 bytes are written.
    expect(e.headroom).toBe(76);
    expect(start).toBe(40);
    expect(before).toEqual(INNER);
    expect(before.buffer).toBe(buf.buffer);
  });

  it('refuses a payload with too little headroom and writes nothing', () => {
    const e = new Ipv6Encapsulator({ vni: VNI, source: GATEWAY6 });
    const buf = new Uint8Array(40 + 8 + 8 - 1 + INNER.length);
    buf.set(INNER, buf.length - INNER.length);
    const copy = buf.slice();
    expect(() => e.encapsulate(buf, buf.length - INNER.length, INNER.length, SERVER6, null)).toThrow(RangeError);
    expect(buf).toEqual(copy);
  });

  it('sends a zero UDP checksum over IPv4 when configured to', () => {
    const e = new Ipv4Encapsulator({ vni: VNI, source: GATEWAY4, udpChecksum: false });
    const buf = new Uint8Array(e.headroom + INNER.length);
    buf.set(INNER, e.headroom);
    const start = e.encapsulate(buf, e.headroom, INNER.length, SERVER4, null);
    expect(buf.subarray(start + 26, start + 28)).toEqual(bytes('00 00'));
    expect(ipv4HeaderVerifies(buf.subarray(start, start + 20))).toBe(true);
  });

  it('sends a zero UDP checksum and no flow label over IPv6 only when asked to', () => {
    const e = new Ipv6Encapsulator({ vni: VNI, source: GATEWAY6, zeroUdpChecksum: true, flowLabel: false });
    const buf = new Uint8Array(e.headroom + INNER.length);
    buf.set(INNER, e.headroom);
    const start = e.encapsulate(buf, e.headroom, INNER.length, SERVER6, null);
    expect(buf.subarray(start, start + 4)).toEqual(bytes('60 00 00 00'));
    expect(buf.subarray(start + 46, start + 48)).toEqual(bytes('00 00'));
  });

  it('writes the configured TTL and DSCP with a Not-ECT outer ECN field', () => {
    const e = new Ipv4Encapsulator({ vni: VNI, source: GATEWAY4, ttl: 9, dscp: 46 });
    const inner = INNER.slice();
    inner[1] = 0x03; // inner CE: must not leak to the outer header
    const buf = new Uint8Array(e.headroom + inner.length);
    buf.set(inner, e.headroom);
    const start = e.encapsulate(buf, e.headroom, inner.length, SERVER4, null);
    expect(buf[start + 1]).toBe(46 << 2);
    expect(buf[start + 8]).toBe(9);
    expect(ipv4HeaderVerifies(buf.subarray(start, start + 20))).toBe(true);
  });

  it('rejects a mapping with out-of-range fields', () => {
    const e = new Ipv4Encapsulator({ vni: VNI, source: GATEWAY4 });
    const buf = new Uint8Array(e.headroom + INNER.length);
    expect(() => e.encapsulate(buf, e.headroom, INNER.length, SERVER4, { ...MAPPING_VALUE, natPort: 70000 })).toThrow(RangeError);
  });

  it('produces packets the receiver accepts, with checksums that verify, for arbitrary flows and mappings', () => {
    const view = new GeneveView();
    const policy = createReceivePolicy({ vni: VNI, authKeys: new Map([[AUTH_KEY_ID, AUTH_SECRET]]) });
    const inner = fc
      .record({
        header: fc.uint8Array({ minLength: 20, maxLength: 20 }),
        rest: fc.uint8Array({ maxLength: 1400 }),
        protocol: fc.constantFrom(1, 6, 17, 47),
      })
      .map(({ header, rest, protocol }) => {
        const packet = bytes(header, rest);
        packet[0] = 0x45;
        packet[9] = protocol;
        return packet;
      });
    const mapping = fc.option(
      fc.record({
        protocol: fc.integer({ min: 0, max: 255 }),
        event: fc.constantFrom(1 as const, 2 as const, 3 as const),
        natAddress: fc.integer({ min: 0, max: 0xffff_ffff }),
        natPort: fc.integer({ min: 0, max: 0xffff }),
        clientAddress: fc.uint8Array({ minLength: 16, maxLength: 16 }),
        clientPort: fc.integer({ min: 0, max: 0xffff }),
        creationTimeUs: fc.maxSafeNat(),
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(4 as const, 6 as const), inner, mapping, fc.nat({ max: 16 }), (family, packet, map, extra) => {
        const { buf, start, payloadOffset } = run(family, true, packet, map, false, extra);
        expect(buf.subarray(payloadOffset)).toEqual(packet);
        const whole = buf.subarray(start);
        expect(checksumsVerify(family, whole)).toBe(true);
        const udp = start + (family === 4 ? 20 : 40) + 8;
        expect(decapsulate(buf, udp, buf.length - udp, view, policy)).toBe(DecapStatus.DATA);
        expect(view.payloadOffset).toBe(payloadOffset);
        expect(view.hasMapping).toBe(map !== null);
        if (map !== null) {
          const client = new Uint8Array(16);
          view.copyClientAddress(client);
          expect({ ...map, clientAddress: client }).toEqual({
            protocol: view.protocol,
            event: view.event,
            natAddress: view.natAddress,
            natPort: view.natPort,
            clientAddress: map.clientAddress,
            clientPort: view.clientPort,
            creationTimeUs: view.creationTimeUs,
          });
        }
      }),
      { numRuns: 200 },
    );
  });
});
