export { runCodecBenchmark } from './codec.js';
export { runReceiverBenchmark } from './receiver.js';
