// Loads the native binding (build/Release/tun.node) on first use, so that FakeTun and the rest
// of the package work where the addon was never built. Both src/ and dist/ sit one level below
// the package root, so one relative path serves tests and the built package alike.
import { createRequire } from 'node:module';
import { COUNTER_NAMES } from './constants.js';
import { TunError } from './errors.js';

export interface NativeOpened {
  fd: number;
  name: string;
  mtu: number;
  txQueueLength: number;
  ifindex: number;
  /** With offload: the kernel took TUN_F_USO4 | TUN_F_USO6 (probed, then cleared). */
  udpSegmentation: boolean;
}

/** A failed open: `step` names the syscall, `errno` what it returned. */
export interface NativeOpenError extends Error {
  errno: number;
  step: string;
}

export interface NativeQueue {
  start(
    buffer: Uint8Array,
    slotSize: number,
    lengths: Uint32Array,
    batchesPerWake: number,
    onBatch: (count: number) => void,
    onError: (errno: number) => void,
    /** The virtio-net headers (offload), or the peer records (UDP). */
    extra?: Uint8Array,
  ): void;
  writeBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, vnet?: Uint8Array): number;
  writePacket(buffer: Uint8Array, offset: number, length: number): boolean;
  /** UDP queues only: sendmmsg of the datagrams to one peer record. */
  sendBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, peer: Uint8Array): number;
  ref(): void;
  unref(): void;
  close(): void;
}

export interface NativeBinding {
  readonly counterNames: readonly string[];
  /** persist: 1 set, 0 clear, -1 leave; mtu and txQueueLength 0 leave them. Throws a NativeOpenError. */
  open(
    name: string,
    multiQueue: boolean,
    persist: number,
    mtu: number,
    up: boolean,
    nonBlocking: boolean,
    offload?: boolean,
    txQueueLength?: number,
    tap?: boolean,
    receiveSegments?: boolean,
    receiveChecksums?: boolean,
  ): NativeOpened;
  closeDescriptor(fd: number): void;
  /** A bound non-blocking UDP socket. Throws a NativeOpenError. */
  openUdp(address: string, port: number, v6Only: boolean, receiveBufferBytes: number): { fd: number; family: 4 | 6; port: number };
  TunQueue: new (fd: number, counters: Float64Array, vnetHeaders?: boolean, udp?: boolean) => NativeQueue;
}

export const ADDON_PATH = '../build/Release/tun.node';

let binding: NativeBinding | undefined;

export function loadNative(): NativeBinding {
  if (binding) return binding;
  let loaded: NativeBinding;
  try {
    loaded = createRequire(import.meta.url)(ADDON_PATH) as NativeBinding;
  } catch (error) {
    throw new TunError('ERR_TUN_BINDING', `cannot load the native TUN binding (${(error as Error).message}); build it with pnpm --filter @nat64/tun build`);
  }
  if (loaded.counterNames.join() !== COUNTER_NAMES.join()) {
    throw new TunError(
      'ERR_TUN_BINDING',
      `the native TUN binding counts [${loaded.counterNames.join()}] ` + `but the package expects [${COUNTER_NAMES.join()}]; rebuild it`,
    );
  }
  binding = loaded;
  return loaded;
}

export function isNativeOpenError(error: unknown): error is NativeOpenError {
  const candidate = error as Partial<NativeOpenError> | undefined;
  return error instanceof Error && typeof candidate?.errno === 'number' && typeof candidate.step === 'string';
}
