// The real TUN device: openTun validates the options, opens one queue through the native binding
// and wraps it as a TunDevice. The receive buffer and the counters are allocated here, once, and
// shared with native code for the life of the queue.
import { CounterArray } from './counters.js';
import type { OnBatch, OnError, RxBatch, TunDevice } from './device.js';
import { openFailure, receiveFailure, stateError } from './errors.js';
import { isNativeOpenError, loadNative, type NativeOpened, type NativeQueue } from './native.js';
import { checkTunOptions, resolveRxShape, type RxShape, type TunOptions } from './options.js';
import { allocateRxBatch } from './rx-batch.js';
import { probeInterface } from './sysfs.js';

/**
 * Opens (creating it if needed) a TUN device, IFF_TUN | IFF_NO_PI, in the calling thread's
 * network namespace, and returns one queue of it. Every failure is thrown here as a TunError
 * naming the step, the errno and a hint; later, the packet path only counts. Needs
 * CAP_NET_ADMIN. For several queues, call it once per queue with multiQueue: true, from the
 * worker thread that will read that queue.
 */
export function openTun(options: TunOptions): TunDevice {
  checkTunOptions(options);
  const native = loadNative();
  const persist = options.persist === undefined ? -1 : options.persist ? 1 : 0;
  const multiQueue = options.multiQueue ?? false;
  const offload = options.offload ?? false;
  const tap = options.tap ?? false;
  let opened: NativeOpened;
  try {
    const checksums = options.receiveChecksums ?? true;
    const segments = checksums && (options.receiveSegments ?? true);
    opened = native.open(
      options.name,
      multiQueue,
      persist,
      options.mtu ?? 0,
      options.up ?? false,
      true,
      offload,
      options.txQueueLength ?? 0,
      tap,
      segments,
      checksums,
    );
  } catch (error) {
    if (!isNativeOpenError(error)) throw error;
    const attempt = { name: options.name, multiQueue, mtu: options.mtu, txQueueLength: options.txQueueLength, tap };
    throw openFailure(error.step, error.errno, attempt, probeInterface(options.name));
  }
  try {
    const counters = new CounterArray();
    const queue = new native.TunQueue(opened.fd, counters.values, offload);
    return new LinuxTun(opened, queue, counters, resolveRxShape(options, opened.mtu, offload && (options.receiveChecksums ?? true), tap), offload);
  } catch (error) {
    native.closeDescriptor(opened.fd);
    throw error;
  }
}

/**
 * Opens (creating it if needed) a TAP device, IFF_TAP | IFF_NO_PI: the same TunDevice, but every
 * packet is an Ethernet frame and slots default to the MTU plus the 14-byte Ethernet header.
 */
export function openTap(options: Omit<TunOptions, 'tap'>): TunDevice {
  return openTun({ ...options, tap: true });
}

class LinuxTun implements TunDevice {
  readonly name: string;
  readonly mtu: number;
  readonly offload: boolean;
  readonly udpSegmentation: boolean;
  readonly rx: RxBatch;
  readonly counters: CounterArray;
  readonly #queue: NativeQueue;
  readonly #batchesPerWake: number;
  #started = false;
  #closed = false;

  constructor(opened: NativeOpened, queue: NativeQueue, counters: CounterArray, shape: RxShape, offload: boolean) {
    this.name = opened.name;
    this.mtu = opened.mtu;
    this.offload = offload;
    this.udpSegmentation = offload && opened.udpSegmentation === true;
    this.rx = allocateRxBatch(shape.batchSize, shape.slotSize, offload);
    this.#queue = queue;
    this.counters = counters;
    this.#batchesPerWake = shape.batchesPerWake;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(onBatch: OnBatch, onError?: OnError): void {
    if (this.#closed) throw stateError(this.name, 'start() after close()');
    if (this.#started) throw stateError(this.name, 'start() called twice');
    const { buffer, slotSize, lengths, vnet } = this.rx;
    const failed = (errno: number) => {
      const error = receiveFailure(this.name, errno);
      if (!onError) throw error;
      onError(error);
    };
    if (vnet === null) this.#queue.start(buffer, slotSize, lengths, this.#batchesPerWake, onBatch, failed);
    else this.#queue.start(buffer, slotSize, lengths, this.#batchesPerWake, onBatch, failed, vnet);
    this.#started = true;
  }

  writeBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, vnet?: Uint8Array): number {
    return vnet === undefined ? this.#queue.writeBatch(buffer, offsets, lengths, count) : this.#queue.writeBatch(buffer, offsets, lengths, count, vnet);
  }

  writePacket(buffer: Uint8Array, offset: number, length: number): boolean {
    return this.#queue.writePacket(buffer, offset, length);
  }

  ref(): void {
    this.#queue.ref();
  }

  unref(): void {
    this.#queue.unref();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.close();
  }
}
