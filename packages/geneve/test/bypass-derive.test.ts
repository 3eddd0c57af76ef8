import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveGatewayMac, deriveVni, isLocalUnicastMac } from '@nat64/geneve';
import { BYPASS_VNI, GATEWAY_MAC, PERSISTENT_SECRET, SERVER4, TRANSIENT_SECRET } from './support/bypass-vectors.js';

describe('bypass-derive', () => {
  it('derives the golden VNI and MAC', () => {
    expect(deriveVni(PERSISTENT_SECRET, SERVER4)).toBe(BYPASS_VNI);
    expect(deriveGatewayMac(TRANSIENT_SECRET, SERVER4)).toEqual(GATEWAY_MAC);
  });

  it('gives another server, or another secret, other identifiers', () => {
    expect(deriveVni(PERSISTENT_SECRET, SERVER4 + 1)).not.toBe(BYPASS_VNI);
    expect(deriveVni(TRANSIENT_SECRET, SERVER4)).not.toBe(BYPASS_VNI);
    expect(deriveGatewayMac(PERSISTENT_SECRET, SERVER4)).not.toEqual(GATEWAY_MAC);
  });

  it('refuses short secrets and addresses out of range', () => {
    expect(() => deriveVni(new Uint8Array(15), SERVER4)).toThrow(RangeError);
    expect(() => deriveVni(PERSISTENT_SECRET, 2 ** 32)).toThrow(RangeError);
    expect(() => deriveGatewayMac(TRANSIENT_SECRET, -1)).toThrow(RangeError);
  });

  it('always yields a 24-bit VNI and a locally administered unicast MAC', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.integer({ min: 0, max: 0xffff_ffff }), (secret, server) => {
        const vni = deriveVni(secret, server);
        expect(Number.isInteger(vni) && vni >= 0 && vni <= 0xff_ffff).toBe(true);
        const mac = deriveGatewayMac(secret, server);
        expect(mac).toHaveLength(6);
        expect(isLocalUnicastMac(mac)).toBe(true);
      }),
    );
  });
});
