// @nat64/gateway: the NAT64 operators run (`nat64-gateway`, see main.ts). The public API is what the
// next phase (handoff) builds on: the configuration loader, the parts a configuration turns into, and
// the engine with its hooks (session events, local delivery, injection, cache misses).
export { loadGatewayConfig, type GatewayConfig, type RawSettings } from './config.js';
export { buildGateway, type BuildOptions, type GatewayParts } from './gateway.js';
export { Engine, type DatapathOptions, type LocalHandler, type MissHandler, type PacketSink } from './engine/engine.js';
export { BatchClock } from './engine/clock.js';
export { ExpiryTimer, type ExpiryOptions } from './engine/expiry.js';
export { SessionEvents, type SessionSubscriber } from './engine/events.js';
export { SPEC as GATEWAY_SPEC } from './engine/constants.js';
