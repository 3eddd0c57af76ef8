// The receiver as a library: what tests, the simulator's benchmarks and the demo start in-process.
export { startReceiver, type ReceiverDaemon } from './daemon.js';
export { loadReceiverConfig, DEFAULTS, HANDOFF_PORT, type ReceiverConfig } from './config.js';
export { RECEIVER_COUNTERS, type ReceiverCounterName } from './counters.js';
export { formatTimestamp, parseTimestamp, entryLine, initializedLine } from './conn-log.js';
