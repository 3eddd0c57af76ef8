import { ConfigError } from '@nat64/service';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.js';
import { BatchClock, buildEngine, refusesNonGlobal, translatorOptions } from '@nat64/gateway-engine';

const config = (flags: Record<string, unknown>) => loadGatewayConfig({ flags: { pool4: ['198.51.100.1'], ...flags } });

describe('gateway', () => {
  it('refuses non-global IPv4 only under the Well-Known Prefix, and only when asked to', () => {
    expect(refusesNonGlobal(config({}))).toBe(true);
    expect(refusesNonGlobal(config({ refuseNonGlobalUnderWkp: false }))).toBe(false);
    expect(refusesNonGlobal(config({ prefix: '2001:db8:64::/96' }))).toBe(false);
  });

  it('sources its own ICMPv6 errors from the prefix form of its IPv4 address unless told otherwise', () => {
    const clock = new BatchClock(() => 0);
    expect(translatorOptions(config({ prefix: '2001:db8:64::/96' }), clock).ipv6Address).toBe('2001:db8:64::c633:6401');
    expect(translatorOptions(config({ translation: { ipv6Address: '2001:db8::1' } }), clock).ipv6Address).toBe('2001:db8::1');
  });

  it('reports two static entries on one NAT port as a configuration error of staticBib', () => {
    const bad = config({
      staticBib: [
        { protocol: 'tcp', ipv6: '[2001:db8::5]:80', ipv4: '198.51.100.1:80' },
        { protocol: 'tcp', ipv6: '[2001:db8::6]:80', ipv4: '198.51.100.1:80' },
      ],
    });
    let error: unknown;
    try {
      buildEngine(bad, { maxInputSize: 1536, inputBatchSize: 64 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^staticBib: NAT port 80 .* is already in use/);
  });

  it('puts the configured static entries in the table', () => {
    const parts = buildEngine(config({ staticBib: [{ protocol: 'udp', ipv6: '[2001:db8::5]:53', ipv4: '198.51.100.1:53' }] }), {
      maxInputSize: 1536,
      inputBatchSize: 64,
    });
    expect(parts.table.bibCount).toBe(1);
    expect(parts.table.isStaticBib(parts.table.findBibByNat(17, 0xc6336401, 53))).toBe(true);
  });
});
