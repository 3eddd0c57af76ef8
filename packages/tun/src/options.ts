// Options of openTun and FakeTun, checked completely before anything is opened.
import { DEFAULTS, SPEC } from './constants.js';
import { optionError } from './errors.js';

/** Slots for offload, and the largest slot: any IP packet, rounded up to whole cache lines. */
export const OFFLOAD_SLOT_SIZE = Math.ceil(SPEC.MAX_PACKET / DEFAULTS.SLOT_ALIGNMENT) * DEFAULTS.SLOT_ALIGNMENT;

/** How the receive buffer is laid out and drained; shared by the real and the fake device. */
export interface RxOptions {
  /** Slots in the receive buffer, the most packets per callback. Default 64. */
  batchSize?: number;
  /** Bytes per slot. Default: the MTU rounded up to 64. Larger packets count as rxTruncated. */
  slotSize?: number;
  /** Batches one wake-up may read before yielding to other I/O. Default 4. */
  batchesPerWake?: number;
}

export interface TunOptions extends RxOptions {
  /**
   * The interface to create, or to attach to when it exists. A `%d` in it lets the kernel pick
   * a free number (`tun%d`); TunDevice.name has the result.
   */
  name: string;
  /** Sets the MTU (SIOCSIFMTU). Default: leave it (1500 for a new device). */
  mtu?: number;
  /**
   * Packets the kernel queues for us to read (SIOCSIFTXQLEN, `ip link set DEV txqueuelen N`); when
   * the queue is full it drops and counts them as the interface's tx_dropped. Default: leave it (500
   * for a new device).
   */
  txQueueLength?: number;
  /** Brings the link up (SIOCSIFFLAGS). Addresses and routes are the caller's business (`ip`). */
  up?: boolean;
  /**
   * IFF_MULTI_QUEUE: every open of the same name adds a queue, each with its own descriptor,
   * and the kernel spreads flows over the queues. Must match how the device was created.
   */
  multiQueue?: boolean;
  /** true makes the device outlive its descriptors, false undoes that; default leaves it as it is. */
  persist?: boolean;
  /**
   * IFF_VNET_HDR with checksum and TSO offloads (TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6): the kernel hands
   * over TCP segments of up to 64 KiB unsplit, with partial checksums, and takes the same back, so it
   * routes and forwards one large packet where it would have handled dozens. Every packet then carries
   * a virtio-net header (RxBatch.vnet, writeBatch's vnet). Must match how the device was created; the
   * default slot size becomes 65536. Default false.
   */
  offload?: boolean;
  /**
   * With offload: take TCP segmentation offload on reads (TUN_F_TSO4/6), so that TCP arrives in segments
   * of up to 64 KiB. false leaves checksum offload only: the kernel splits TCP segments before it hands
   * them over, for a reader that cannot forward them whole (a tunnel: the segments are encapsulated one by
   * one). Writes may be GSO packets either way. Default true.
   */
  receiveSegments?: boolean;
  /**
   * With offload: take checksum offload on reads (TUN_F_CSUM). false sets no read offload at all: reads
   * are complete packets with their checksums (and a virtio-net header to skip), slots keep their MTU
   * size, and the header serves the writes only, which may still be GSO packets with partial checksums
   * (a receive coalescer's). Implies receiveSegments false. Default true.
   */
  receiveChecksums?: boolean;
  /**
   * IFF_TAP: a layer-2 device whose packets are whole Ethernet frames (destination MAC at byte 0,
   * no FCS) instead of IP packets; the kernel does neighbor discovery on it. Must match how the
   * device was created. Default false (openTap sets it).
   */
  tap?: boolean;
}

export interface RxShape {
  batchSize: number;
  slotSize: number;
  batchesPerWake: number;
}

function checkInteger(label: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw optionError(`${label} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}

export function checkRxOptions(options: RxOptions): void {
  checkInteger('batchSize', options.batchSize, 1, DEFAULTS.MAX_BATCH_SIZE);
  checkInteger('slotSize', options.slotSize, 1, OFFLOAD_SLOT_SIZE);
  checkInteger('batchesPerWake', options.batchesPerWake, 1, DEFAULTS.MAX_BATCHES_PER_WAKE);
}

export function checkMtu(mtu: number | undefined): void {
  checkInteger('mtu', mtu, SPEC.MIN_MTU, SPEC.MAX_MTU);
}

export function checkTunOptions(options: TunOptions): void {
  const { name } = options;
  if (typeof name !== 'string' || name.length === 0) throw optionError('name must be a non-empty interface name');
  const bytes = Buffer.byteLength(name);
  if (bytes >= SPEC.IFNAMSIZ || name.includes('\0')) {
    throw optionError(`name "${name}" must be at most ${SPEC.IFNAMSIZ - 1} bytes without NUL, it is ${bytes}`);
  }
  checkMtu(options.mtu);
  checkInteger('txQueueLength', options.txQueueLength, 1, DEFAULTS.MAX_TX_QUEUE_LENGTH);
  checkRxOptions(options);
}

/** The slot size that holds any packet of this MTU: rounded up to whole cache lines. */
export function defaultSlotSize(mtu: number): number {
  return Math.ceil(mtu / DEFAULTS.SLOT_ALIGNMENT) * DEFAULTS.SLOT_ALIGNMENT;
}

export function resolveRxShape(options: RxOptions, mtu: number, offload = false, tap = false): RxShape {
  return {
    batchSize: options.batchSize ?? DEFAULTS.BATCH_SIZE,
    slotSize: options.slotSize ?? (offload ? OFFLOAD_SLOT_SIZE : defaultSlotSize(tap ? mtu + SPEC.ETHERNET_HEADER : mtu)),
    batchesPerWake: options.batchesPerWake ?? DEFAULTS.BATCHES_PER_WAKE,
  };
}
