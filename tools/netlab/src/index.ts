// Network-namespace labs for end-to-end tests, the demo and benchmarks.
export { Lab, Namespace, sweepStaleLabs, labUnavailableReason, type LinkOptions, type RunResult } from './lab.js';
export { waitFor, waitForLine } from './wait.js';
export { NAT64_ADDRESSES, createNat64Topology, type Nat64Topology } from './nat64-topology.js';
