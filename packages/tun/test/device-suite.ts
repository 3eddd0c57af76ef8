// The TunDevice contract (src/device.ts) as one suite: device.test.ts runs it against FakeTun and
// against a real Linux TUN device, so the fake the engine's tests rely on behaves as the kernel does.
// Traffic is ICMP echo (support/echo.ts): the device writes requests to the stack beyond it, and
// the stack's replies are what arrives into the device.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TunError, type RxOptions, type TunDevice } from '@nat64/tun';
import { echoRequest, parseEchoReply, type Echo, type Family } from './support/echo.js';

export interface TunHarness {
  /**
   * Opens a device with MTU 1400 on a link where the stack answers echo requests to 192.0.2.1 and
   * 2001:db8::1 sent from 192.0.2.2 and 2001:db8::2 (see support/echo.ts).
   */
  open(options?: RxOptions & { offload?: boolean }): TunDevice;
  /** Takes the device's interface away, as `ip link del` does. */
  remove(device: TunDevice): void;
  /** Closes what open() opened. */
  cleanup(): void;
}

const WAIT_MS = 5_000;

/** Resolves once `check` holds, polled every few milliseconds; rejects after WAIT_MS naming `what`. */
async function until(check: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > WAIT_MS) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Everything a started device delivered, and the echo replies of one test among it. */
interface Reception {
  batches: number[];
  lengths: number[];
  replies: Echo[];
  /** The virtio-net header that came with each reply (offload only). */
  headers: number[][];
}

function receive(device: TunDevice, identifier: number, onBatch?: (count: number) => void): Reception {
  const reception: Reception = { batches: [], lengths: [], replies: [], headers: [] };
  device.start((count) => {
    const { buffer, slotSize, lengths, vnet } = device.rx;
    reception.batches.push(count);
    for (let i = 0; i < count; i++) {
      reception.lengths.push(lengths[i]!);
      const reply = parseEchoReply(buffer.subarray(i * slotSize, i * slotSize + lengths[i]!));
      if (reply?.identifier !== identifier) continue;
      reception.replies.push(reply);
      if (vnet) reception.headers.push([...vnet.subarray(i * 10, i * 10 + 10)]);
    }
    onBatch?.(count);
  });
  return reception;
}

/** The requests side by side in one buffer, as writeBatch takes them. */
function batchOf(packets: Uint8Array[]): { buffer: Uint8Array; offsets: Uint32Array; lengths: Uint32Array } {
  const buffer = new Uint8Array(packets.reduce((sum, packet) => sum + packet.length, 0));
  const offsets = new Uint32Array(packets.length);
  const lengths = new Uint32Array(packets.length);
  let offset = 0;
  packets.forEach((packet, i) => {
    buffer.set(packet, offset);
    offsets[i] = offset;
    lengths[i] = packet.length;
    offset += packet.length;
  });
  return { buffer, offsets, lengths };
}

function writeAll(device: TunDevice, packets: Uint8Array[]): number {
  const { buffer, offsets, lengths } = batchOf(packets);
  return device.writeBatch(buffer, offsets, lengths, packets.length);
}

const sequences = (replies: Echo[]) => replies.map((reply) => reply.sequence);
const range = (count: number) => Array.from({ length: count }, (_, i) => i);

