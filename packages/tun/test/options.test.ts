import { describe, expect, it } from 'vitest';
import { TunError, openTun } from '@nat64/tun';
import { checkTunOptions, defaultSlotSize, resolveRxShape } from '../src/options.js';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof TunError ? error.code : 'not a TunError';
  }
  return undefined;
}

describe('options', () => {
  it('accepts names up to 15 bytes, counting UTF-8 bytes', () => {
    expect(() => checkTunOptions({ name: 'a'.repeat(15) })).not.toThrow();
    expect(() => checkTunOptions({ name: 'tun%d' })).not.toThrow();
    expect(() => checkTunOptions({ name: 'a'.repeat(16) })).toThrow('name "aaaaaaaaaaaaaaaa" must be at most 15 bytes without NUL, it is 16');
    expect(codeOf(() => checkTunOptions({ name: 'é'.repeat(8) }))).toBe('ERR_TUN_OPTION');
    expect(codeOf(() => checkTunOptions({ name: '' }))).toBe('ERR_TUN_OPTION');
    expect(codeOf(() => checkTunOptions({ name: 'a\0b' }))).toBe('ERR_TUN_OPTION');
  });

  it('checks the MTU and the receive shape against their ranges', () => {
    expect(codeOf(() => checkTunOptions({ name: 't', mtu: 68 }))).toBeUndefined();
    expect(codeOf(() => checkTunOptions({ name: 't', mtu: 65535 }))).toBeUndefined();
    expect(() => checkTunOptions({ name: 't', mtu: 67 })).toThrow('mtu must be an integer from 68 to 65535, got 67');
    expect(codeOf(() => checkTunOptions({ name: 't', mtu: 65536 }))).toBe('ERR_TUN_OPTION');
    expect(codeOf(() => checkTunOptions({ name: 't', mtu: 1500.5 }))).toBe('ERR_TUN_OPTION');
    expect(codeOf(() => checkTunOptions({ name: 't', batchSize: 1025 }))).toBe('ERR_TUN_OPTION');
    expect(codeOf(() => checkTunOptions({ name: 't', slotSize: 0 }))).toBe('ERR_TUN_OPTION');
    expect(codeOf(() => checkTunOptions({ name: 't', batchesPerWake: 65 }))).toBe('ERR_TUN_OPTION');
    expect(codeOf(() => checkTunOptions({ name: 't', txQueueLength: 10_000 }))).toBeUndefined();
    expect(() => checkTunOptions({ name: 't', txQueueLength: 0 })).toThrow('txQueueLength must be an integer from 1 to 1000000, got 0');
    expect(codeOf(() => checkTunOptions({ name: 't', txQueueLength: 1_000_001 }))).toBe('ERR_TUN_OPTION');
  });

  it('rejects bad options in openTun before touching the kernel', () => {
    expect(codeOf(() => openTun({ name: 'much-too-long-name' }))).toBe('ERR_TUN_OPTION');
  });

  it('rounds the default slot up to whole 64-byte lines and fills in defaults', () => {
    expect([defaultSlotSize(1500), defaultSlotSize(1280), defaultSlotSize(1281), defaultSlotSize(68)]).toEqual([1536, 1280, 1344, 128]);
    expect(resolveRxShape({}, 1500)).toEqual({ batchSize: 64, slotSize: 1536, batchesPerWake: 4 });
    const given = { batchSize: 8, slotSize: 2048, batchesPerWake: 1 };
    expect(resolveRxShape(given, 1500)).toEqual(given);
  });
});
