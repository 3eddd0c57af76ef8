import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '@nat64/handoff-agent';
import { resolveOptions, type HandoffAgentOptions } from '../src/options.js';

const base: HandoffAgentOptions = { mode: 'full', clock: () => 0, send: () => undefined };

describe('options', () => {
  it('fills in every default and derives entries per datagram from the MTU', () => {
    const resolved = resolveOptions(base);
    expect(resolved.flushDelayMs).toBe(DEFAULTS.flushDelayMs);
    expect(resolved.entriesPerDatagram).toBe(36);
    expect(resolveOptions({ ...base, mtu: 1280 }).entriesPerDatagram).toBe(30);
    expect(resolveOptions({ ...base, key: new Uint8Array(32) }).entriesPerDatagram).toBe(35);
  });

  it('draws a random 64-bit epoch unless given one', () => {
    const a = resolveOptions(base).epoch;
    const b = resolveOptions(base).epoch;
    expect(a).not.toBe(b);
    expect(resolveOptions({ ...base, epoch: 5n }).epoch).toBe(5n);
  });

  it('rejects settings outside their range, naming them', () => {
    expect(() => resolveOptions({ ...base, mode: 'off' as 'full' })).toThrow(/mode/);
    expect(() => resolveOptions({ ...base, epoch: 1n << 64n })).toThrow(/epoch/);
    expect(() => resolveOptions({ ...base, key: new Uint8Array(15) })).toThrow(/key/);
    expect(() => resolveOptions({ ...base, mtu: 99 })).toThrow(/mtu/);
    expect(() => resolveOptions({ ...base, releaseWindow: 15 })).toThrow(/releaseWindow/);
    expect(() => resolveOptions({ ...base, minRtoMs: 500, initialRtoMs: 100 })).toThrow(/initialRtoMs/);
    expect(() => resolveOptions({ ...base, unreliableTotal: { perSecond: -1, burst: 1 } })).toThrow(/unreliableTotal/);
  });
});