export function tunDeviceSemantics(makeHarness: () => TunHarness): void {
  let harness: TunHarness;
  let identifier: number;
  const requests = (family: Family, count: number, size?: number) => range(count).map((i) => echoRequest(family, identifier, i, size));

  beforeEach(() => {
    harness = makeHarness();
    identifier = Math.floor(Math.random() * 0xffff);
  });
  afterEach(() => {
    harness.cleanup();
  });

  describe('opening', () => {
    it('reports its MTU and a receive buffer of batchSize slots of slotSize bytes', () => {
      const device = harness.open({ batchSize: 8, slotSize: 256 });
      expect(device.mtu).toBe(1400);
      expect(device.offload).toBe(false);
      expect(device.closed).toBe(false);
      expect([device.rx.batchSize, device.rx.slotSize, device.rx.buffer.length, device.rx.lengths.length]).toEqual([8, 256, 2048, 8]);
      expect(device.rx.vnet).toBeNull();
      expect(device.counters.snapshot()).toEqual(Object.fromEntries(Object.keys(device.counters.snapshot()).map((name) => [name, 0])));
    });
  });

  describe('receiving', () => {
    it('delivers what arrives in order, each packet from byte 0 of its slot, in batches of at most batchSize', async () => {
      const device = harness.open({ batchSize: 4 });
      const reception = receive(device, identifier);
      const sent = requests(4, 30);
      expect(writeAll(device, sent)).toBe(30);
      await until(() => reception.replies.length === 30, '30 echo replies');
      expect(sequences(reception.replies)).toEqual(range(30));
      expect(reception.replies.map((reply) => [...reply.data])).toEqual(sent.map((request) => [...request.subarray(28)]));
      expect(reception.batches.every((count) => count >= 1 && count <= 4)).toBe(true);
      expect(reception.batches.length).toBeLessThan(30);
      const { counters } = device;
      expect([counters.rxPackets, counters.rxBatches, counters.rxBytes]).toEqual([
        reception.lengths.length,
        reception.batches.length,
        reception.lengths.reduce((sum, length) => sum + length, 0),
      ]);
      expect([counters.txPackets, counters.txBytes]).toEqual([30, sent.reduce((sum, packet) => sum + packet.length, 0)]);
    });

    it('carries IPv6 as it carries IPv4, written one packet at a time', async () => {
      const device = harness.open();
      const reception = receive(device, identifier);
      for (const request of requests(6, 3, 100)) expect(device.writePacket(request, 0, request.length)).toBe(true);
      await until(() => reception.replies.length === 3, '3 echo replies');
      expect(reception.replies.map((reply) => [reply.family, reply.sequence, reply.data.length])).toEqual([
        [6, 0, 100],
        [6, 1, 100],
        [6, 2, 100],
      ]);
    });

    it('keeps what arrived before start and reads at most batchesPerWake batches per wake-up', async () => {
      const device = harness.open({ batchSize: 1, batchesPerWake: 2 });
      expect(writeAll(device, requests(4, 12))).toBe(12);
      const reception = receive(device, identifier);
      const perTurn: number[] = [];
      let before = 0;
      while (reception.replies.length < 12) {
        await nextTurn();
        perTurn.push(reception.batches.length - before);
        before = reception.batches.length;
        if (perTurn.length > 10_000) throw new Error('the 12 echo replies did not arrive');
      }
      expect(sequences(reception.replies)).toEqual(range(12));
      expect(Math.max(...perTurn)).toBeLessThanOrEqual(2);
    });

    it('counts and skips a packet larger than a slot', async () => {
      const device = harness.open({ slotSize: 128 });
      const reception = receive(device, identifier);
      const [small, , last] = requests(4, 3);
      const large = echoRequest(4, identifier, 1, 200);
      expect(writeAll(device, [small!, large, last!])).toBe(3);
      await until(() => reception.replies.length === 2, '2 echo replies');
      expect(sequences(reception.replies)).toEqual([0, 2]);
      expect(device.counters.rxTruncated).toBe(1);
    });
  });

  describe('sending', () => {
    it('writes what the kernel takes and counts as rejected what is not IPv4 or IPv6', async () => {
      const device = harness.open();
      const reception = receive(device, identifier);
      const [first, second] = requests(4, 2);
      const versionFive = Uint8Array.from(first!, (byte, i) => (i === 0 ? 0x55 : byte));
      const { buffer, offsets, lengths } = batchOf([first!, versionFive, second!]);
      const withEmpty = Uint32Array.of(...offsets, 0);
      expect(device.writeBatch(buffer, withEmpty, Uint32Array.of(...lengths, 0), 4)).toBe(2);
      await until(() => reception.replies.length === 2, '2 echo replies');
      expect(sequences(reception.replies)).toEqual([0, 1]);
      expect([device.counters.txPackets, device.counters.txRejected, device.counters.txDropped, device.counters.txErrors]).toEqual([2, 2, 0, 0]);
    });

    it('throws for a packet outside its buffer or a count beyond its arrays, and then writes nothing of the batch', () => {
      const device = harness.open();
      const [request] = requests(4, 1);
      const { buffer } = batchOf([request!, request!]);
      const length = request!.length;
      expect(() => device.writeBatch(buffer, Uint32Array.of(0, length + 1), Uint32Array.of(length, length), 2)).toThrow(RangeError);
      expect(() => device.writeBatch(buffer, Uint32Array.of(0), Uint32Array.of(length), 2)).toThrow(RangeError);
      expect(() => device.writeBatch(buffer, Uint32Array.of(0), Uint32Array.of(length), 0.5)).toThrow(RangeError);
      expect(() => device.writePacket(buffer, length + 1, length)).toThrow(RangeError);
      expect(() => device.writePacket(buffer, -1, length)).toThrow(RangeError);
      expect(device.counters.txPackets).toBe(0);
    });

    it('with offload, hands over a virtio-net header with every packet and refuses headers shorter than count * 10 bytes', async () => {
      const device = harness.open({ offload: true, batchSize: 8 });
      expect(device.offload).toBe(true);
      expect(device.rx.vnet?.length).toBe(80);
      const reception = receive(device, identifier);
      const sent = requests(4, 2);
      const { buffer, offsets, lengths } = batchOf(sent);
      expect(() => device.writeBatch(buffer, offsets, lengths, 2, new Uint8Array(10))).toThrow(RangeError);
      expect(device.writeBatch(buffer, offsets, lengths, 2, new Uint8Array(20))).toBe(2);
      await until(() => reception.replies.length === 2, '2 echo replies');
      expect(reception.headers).toEqual([new Array(10).fill(0), new Array(10).fill(0)]);
    });
  });

  describe('states', () => {
    it('refuses start twice and start after close', () => {
      const device = harness.open();
      device.start(() => {});
      const code = (action: () => void) => {
        try {
          action();
        } catch (error) {
          return error instanceof TunError ? error.code : String(error);
        }
        return 'no error';
      };
      expect(code(() => device.start(() => {}))).toBe('ERR_TUN_STATE');
      device.close();
      expect(code(() => device.start(() => {}))).toBe('ERR_TUN_STATE');
    });

    it('stops delivering when closed inside the callback, takes a second close, and writes nothing after', async () => {
      const device = harness.open({ batchSize: 1 });
      expect(writeAll(device, requests(4, 3))).toBe(3);
      let callbacks = 0;
      device.start(() => {
        callbacks++;
        device.close();
        device.close();
      });
      await until(() => callbacks > 0, 'the first batch');
      for (let turn = 0; turn < 5; turn++) await nextTurn();
      expect(callbacks).toBe(1);
      expect(device.closed).toBe(true);
      const [request] = requests(4, 1);
      expect(device.writePacket(request!, 0, request!.length)).toBe(false);
      expect(writeAll(device, [request!])).toBe(0);
      expect(device.counters.txPackets).toBe(3);
    });

    it('reports through onError when its interface is removed, and counts writes after that as errors', async () => {
      const device = harness.open();
      const errors: TunError[] = [];
      device.start(
        () => {},
        (error) => errors.push(error),
      );
      harness.remove(device);
      await until(() => errors.length > 0, 'onError');
      expect(errors.map((error) => error.code)).toEqual(['EBADF']);
      expect(errors[0]!.message).toContain('was the interface deleted?');
      expect(device.counters.rxErrors).toBe(1);
      const [request] = requests(4, 1);
      expect(device.writePacket(request!, 0, request!.length)).toBe(false);
      expect([device.counters.txPackets, device.counters.txErrors]).toEqual([0, 1]);
      device.close();
      expect(device.closed).toBe(true);
    });
  });
}
