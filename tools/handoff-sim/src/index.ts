// A gateway simulator that speaks handoff v1 to a receiver: the scripted seed scenario, a load
// generator, and the client both are built on.
export { GatewayClient, HandoffTimeoutError, type GatewayClientOptions, type HelloResult } from './gateway-client.js';
export { runSeedScenario, seedExpectedLines, SEED_GATEWAYS, type SeedOptions } from './scenarios.js';
export { runLoad, type LoadOptions, type LoadReport } from './load.js';
