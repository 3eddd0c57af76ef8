// The output batch: one preallocated arena of fixed-size slots with `offsets`, `lengths` and
// `count` in exactly the shape a batched TUN write takes (`writeBatch(buffer, offsets, lengths,
// count)`). Each slot keeps `headroom` free bytes in front of its packet so that encapsulation
// (e.g. Geneve) can prepend outer headers in place.

import { XlatError } from './errors.js';

export interface PacketBatchOptions {
  /** Number of slots (packets per batch). Default 64. */
  readonly capacity?: number;
  /** Largest packet a slot holds, headroom excluded. Default 65575 (a full IPv6 packet, 40 + 65535). */
  readonly maxPacketSize?: number;
  /** Free bytes kept in front of every packet, rounded up to a multiple of 8. Default 0. */
  readonly headroom?: number;
}

/**
 * A batch of output packets. Writers call `reserve()` to get the offset of the next free packet
 * position, write at most `maxPacketSize` bytes there and `commit(length)`. Packet i occupies
 * buffer[offsets[i], offsets[i] + lengths[i]). `reset()` empties the batch and restores offsets
 * that an encapsulation step moved into the headroom.
 */
export class PacketBatch {
  readonly buffer: Uint8Array;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  count = 0;
  readonly capacity: number;
  readonly maxPacketSize: number;
  readonly headroom: number;
  readonly slotSize: number;

  constructor(options: PacketBatchOptions = {}) {
    const capacity = options.capacity ?? 64;
    const maxPacketSize = options.maxPacketSize ?? 65575;
    const headroom = Math.ceil((options.headroom ?? 0) / 8) * 8;
    if (!Number.isInteger(capacity) || capacity < 1) throw new XlatError('badConfig', `batch capacity must be a positive integer, not ${capacity}`);
    if (!Number.isInteger(maxPacketSize) || maxPacketSize < 1280) {
      throw new XlatError('badConfig', `batch maxPacketSize must be an integer of at least 1280, not ${maxPacketSize}`);
    }
    if (!Number.isInteger(headroom) || headroom < 0) throw new XlatError('badConfig', `batch headroom must be a non-negative integer`);
    this.capacity = capacity;
    this.maxPacketSize = maxPacketSize;
    this.headroom = headroom;
    // Slots start on 8-byte boundaries so headers land word-aligned.
    this.slotSize = Math.ceil((headroom + maxPacketSize) / 8) * 8;
    this.buffer = new Uint8Array(this.slotSize * capacity);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    for (let i = 0; i < capacity; i++) this.offsets[i] = i * this.slotSize + headroom;
  }

  /** Free slots left. */
  get free(): number {
    return this.capacity - this.count;
  }

  /** Offset where the next packet is to be written, or -1 when the batch is full. */
  reserve(): number {
    return this.count < this.capacity ? this.offsets[this.count]! : -1;
  }

  /** Appends the packet written at the last `reserve()` offset. */
  commit(length: number): void {
    this.lengths[this.count] = length;
    this.count++;
  }

  /** Empties the batch; offsets moved into the headroom are put back. */
  reset(): void {
    for (let i = 0; i < this.count; i++) this.offsets[i] = i * this.slotSize + this.headroom;
    this.count = 0;
  }

  /** Drops the packets appended after the first `count` (used to undo a partial translation). */
  truncate(count: number): void {
    for (let i = count; i < this.count; i++) this.offsets[i] = i * this.slotSize + this.headroom;
    this.count = Math.min(this.count, count);
  }

  /** View of packet i (allocates; for tests and diagnostics, not the packet path). */
  packet(i: number): Uint8Array {
    const start = this.offsets[i]!;
    return this.buffer.subarray(start, start + this.lengths[i]!);
  }
}
