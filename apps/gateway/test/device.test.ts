import { ExitCode, FatalError } from '@nat64/service';
import { describe, expect, it } from 'vitest';
import { deviceMtu, slotSizeFor } from '../src/device.js';

describe('device', () => {
  it('sizes receive slots as the MTU rounded up to a cache line', () => {
    expect([slotSizeFor(1280), slotSizeFor(1500), slotSizeFor(9000)]).toEqual([1280, 1536, 9024]);
    // With offload, any IP packet: a TCP segment of 64 KiB.
    expect(slotSizeFor(1500, true)).toBeGreaterThanOrEqual(40 + 65535);
  });

  it('uses the configured MTU for a device it creates', () => {
    expect(
      deviceMtu({ name: 'nat64', mtu: 9000, create: true, batchSize: 64, offload: false, receiveSegments: true, coalesce: false, txQueueLength: 10_000 }),
    ).toBe(9000);
  });

  it('refuses to attach to an interface that does not exist, as a configuration error', () => {
    let error: unknown;
    try {
      deviceMtu({
        name: 'n64-absent-if',
        mtu: 1500,
        create: false,
        batchSize: 64,
        offload: false,
        receiveSegments: true,
        coalesce: false,
        txQueueLength: undefined,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FatalError);
    expect((error as FatalError).exitCode).toBe(ExitCode.config);
    expect((error as FatalError).message).toMatch(/no interface "n64-absent-if" to attach to/);
  });
});
