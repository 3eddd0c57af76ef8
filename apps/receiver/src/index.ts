// The receiver as a library: what tests, the simulator's benchmarks and the demo start in-process.
export { startReceiver, type ReceiverDaemon } from './daemon.js';
export { loadReceiverConfig, DEFAULTS, HANDOFF_PORT, type ReceiverConfig } from './config.js';
export { RECEIVER_COUNTERS, type ReceiverCounterName } from '@nat64/handoff-receiver';
export { formatTimestamp, parseTimestamp, entryLine, initializedLine } from '@nat64/handoff-receiver';
