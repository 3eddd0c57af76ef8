import { describe, expect, it } from 'vitest';
import { PacketBatch, XlatError } from '@nat64/xlat';

describe('batch', () => {
  it('lays out slots with headroom in front of every packet', () => {
    const b = new PacketBatch({ capacity: 3, maxPacketSize: 1500, headroom: 100 });
    expect(b.headroom).toBe(104); // rounded up to a multiple of 8
    expect(b.slotSize).toBe(1608);
    expect([...b.offsets]).toEqual([104, 1608 + 104, 2 * 1608 + 104]);
    expect(b.buffer.length).toBe(3 * 1608);
  });

  it('appends packets in order and reports when full', () => {
    const b = new PacketBatch({ capacity: 2, maxPacketSize: 1280 });
    const first = b.reserve();
    b.buffer.set([1, 2, 3], first);
    b.commit(3);
    const second = b.reserve();
    b.commit(10);
    expect([first, second]).toEqual([0, 1280]);
    expect(b.reserve()).toBe(-1);
    expect(b.free).toBe(0);
    expect([...b.lengths]).toEqual([3, 10]);
    expect([...b.packet(0)]).toEqual([1, 2, 3]);
  });

  it('restores offsets moved into the headroom when reset or truncated', () => {
    const b = new PacketBatch({ capacity: 3, maxPacketSize: 1280, headroom: 64 });
    for (let i = 0; i < 3; i++) {
      b.reserve();
      b.commit(100);
    }
    b.offsets[1]! -= 50; // e.g. an outer header prepended in place
    b.offsets[2]! -= 50;
    b.truncate(2);
    expect(b.count).toBe(2);
    expect(b.offsets[2]).toBe(2 * 1344 + 64); // slots of 64 + 1280 bytes
    b.reset();
    expect(b.count).toBe(0);
    expect(b.offsets[1]).toBe(1344 + 64);
  });

  it('rejects sizes it cannot honour', () => {
    expect(() => new PacketBatch({ capacity: 0 })).toThrow(XlatError);
    expect(() => new PacketBatch({ maxPacketSize: 1000 })).toThrow(XlatError);
    expect(() => new PacketBatch({ headroom: -8 })).toThrow(XlatError);
  });
});
