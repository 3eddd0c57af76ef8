// Allocation of the receive buffer a device shares with its reader (see RxBatch).
import type { RxBatch } from './device.js';
import { VNET_HEADER_SIZE } from './vnet.js';

export function allocateRxBatch(batchSize: number, slotSize: number, offload = false): RxBatch {
  return {
    // Buffer.alloc never hands out a slice of the shared pool, so native code may keep a pointer.
    buffer: Buffer.alloc(batchSize * slotSize),
    slotSize,
    batchSize,
    // Its own ArrayBuffer: small typed arrays may live on the V8 heap, where data can move.
    lengths: new Uint32Array(new ArrayBuffer(batchSize * Uint32Array.BYTES_PER_ELEMENT)),
    vnet: offload ? Buffer.alloc(batchSize * VNET_HEADER_SIZE) : null,
  };
}
