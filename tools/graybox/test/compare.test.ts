import { describe, expect, it } from 'vitest';
import { compareExchange, comparePacket } from '../src/compare.js';
import { fromHex } from '../src/hex.js';

// IPv4 UDP 192.0.2.33 -> 198.51.100.2, ID 0, TTL 63, valid header checksum 0x8f76.
const EXPECTED = fromHex('45000020000000003f118f76c0000221c633640207d00fa0000cfa0a00010203');
// The same with ID 0x1234 and its own valid checksum 0x7d42.
const OTHER_ID = fromHex('45000020123400003f117d42c0000221c633640207d00fa0000cfa0a00010203');

describe('compare', () => {
  it('accepts identical packets', () => {
    const result = comparePacket({ bytes: EXPECTED, wildcards: [], ipv4ChecksumValidOnlyAt: [] }, EXPECTED.slice());
    expect(result).toMatchObject({ ok: true, text: '' });
  });

  it('accepts another ID only where wildcarded and the header checksum verifies', () => {
    const rules = { bytes: EXPECTED, wildcards: [4, 5], ipv4ChecksumValidOnlyAt: [0] };
    expect(comparePacket(rules, OTHER_ID).ok).toBe(true);
    const badChecksum = OTHER_ID.slice();
    badChecksum[11]! ^= 1;
    const result = comparePacket(rules, badChecksum);
    expect(result.ok).toBe(false);
    expect(result.badChecksums).toEqual([0]);
    expect(result.text).toContain('IPv4 header at offset 0: checksum does not verify');
    expect(comparePacket({ bytes: EXPECTED, wildcards: [], ipv4ChecksumValidOnlyAt: [] }, OTHER_ID).ok).toBe(false);
  });

  it('reports differing bytes with their offset, field and values', () => {
    const ttl = EXPECTED.slice();
    ttl[8] = 0x40;
    const result = comparePacket({ bytes: EXPECTED, wildcards: [], ipv4ChecksumValidOnlyAt: [] }, ttl);
    expect(result.differences).toEqual([{ offset: 8, field: 'IPv4 TTL', expected: 0x3f, actual: 0x40 }]);
    expect(result.text).toBe('offset 8 (IPv4 TTL): expected 3f, actual 40');
  });

  it('groups a run of differing bytes within one field', () => {
    const addr = EXPECTED.slice();
    addr.set([10, 0, 0, 1], 16);
    const result = comparePacket({ bytes: EXPECTED, wildcards: [], ipv4ChecksumValidOnlyAt: [] }, addr);
    expect(result.text).toBe('offset 16-19 (IPv4 destination address): expected c6336402, actual 0a000001');
  });

  it('fails on a length difference', () => {
    const result = comparePacket({ bytes: EXPECTED, wildcards: [], ipv4ChecksumValidOnlyAt: [] }, EXPECTED.subarray(0, 30));
    expect(result.ok).toBe(false);
    expect(result.text).toContain('length: expected 32, actual 30');
  });

  it('matches actual packets against the queue head by version and addresses', () => {
    const rules = { bytes: EXPECTED, wildcards: [], ipv4ChecksumValidOnlyAt: [] };
    const stranger = fromHex('45000020000000003f118f76c0000222c633640207d00fa0000cfa0a00010203');
    const result = compareExchange([rules], [stranger, EXPECTED]);
    expect(result).toMatchObject({ ok: true, missing: [], ignored: [0] });
    expect(result.text).toContain('ignored actual packet(s) 0');
  });

  it('reports expected packets that never came', () => {
    const rules = { bytes: EXPECTED, wildcards: [], ipv4ChecksumValidOnlyAt: [] };
    const result = compareExchange([rules, rules], [EXPECTED]);
    expect(result.ok).toBe(false);
    expect(result.missing).toEqual([1]);
  });
});
