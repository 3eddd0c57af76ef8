import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkEntry, connKey } from '@nat64/conntrack';
import { NAT, tcp } from './helpers/entries.js';

describe('entry', () => {
  describe('connKey', () => {
    it('packs protocol code, NAT address and NAT port into one exact integer', () => {
      // code (ICMP 0, TCP 1, UDP 2) * 2^48 + address * 2^16 + port; 3719 = 0x0e87, 192.0.2.7 = 0xc0000207
      expect(connKey(6, NAT, 3719)).toBe(0x1_c000_0207_0e87);
      expect(connKey(17, 0, 0)).toBe(0x2_0000_0000_0000);
      expect(connKey(1, 0xffff_ffff, 0xffff)).toBe(0x0_ffff_ffff_ffff);
      expect(connKey(17, 0xffff_ffff, 0xffff)).toBe(0x2_ffff_ffff_ffff);
    });

    it('returns -1 for a protocol the table does not track', () => {
      expect(connKey(58, NAT, 1)).toBe(-1);
      expect(connKey(0, NAT, 1)).toBe(-1);
    });

    it('gives different keys to different (protocol, address, port)', () => {
      const key = fc.tuple(fc.constantFrom(1, 6, 17), fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0, max: 0xffff }));
      fc.assert(
        fc.property(key, key, (a, b) => {
          expect(connKey(...a) === connKey(...b)).toBe(a[0] === b[0] && a[1] === b[1] && a[2] === b[2]);
          expect(Number.isSafeInteger(connKey(...a))).toBe(true);
        }),
      );
    });
  });

  describe('checkEntry', () => {
    it('accepts a valid TCP, UDP and ICMP entry', () => {
      expect(checkEntry(tcp(3719))).toBeUndefined();
      expect(checkEntry(tcp(3719, 1, { protocol: 17 }))).toBeUndefined();
      expect(checkEntry(tcp(3719, 1, { protocol: 1, serverPort: 0 }))).toBeUndefined();
      expect(checkEntry(tcp(0xffff, 1, { natAddress: 0xffff_ffff, clientPort: 0, createdAt: 0 }))).toBeUndefined();
    });

    it('names the first invalid field', () => {
      expect(checkEntry(tcp(1, 1, { protocol: 58 }))).toBe('protocol');
      expect(checkEntry(tcp(1, 1, { natAddress: 2 ** 32 }))).toBe('nat-address');
      expect(checkEntry(tcp(1, 1, { natAddress: -1 }))).toBe('nat-address');
      expect(checkEntry(tcp(65_536))).toBe('nat-port');
      expect(checkEntry(tcp(1.5))).toBe('nat-port');
      expect(checkEntry(tcp(1, 1, { clientAddress: new Uint8Array(4) }))).toBe('client-address');
      expect(checkEntry(tcp(1, 1, { clientAddress: [1, 2] as unknown as Uint8Array }))).toBe('client-address');
      expect(checkEntry(tcp(1, 1, { clientPort: -1 }))).toBe('client-port');
      expect(checkEntry(tcp(1, 1, { serverAddress: Number.NaN }))).toBe('server-address');
      expect(checkEntry(tcp(1, 1, { serverPort: 70_000 }))).toBe('server-port');
      expect(checkEntry(tcp(1, 1, { protocol: 1, serverPort: 7 }))).toBe('server-port');
      expect(checkEntry(tcp(1, 1, { createdAt: 2 ** 53 }))).toBe('created-at');
    });
  });
});
