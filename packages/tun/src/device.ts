// The contract between the gateway and a TUN device: what openTun returns and FakeTun imitates.
// Modelled on wireguard-go's tun.Device: batches in, batches out, buffers owned by the device.
import type { CounterName } from './constants.js';
import type { TunError } from './errors.js';

/**
 * The receive buffer of a device, allocated once when it is opened and shared with native code.
 *
 * Packet i of a batch occupies `buffer[i * slotSize, i * slotSize + lengths[i])`. There is no
 * header in front (IFF_NO_PI): the IPv4 or IPv6 header starts at byte 0 of the slot. The
 * contents are valid only until the onBatch callback returns; the next batch overwrites them,
 * so translate in place or copy out whatever must outlive the callback.
 */
export interface RxBatch {
  readonly buffer: Buffer;
  readonly slotSize: number;
  /** The number of slots: the most packets one callback receives. */
  readonly batchSize: number;
  /** Per slot; only the first `count` entries of a batch are meaningful. */
  readonly lengths: Uint32Array;
  /**
   * With offload: the virtio-net header of packet i at `vnet[i * VNET_HEADER_SIZE]` (see vnet.ts);
   * a packet with gso_type set is a TCP segment of up to 64 KiB that the kernel did not split, and
   * one with VIRTIO_NET_HDR_F_NEEDS_CSUM carries only the pseudo-header sum in its checksum field.
   * null without offload.
   */
  readonly vnet: Uint8Array | null;
}

/**
 * Counters of one device (one queue), updated by the device and read without a native call or
 * an allocation. Packets too large for a slot count as rxTruncated and are not delivered.
 * Transmit failures are counted by class: txDropped (EAGAIN, ENOBUFS, ENOMEM: the kernel had no
 * room), txRejected (EINVAL, EMSGSIZE: the kernel refused that packet, e.g. its first nibble is
 * neither 4 nor 6), txErrors (anything else, e.g. EIO or EBADFD when the device is gone).
 */
export type TunCounters = { readonly [name in CounterName]: number } & {
  /** A plain copy for log lines; allocates, so call it per summary interval, not per packet. */
  snapshot(): Record<CounterName, number>;
};

/** Receives each batch; `count` is at least 1. What it throws becomes an uncaught exception. */
export type OnBatch = (count: number) => void;

/**
 * Told once when the device can no longer be read (for example its interface was deleted), and
 * counted as rxErrors; the device has stopped receiving and should be closed. Writes to a deleted
 * interface fail as txErrors. Without onError the error is thrown as an uncaught exception.
 */
export type OnError = (error: TunError) => void;

/**
 * One queue of a layer-3 TUN device. With multiQueue, each queue is its own TunDevice, opened
 * by the thread that reads it (one worker thread per queue).
 *
 * Receiving: start() registers the callback; every time the device has packets it reads up to
 * rx.batchSize of them into rx and calls onBatch(count) once. One wake-up reads a bounded
 * number of batches, then yields to other I/O. Sending: writeBatch writes the given packets
 * with one call into native code (one write(2) each, since TUN has no batched write) and
 * returns how many the kernel took; failures are counted, never thrown. No method throws per
 * packet; they throw only for programming errors (a packet outside its buffer, start twice).
 *
 * close() stops receiving and releases the queue; it may be called from inside onBatch and more
 * than once. Writes after close write nothing (0, false). A started device keeps the process
 * alive until closed, unless unref() was called.
 */
export interface TunDevice {
  /** The interface name the kernel assigned (a `%d` pattern filled in). */
  readonly name: string;
  readonly mtu: number;
  /** Opened with offload: virtio-net headers on every packet, TSO both ways (TunOptions.offload). */
  readonly offload: boolean;
  /**
   * With offload: the kernel knows UDP segmentation offload (TUN_F_USO4/6, Linux 6.2+), so writeBatch
   * may be given UDP GSO packets (VIRTIO_NET_HDR_GSO_UDP_L4; see TxCoalescer). Absent or false otherwise.
   */
  readonly udpSegmentation?: boolean;
  readonly rx: RxBatch;
  readonly counters: TunCounters;
  readonly closed: boolean;
  start(onBatch: OnBatch, onError?: OnError): void;
  /**
   * Writes packets i < count, each `buffer[offsets[i], offsets[i] + lengths[i])`, starting at its IP
   * header. With offload, `vnet` may give each packet's virtio-net header (`vnet[i * 10]`); without
   * it every packet goes as complete (no GSO, checksums done). Ignored without offload; with it,
   * a `vnet` shorter than count * 10 bytes is a RangeError.
   */
  writeBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, vnet?: Uint8Array): number;
  writePacket(buffer: Uint8Array, offset: number, length: number): boolean;
  /** Lets the process exit while the device is open (like socket.unref()). */
  unref(): void;
  ref(): void;
  close(): void;
}
