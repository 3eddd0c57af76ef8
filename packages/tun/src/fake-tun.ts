// An in-memory TunDevice for unit tests of the engine: packets injected by the test arrive
// through the same RxBatch rules as from the kernel, and written packets are recorded.
import { constants } from 'node:os';
import { DEFAULTS, SPEC } from './constants.js';
import { COUNTER, CounterArray } from './counters.js';
import type { OnBatch, OnError, RxBatch, TunDevice } from './device.js';
import { receiveFailure, stateError, type TunError } from './errors.js';
import { checkMtu, checkRxOptions, resolveRxShape, type RxOptions } from './options.js';
import { allocateRxBatch } from './rx-batch.js';
import { VNET_HEADER_SIZE } from './vnet.js';

export interface FakeTunOptions extends RxOptions {
  /** Default 'faketun0'. */
  name?: string;
  /** Default 1500. The fake does not enforce it; it only sizes the default slot. */
  mtu?: number;
  /** Virtio-net headers with every packet, as TunOptions.offload: see injectWithHeader and writtenHeaders. */
  offload?: boolean;
  /** With offload: claims UDP segmentation offload (TunDevice.udpSegmentation). Default true. */
  udpSegmentation?: boolean;
}

/**
 * Behaves like a real queue where the engine can tell: injected packets are copied into the
 * shared rx buffer in batches of at most batchSize, delivered asynchronously (setImmediate, at
 * most batchesPerWake batches per turn, like a poll wake-up) or synchronously with flush();
 * packets larger than a slot count as rxTruncated; writes of packets whose first nibble is not
 * 4 or 6 count as txRejected, as the kernel refuses them. Packets injected before start() wait.
 * Unlike a real device, it never keeps the process alive on its own.
 */
export class FakeTun implements TunDevice {
  readonly name: string;
  readonly mtu: number;
  readonly offload: boolean;
  readonly udpSegmentation: boolean;
  readonly rx: RxBatch;
  readonly counters = new CounterArray();
  /** Copies of the packets written, oldest first. */
  readonly written: Uint8Array[] = [];
  /** With offload: the virtio-net header written with each packet of `written`, at the same index. */
  readonly writtenHeaders: Uint8Array[] = [];
  readonly #batchesPerWake: number;
  // A queue as an array and a read index: shift() would move the whole array per packet.
  #pending: Uint8Array[] = [];
  /** With offload: the header of each pending packet (null: all zero). */
  #pendingHeaders: (Uint8Array | null)[] = [];
  #head = 0;
  #onBatch: OnBatch | undefined;
  #onError: OnError | undefined;
  #scheduled: NodeJS.Immediate | undefined;
  #started = false;
  #referenced = true;
  #writable = true;
  #failed = false;
  #closed = false;

