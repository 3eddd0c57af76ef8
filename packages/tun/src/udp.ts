// Batched UDP sockets through the same binding as the TUN devices: a bound, non-blocking datagram
// socket whose reads are recvmmsg(2) batches into a receive buffer allocated once (with each
// datagram's source as a peer record), and whose sends are sendmmsg(2) batches to one peer. For
// endpoints that move many small datagrams (the NAT64 bypass tunnel on UDP 6081), where Node's dgram
// costs a system call, an allocation and an event per datagram.
import { CounterArray } from './counters.js';
import type { OnBatch, OnError, TunCounters } from './device.js';
import { errnoName, receiveFailure, stateError, TunError } from './errors.js';
import { isNativeOpenError, loadNative, type NativeQueue } from './native.js';

/** Bytes of a peer record: the IPv6 address (IPv4 mapped, ::ffff:a.b.c.d), the port big-endian, two zeros. */
export const PEER_RECORD_SIZE = 20;

export interface UdpOptions {
  /** The local address to bind: IPv4 or IPv6 text (`::` is dual-stack unless v6Only). */
  address: string;
  port: number;
  v6Only?: boolean;
  /** SO_RCVBUF (SO_RCVBUFFORCE with CAP_NET_ADMIN); 0 leaves the kernel's default. */
  receiveBufferBytes?: number;
  /** Datagrams per read (default 64). */
  batchSize?: number;
  /** Bytes per slot: larger datagrams count as rxTruncated and are skipped (default 2048). */
  slotSize?: number;
  /** Batches read per wake-up before yielding to the event loop (default 4). */
  batchesPerWake?: number;
}

/** Datagram i: `buffer[i * slotSize, i * slotSize + lengths[i])`, from the peer record at `peers[i * 20]`; valid during onBatch only. */
export interface UdpRxBatch {
  readonly buffer: Buffer;
  readonly slotSize: number;
  readonly batchSize: number;
  readonly lengths: Uint32Array;
  readonly peers: Uint8Array;
}

/**
 * One batched UDP socket. start() calls onBatch(count) once per batch read; sendBatch sends datagrams
 * i < count, each `buffer[offsets[i], offsets[i] + lengths[i])`, to `peer` (a peer record) with one
 * call into native code and returns how many the kernel took. Failures of a send are counted (txDropped
 * when the kernel had no room, txRejected for an address the socket cannot reach, txErrors), never
 * thrown; a send never queues, so buffers may be reused as soon as it returns. close() may be called
 * inside onBatch and more than once; a started socket keeps the process alive unless unref().
 */
export interface BatchedUdpSocket {
  readonly family: 4 | 6;
  /** The bound port (the kernel's choice when options.port was 0). */
  readonly port: number;
  readonly rx: UdpRxBatch;
  readonly counters: TunCounters;
  readonly closed: boolean;
  start(onBatch: OnBatch, onError?: OnError): void;
  sendBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, peer: Uint8Array): number;
  ref(): void;
  unref(): void;
  close(): void;
}

/** Opens and binds a batched UDP socket; throws a TunError (code the errno name) when it cannot. */
export function openUdp(options: UdpOptions): BatchedUdpSocket {
  const native = loadNative();
  const batchSize = options.batchSize ?? 64;
  const slotSize = options.slotSize ?? 2048;
  const batchesPerWake = options.batchesPerWake ?? 4;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1024)
    throw new TunError('ERR_TUN_OPTION', `batchSize must be an integer from 1 to 1024, got ${batchSize}`);
  if (!Number.isInteger(slotSize) || slotSize < 64 || slotSize > 65536)
    throw new TunError('ERR_TUN_OPTION', `slotSize must be an integer from 64 to 65536, got ${slotSize}`);
  let opened: { fd: number; family: 4 | 6; port: number };
  try {
    opened = native.openUdp(options.address, options.port, options.v6Only ?? false, options.receiveBufferBytes ?? 0);
  } catch (error) {
    if (!isNativeOpenError(error)) throw error;
    const [code, words] = errnoName(error.errno);
    throw new TunError(code, `cannot open UDP ${options.address} port ${options.port}: ${error.step} failed: ${words}`, error.step, error.errno);
  }
  try {
    const counters = new CounterArray();
    const queue = new native.TunQueue(opened.fd, counters.values, false, true);
    return new LinuxUdp(`udp ${options.address}:${opened.port}`, opened.family, opened.port, queue, counters, batchSize, slotSize, batchesPerWake);
  } catch (error) {
    native.closeDescriptor(opened.fd);
    throw error;
  }
}

class LinuxUdp implements BatchedUdpSocket {
  readonly rx: UdpRxBatch;
  #started = false;
  #closed = false;

  constructor(
    private readonly label: string,
    readonly family: 4 | 6,
    readonly port: number,
    private readonly queue: NativeQueue,
    readonly counters: CounterArray,
    batchSize: number,
    slotSize: number,
    private readonly batchesPerWake: number,
  ) {
    // Buffer.alloc and their own ArrayBuffers: native code keeps pointers to them (see rx-batch.ts).
    this.rx = {
      buffer: Buffer.alloc(batchSize * slotSize),
      slotSize,
      batchSize,
      lengths: new Uint32Array(new ArrayBuffer(batchSize * Uint32Array.BYTES_PER_ELEMENT)),
      peers: Buffer.alloc(batchSize * PEER_RECORD_SIZE),
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(onBatch: OnBatch, onError?: OnError): void {
    if (this.#closed) throw stateError(this.label, 'start() after close()');
    if (this.#started) throw stateError(this.label, 'start() called twice');
    const failed = (errno: number) => {
      const error = receiveFailure(this.label, errno);
      if (!onError) throw error;
      onError(error);
    };
    const { buffer, slotSize, lengths, peers } = this.rx;
    this.queue.start(buffer, slotSize, lengths, this.batchesPerWake, onBatch, failed, peers);
    this.#started = true;
  }

  sendBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, peer: Uint8Array): number {
    return this.queue.sendBatch(buffer, offsets, lengths, count, peer);
  }

  ref(): void {
    this.queue.ref();
  }

  unref(): void {
    this.queue.unref();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.queue.close();
  }
}
