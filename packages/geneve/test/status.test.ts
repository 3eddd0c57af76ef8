import { describe, expect, it } from 'vitest';
import { BYPASS_STATUS_COUNT, BYPASS_STATUS_NAMES, BypassStatus, DECAP_STATUS_COUNT, DECAP_STATUS_NAMES, DecapStatus } from '@nat64/geneve';

describe('status', () => {
  it('names every decoder status as the counters print it (geneveDrop.<name>, bypassDrop.<name>)', () => {
    expect(DECAP_STATUS_COUNT).toBe(15);
    expect(DECAP_STATUS_NAMES[DecapStatus.DATA]).toBe('data');
    expect(DECAP_STATUS_NAMES[DecapStatus.BAD_VERSION]).toBe('bad-version');
    expect(DECAP_STATUS_NAMES[DecapStatus.AUTH_UNKNOWN_KEY]).toBe('auth-unknown-key');
    expect(BYPASS_STATUS_COUNT).toBe(12);
    expect(BYPASS_STATUS_NAMES[BypassStatus.AUDIT_MIRROR]).toBe('audit-mirror');
    expect(BYPASS_STATUS_NAMES[BypassStatus.OPTION_FROM_SERVER]).toBe('option-from-server');
  });
});
