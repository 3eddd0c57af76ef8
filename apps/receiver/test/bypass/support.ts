// In-memory stand-ins for what NAT64 bypass touches on the host: a TAP device and the host
// network configuration (addresses, routes, rules).
import type { OnBatch, RxBatch, TunCounters, TunDevice } from '@nat64/tun';
import type { HostNetwork, TunnelRoute } from '../../src/bypass/host-network.js';

/** A TAP device in memory: frames written are kept, frames injected arrive as one batch. */
export class FakeTap implements TunDevice {
  readonly offload = false;
  readonly rx: RxBatch = { buffer: Buffer.alloc(4 * 1536), slotSize: 1536, batchSize: 4, lengths: new Uint32Array(4), vnet: null };
  readonly counters = {} as TunCounters;
  readonly written: Buffer[] = [];
  closed = false;
  private onBatch: OnBatch | undefined;

  constructor(
    readonly name: string,
    readonly mtu: number,
  ) {}

  start(onBatch: OnBatch): void {
    this.onBatch = onBatch;
  }

  inject(...frames: Uint8Array[]): void {
    frames.forEach((frame, i) => {
      this.rx.buffer.set(frame, i * this.rx.slotSize);
      this.rx.lengths[i] = frame.length;
    });
    this.onBatch!(frames.length);
  }

  writeBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): number {
    for (let i = 0; i < count; i++) this.writePacket(buffer, offsets[i]!, lengths[i]!);
    return count;
  }

  writePacket(buffer: Uint8Array, offset: number, length: number): boolean {
    this.written.push(Buffer.from(buffer.subarray(offset, offset + length)));
    return true;
  }

  unref(): void {}
  ref(): void {}
  close(): void {
    this.closed = true;
  }
}

export class FakeNetwork implements HostNetwork {
  readonly calls: string[] = [];
  failSetUp = false;
  setUp(route: TunnelRoute): void {
    this.calls.push(`up ${route.device} ${route.mac} ${route.address} via ${route.nextHop} table ${route.table}`);
    if (this.failSetUp) throw new Error('ip failed');
  }
  moveNextHop(route: TunnelRoute): void {
    this.calls.push(`move ${route.device} via ${route.nextHop}`);
  }
  tearDown(route: TunnelRoute): void {
    this.calls.push(`down ${route.device} table ${route.table}`);
  }
  removeStale(): string[] {
    this.calls.push('stale');
    return [];
  }
}
