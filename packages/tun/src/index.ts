// Linux TUN devices for the NAT64 gateway: openTun opens a queue of a layer-3 TUN device with
// batched, non-blocking I/O through a small native binding; FakeTun is its in-memory stand-in
// for unit tests. The contract both keep is documented on TunDevice.
export { openTap, openTun } from './linux-tun.js';
export { openUdp, PEER_RECORD_SIZE, type BatchedUdpSocket, type UdpOptions, type UdpRxBatch } from './udp.js';
export { FakeTun, type FakeTunOptions } from './fake-tun.js';
export { TunError } from './errors.js';
export { readInterfaceStatistics, type InterfaceStatistics } from './sysfs.js';
export { TxCoalescer, type CoalesceCounters, type CoalesceOptions } from './coalesce.js';
export { VNET_HEADER_SIZE, VnetFlag, VnetGso, VnetOffset, readVnetU16, writePartialChecksumHeader, writeVnetU16 } from './vnet.js';
export type { TunDevice, RxBatch, TunCounters, OnBatch, OnError } from './device.js';
export type { TunOptions, RxOptions } from './options.js';
export type { CounterName } from './constants.js';
