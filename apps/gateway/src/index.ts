// @nat64/gateway: the NAT64 operators run (`nat64-gateway`, see main.ts). The public API: the
// configuration loader, the parts a configuration turns into, the engine with its hooks (session
// events, local delivery and its ICMP errors, injection, cache misses, batch ends), and handoff, which
// wires the protocol agent into them (benchmarks and tools build a gateway in process from these).
export { loadGatewayConfig, type GatewayConfig, type HandoffConfig, type RawSettings } from './config.js';
export { buildGateway, type BuildOptions, type GatewayParts } from './gateway.js';
export { Engine, type DatapathOptions, type LocalErrorHandler, type LocalHandler, type MissHandler, type PacketSink } from './engine/engine.js';
export { BatchClock } from './engine/clock.js';
export { ExpiryTimer, type ExpiryOptions } from './engine/expiry.js';
export { SessionEvents, type SessionSubscriber } from './engine/events.js';
export { SPEC as GATEWAY_SPEC } from './engine/constants.js';
export { Handoff, createHandoff, type HandoffOptions, type HandoffParts } from './handoff/handoff.js';
export type { HandoffTransport, TransportContext } from './handoff/transports/transport.js';
export type { HostRow, HostsAnswer } from './handoff/hosts.js';
