import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeTun, TunError } from '@nat64/tun';

// An IPv4 header start (version 4, IHL 5) and an IPv6 one (version 6) with a marker byte, so
// every packet is one the kernel would accept and is told apart by its last byte.
const ipv4 = (marker: number, length = 20) => Uint8Array.from({ length }, (_, i) => (i === 0 ? 0x45 : i === length - 1 ? marker : 0));
const ipv6 = (marker: number) => Uint8Array.from({ length: 40 }, (_, i) => (i === 0 ? 0x60 : i === 39 ? marker : 0));

/** The packets of the current batch, copied out of the shared buffer. */
function batchOf(tun: FakeTun, count: number): number[][] {
  const { buffer, slotSize, lengths } = tun.rx;
  return Array.from({ length: count }, (_, i) => [...buffer.subarray(i * slotSize, i * slotSize + lengths[i]!)]);
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('fake-tun', () => {
  it('delivers injected packets asynchronously, each at byte 0 of its slot', async () => {
    const tun = new FakeTun({ slotSize: 64 });
    const batches: number[][][] = [];
    tun.start((count) => batches.push(batchOf(tun, count)));
    tun.inject([ipv4(1), ipv6(2)]);
    expect(batches).toEqual([]);
    await nextTurn();
    expect(batches).toEqual([[[...ipv4(1)], [...ipv6(2)]]]);
    expect([...tun.rx.buffer.subarray(0, 1)]).toEqual([0x45]);
    expect([...tun.rx.buffer.subarray(64, 65)]).toEqual([0x60]);
    expect([...tun.rx.lengths.subarray(0, 2)]).toEqual([20, 40]);
  });

  it('with offload, delivers each packet with its virtio-net header and records the headers written', () => {
    const tun = new FakeTun({ offload: true });
    expect(tun.offload).toBe(true);
    expect(tun.rx.slotSize).toBeGreaterThanOrEqual(40 + 65535);
    const seen: number[][] = [];
    tun.start((count) => {
      for (let i = 0; i < count; i++) seen.push([...tun.rx.vnet!.subarray(i * 10, i * 10 + 10)]);
    });
    tun.injectWithHeader(ipv4(1), [1, 1, 40, 0, 0xa8, 0x05, 20, 0, 16, 0]);
    tun.inject(ipv6(2));
    tun.flush();
    expect(seen).toEqual([[1, 1, 40, 0, 0xa8, 0x05, 20, 0, 16, 0], new Array(10).fill(0)]);
    const packet = ipv4(3);
    const headers = Uint8Array.of(...new Array(10).fill(0), 1, 4, 60, 0, 0xa0, 0x05, 40, 0, 16, 0);
    expect(tun.writeBatch(Buffer.concat([packet, packet]), Uint32Array.of(0, 20), Uint32Array.of(20, 20), 2, headers)).toBe(2);
    expect(tun.writtenHeaders.map((h) => [...h])).toEqual([new Array(10).fill(0), [1, 4, 60, 0, 0xa0, 0x05, 40, 0, 16, 0]]);
    expect(() => new FakeTun().injectWithHeader(ipv4(4), new Array(10).fill(0))).toThrow(/without offload/);
  });

  it('splits what is pending into batches of at most batchSize, reusing one buffer', () => {
    const tun = new FakeTun({ batchSize: 3 });
    const counts: number[] = [];
    const buffers = new Set<Buffer>();
    tun.start((count) => {
      counts.push(count);
      buffers.add(tun.rx.buffer);
    });
    tun.inject(Array.from({ length: 8 }, (_, i) => ipv4(i)));
    expect(tun.flush()).toBe(8);
    expect(counts).toEqual([3, 3, 2]);
    expect(buffers.size).toBe(1);
    expect(tun.counters.rxBatches).toBe(3);
    expect(tun.counters.rxPackets).toBe(8);
    expect(tun.counters.rxBytes).toBe(8 * 20);
  });

  it('delivers at most batchesPerWake batches per turn of the event loop', async () => {
    const tun = new FakeTun({ batchSize: 2, batchesPerWake: 2 });
    const counts: number[] = [];
    tun.start((count) => counts.push(count));
    tun.inject(Array.from({ length: 10 }, (_, i) => ipv4(i)));
    await nextTurn();
    expect(counts).toEqual([2, 2]);
    expect(tun.pending).toBe(6);
    await nextTurn();
    await nextTurn();
    expect(counts).toEqual([2, 2, 2, 2, 2]);
    expect(tun.counters.rxWakeups).toBe(3);
  });

  it('keeps packets injected before start until start', () => {
    const tun = new FakeTun();
    tun.inject(ipv4(7));
    expect(tun.pending).toBe(1);
    const seen: number[][] = [];
    tun.start((count) => seen.push(...batchOf(tun, count)));
    tun.flush();
    expect(seen).toEqual([[...ipv4(7)]]);
  });

  it('copies injected packets, so later changes to the source do not show', () => {
    const tun = new FakeTun();
    const packet = ipv4(1);
    tun.inject(packet);
    packet[19] = 99;
    const seen: number[][] = [];
    tun.start((count) => seen.push(...batchOf(tun, count)));
    tun.flush();
    expect(seen[0]![19]).toBe(1);
  });

  it('counts and skips packets larger than a slot', () => {
    const tun = new FakeTun({ slotSize: 32 });
    const seen: number[][] = [];
    tun.start((count) => seen.push(...batchOf(tun, count)));
    tun.inject([ipv4(1), ipv6(2), ipv4(3, 32)]);
    tun.flush();
    expect(seen).toEqual([[...ipv4(1)], [...ipv4(3, 32)]]);
    expect(tun.counters.rxTruncated).toBe(1);
    expect(tun.counters.rxPackets).toBe(2);
  });

  it('matches the delivered stream to the injected one for any sizes and batch shape', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 20, max: 120 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 20, max: 100 }),
        (sizes, batchSize, slotSize) => {
          const tun = new FakeTun({ batchSize, slotSize });
          const seen: number[][] = [];
          const counts: number[] = [];
          tun.start((count) => {
            counts.push(count);
            seen.push(...batchOf(tun, count));
          });
          const packets = sizes.map((size, i) => ipv4(i, size));
          tun.inject(packets);
          tun.flush();
          const fitting = packets.filter((packet) => packet.length <= slotSize).map((packet) => [...packet]);
          expect(seen).toEqual(fitting);
          expect(counts.every((count) => count >= 1 && count <= batchSize)).toBe(true);
          expect(tun.counters.rxTruncated).toBe(packets.length - fitting.length);
        },
      ),
    );
  });

  it('records written packets as copies and hands them over with takeWritten', () => {
    const tun = new FakeTun();
    const buffer = new Uint8Array(100);
    buffer.set(ipv4(1), 0);
    buffer.set(ipv6(2), 50);
    expect(tun.writeBatch(buffer, Uint32Array.of(0, 50), Uint32Array.of(20, 40), 2)).toBe(2);
    expect(tun.writePacket(buffer, 0, 20)).toBe(true);
    buffer.fill(0);
    expect(tun.takeWritten().map((packet) => [...packet])).toEqual([[...ipv4(1)], [...ipv6(2)], [...ipv4(1)]]);
    expect(tun.written).toEqual([]);
    expect(tun.counters.txPackets).toBe(3);
    expect(tun.counters.txBytes).toBe(80);
  });

  it('rejects and counts packets the kernel would refuse, writing the rest', () => {
    const tun = new FakeTun();
    const buffer = new Uint8Array(60);
    buffer.set(ipv4(1), 0);
    buffer[20] = 0x50; // version 5
    buffer.set(ipv4(3), 40);
    expect(tun.writeBatch(buffer, Uint32Array.of(0, 20, 40, 40), Uint32Array.of(20, 20, 20, 0), 4)).toBe(2);
    expect(tun.counters.txRejected).toBe(2);
    expect(tun.written).toHaveLength(2);
  });

  it('counts writes as dropped while the device has no room', () => {
    const tun = new FakeTun();
    tun.setWritable(false);
    expect(tun.writePacket(ipv4(1), 0, 20)).toBe(false);
    tun.setWritable(true);
    expect(tun.writePacket(ipv4(2), 0, 20)).toBe(true);
    expect(tun.counters.txDropped).toBe(1);
    expect(tun.counters.txPackets).toBe(1);
  });

  it('throws for a packet outside its buffer and then writes nothing of the batch', () => {
    const tun = new FakeTun();
    const buffer = new Uint8Array(40);
    buffer.set(ipv4(1), 0);
    expect(() => tun.writeBatch(buffer, Uint32Array.of(0, 30), Uint32Array.of(20, 20), 2)).toThrow(RangeError);
    expect(() => tun.writeBatch(buffer, Uint32Array.of(0), Uint32Array.of(20), 2)).toThrow(RangeError);
    expect(() => tun.writePacket(buffer, 30, 20)).toThrow(RangeError);
    expect(tun.written).toEqual([]);
  });

  it('stops delivering when closed inside the callback, and close twice is harmless', async () => {
    const tun = new FakeTun({ batchSize: 1 });
    let callbacks = 0;
    tun.start(() => {
      callbacks++;
      tun.close();
      tun.close();
    });
    tun.inject([ipv4(1), ipv4(2), ipv4(3)]);
    await nextTurn();
    await nextTurn();
    expect(callbacks).toBe(1);
    expect(tun.closed).toBe(true);
    expect(tun.pending).toBe(0);
  });

  it('writes nothing and ignores injections after close', () => {
    const tun = new FakeTun();
    tun.start(() => {});
    tun.close();
    tun.inject(ipv4(1));
    expect(tun.pending).toBe(0);
    expect(tun.writePacket(ipv4(1), 0, 20)).toBe(false);
    expect(tun.writeBatch(ipv4(1), Uint32Array.of(0), Uint32Array.of(20), 1)).toBe(0);
    expect(tun.written).toEqual([]);
  });

  it('refuses start twice, start after close and flush before start', () => {
    const tun = new FakeTun({ name: 'fake7' });
    expect(() => tun.flush()).toThrow(TunError);
    tun.start(() => {});
    expect(() => tun.start(() => {})).toThrow('TUN device "fake7": start() called twice');
    tun.close();
    try {
      tun.start(() => {});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TunError);
      expect((error as TunError).code).toBe('ERR_TUN_STATE');
    }
  });

  it('reports a failure through onError and stops delivering', async () => {
    const tun = new FakeTun({ name: 'fake1' });
    const errors: TunError[] = [];
    let callbacks = 0;
    tun.start(
      () => callbacks++,
      (error) => errors.push(error),
    );
    tun.fail();
    tun.inject(ipv4(1));
    await nextTurn();
    expect(callbacks).toBe(0);
    expect(errors.map((error) => [error.code, error.message])).toEqual([
      ['EBADF', 'TUN device "fake1" stopped receiving: EBADF (bad file descriptor); was the interface deleted?'],
    ]);
    expect(tun.counters.rxErrors).toBe(1);
  });

  it('throws the failure from fail() when nobody listens for errors', () => {
    const tun = new FakeTun();
    tun.start(() => {});
    expect(() => tun.fail()).toThrow(TunError);
  });

  it('sizes slots from the MTU unless told, and validates its options', () => {
    expect(new FakeTun().rx.slotSize).toBe(1536);
    expect(new FakeTun({ mtu: 1280 }).rx.slotSize).toBe(1280);
    expect(new FakeTun({ mtu: 1281 }).rx.slotSize).toBe(1344);
    const tun = new FakeTun({ batchSize: 5, slotSize: 100 });
    expect(tun.rx.buffer.length).toBe(500);
    expect(tun.rx.lengths.length).toBe(5);
    expect(() => new FakeTun({ batchSize: 0 })).toThrow('batchSize must be an integer from 1 to 1024, got 0');
    expect(() => new FakeTun({ mtu: 67 })).toThrow(TunError);
  });
});