  constructor(options: FakeTunOptions = {}) {
    checkMtu(options.mtu);
    checkRxOptions(options);
    this.name = options.name ?? 'faketun0';
    this.mtu = options.mtu ?? DEFAULTS.MTU;
    this.offload = options.offload ?? false;
    this.udpSegmentation = this.offload && (options.udpSegmentation ?? true);
    const shape = resolveRxShape(options, this.mtu, this.offload);
    this.rx = allocateRxBatch(shape.batchSize, shape.slotSize, this.offload);
    this.#batchesPerWake = shape.batchesPerWake;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Packets waiting for delivery. */
  get pending(): number {
    return this.#pending.length - this.#head;
  }

  /** Queues packets as if the kernel routed them into the device; copies them. Ignored after close. */
  inject(packets: Uint8Array | readonly Uint8Array[]): void {
    if (this.#closed) return;
    // Copies, even of Buffers, whose slice() is a view.
    if (packets instanceof Uint8Array) this.#queue(packets, null);
    else for (const packet of packets) this.#queue(packet, null);
    this.#schedule();
  }

  /** With offload: queues one packet with its virtio-net header (10 bytes, see vnet.ts). */
  injectWithHeader(packet: Uint8Array, header: ArrayLike<number>): void {
    if (!this.offload) throw stateError(this.name, 'injectWithHeader() without offload');
    if (header.length !== VNET_HEADER_SIZE) throw new RangeError(`a virtio-net header has ${VNET_HEADER_SIZE} bytes`);
    if (this.#closed) return;
    this.#queue(packet, Uint8Array.from(header));
    this.#schedule();
  }

  #queue(packet: Uint8Array, header: Uint8Array | null): void {
    // Copies, even of Buffers, whose slice() is a view.
    this.#pending.push(Uint8Array.prototype.slice.call(packet));
    this.#pendingHeaders.push(header);
  }

  /**
   * Delivers everything pending now, batch by batch, including packets the callback injects
   * meanwhile, and returns the packet count.
   */
  flush(): number {
    if (!this.#started) throw stateError(this.name, 'flush() before start()');
    let delivered = 0;
    if (this.pending > 0 && this.#onBatch) this.counters.values[COUNTER.rxWakeups]! += 1;
    while (this.pending > 0 && this.#onBatch) delivered += this.#deliverBatch();
    return delivered;
  }

  /** Removes and returns the packets written so far (and their headers from writtenHeaders). */
  takeWritten(): Uint8Array[] {
    this.writtenHeaders.splice(0, this.writtenHeaders.length);
    return this.written.splice(0, this.written.length);
  }

  /** false makes writes fail as when the kernel has no room (counted as txDropped). */
  setWritable(writable: boolean): void {
    this.#writable = writable;
  }

  /**
   * Stops receiving and reports `error` (default EBADF, what a deleted interface gives) through
   * onError, as a real device does; without onError it throws from here. Later writes fail and
   * count as txErrors, as writes to a deleted interface do.
   */
  fail(error: TunError = receiveFailure(this.name, constants.errno.EBADF)): void {
    this.#clearSchedule();
    this.#failed = true;
    const onError = this.#onError;
    this.#onBatch = undefined;
    this.#onError = undefined;
    this.counters.values[COUNTER.rxErrors]! += 1;
    if (!onError) throw error;
    onError(error);
  }

  start(onBatch: OnBatch, onError?: OnError): void {
    if (this.#closed) throw stateError(this.name, 'start() after close()');
    if (this.#started) throw stateError(this.name, 'start() called twice');
    this.#started = true;
    this.#onBatch = onBatch;
    this.#onError = onError;
    this.#schedule();
  }

  writeBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, vnet?: Uint8Array): number {
    if (!Number.isInteger(count) || count < 0 || count > offsets.length || count > lengths.length) {
      throw new RangeError('count must be an integer within offsets.length and lengths.length');
    }
    if (this.offload && vnet !== undefined && vnet.length < count * VNET_HEADER_SIZE) {
      throw new RangeError(`vnetHeaders must hold count * ${VNET_HEADER_SIZE} bytes`);
    }
    for (let i = 0; i < count; i++) {
      if (offsets[i]! + lengths[i]! > buffer.length) throw new RangeError(`packet ${i} lies outside the buffer`);
    }
    if (this.#closed) return 0;
    let written = 0;
    for (let i = 0; i < count; i++) {
      const header = this.offload && vnet !== undefined ? vnet.subarray(i * VNET_HEADER_SIZE, (i + 1) * VNET_HEADER_SIZE) : null;
      if (this.#write(buffer, offsets[i]!, lengths[i]!, header)) written++;
    }
    return written;
  }

  writePacket(buffer: Uint8Array, offset: number, length: number): boolean {
    const inside = Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0;
    if (!inside || offset + length > buffer.length) {
      throw new RangeError('the packet lies outside the buffer');
    }
    return !this.#closed && this.#write(buffer, offset, length, null);
  }

  ref(): void {
    this.#referenced = true;
    this.#scheduled?.ref();
  }

  unref(): void {
    this.#referenced = false;
    this.#scheduled?.unref();
  }

  close(): void {
    this.#closed = true;
    this.#clearSchedule();
    this.#pending = [];
    this.#pendingHeaders = [];
    this.#head = 0;
    this.#onBatch = undefined;
    this.#onError = undefined;
  }

  #write(buffer: Uint8Array, offset: number, length: number, header: Uint8Array | null): boolean {
    const values = this.counters.values;
    if (this.#failed) {
      values[COUNTER.txErrors]! += 1;
      return false;
    }
    if (!this.#writable) {
      values[COUNTER.txDropped]! += 1;
      return false;
    }
    const version = length > 0 ? buffer[offset]! >> 4 : 0;
    if (version !== SPEC.IP_VERSION_4 && version !== SPEC.IP_VERSION_6) {
      values[COUNTER.txRejected]! += 1;
      return false;
    }
    // A copy even when the caller passes a Buffer, whose slice() is a view.
    this.written.push(Uint8Array.prototype.slice.call(buffer, offset, offset + length));
    if (this.offload) this.writtenHeaders.push(header === null ? new Uint8Array(VNET_HEADER_SIZE) : Uint8Array.from(header));
    values[COUNTER.txPackets]! += 1;
    values[COUNTER.txBytes]! += length;
    return true;
  }

  /** Fills the slots from the queue and calls onBatch once; returns the packets delivered. */
  #deliverBatch(): number {
    const onBatch = this.#onBatch;
    if (!onBatch) return 0;
    const { buffer, slotSize, batchSize, lengths, vnet } = this.rx;
    const values = this.counters.values;
    let count = 0;
    let attempts = 0;
    let bytes = 0;
    // As in native code: oversized packets use up attempts, not slots.
    while (count < batchSize && attempts < batchSize && this.#head < this.#pending.length) {
      const header = this.#pendingHeaders[this.#head]!;
      const packet = this.#pending[this.#head++]!;
      attempts++;
      if (packet.length > slotSize) {
        values[COUNTER.rxTruncated]! += 1;
        continue;
      }
      buffer.set(packet, count * slotSize);
      if (vnet !== null) {
        if (header === null) vnet.fill(0, count * VNET_HEADER_SIZE, (count + 1) * VNET_HEADER_SIZE);
        else vnet.set(header, count * VNET_HEADER_SIZE);
      }
      lengths[count++] = packet.length;
      bytes += packet.length;
    }
    if (this.#head === this.#pending.length) {
      this.#pending = [];
      this.#pendingHeaders = [];
      this.#head = 0;
    }
    if (count === 0) return 0;
    values[COUNTER.rxPackets]! += count;
    values[COUNTER.rxBytes]! += bytes;
    values[COUNTER.rxBatches]! += 1;
    onBatch(count);
    return count;
  }

  #wake(): void {
    this.#scheduled = undefined;
    if (!this.#onBatch || this.pending === 0) return;
    this.counters.values[COUNTER.rxWakeups]! += 1;
    for (let round = 0; round < this.#batchesPerWake && this.pending > 0 && this.#onBatch; round++) {
      this.#deliverBatch();
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || !this.#onBatch || this.pending === 0) return;
    this.#scheduled = setImmediate(() => this.#wake());
    if (!this.#referenced) this.#scheduled.unref();
  }

  #clearSchedule(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
  }
}
