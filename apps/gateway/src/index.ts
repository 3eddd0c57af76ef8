// @nat64/gateway: the NAT64 operators run (`nat64-gateway`, see main.ts). The public API: the
// configuration loader, the parts a configuration turns into (the engine itself is the package
// @nat64/gateway-engine), and handoff, which wires the protocol agent into the engine's hooks
// (benchmarks and tools build a gateway in process from these).
export { loadGatewayConfig, type GatewayConfig, type HandoffConfig, type RawSettings } from './config.js';
export { Handoff, createHandoff, type HandoffOptions, type HandoffParts } from './handoff/handoff.js';
export type { HandoffTransport, TransportContext } from './handoff/transports/transport.js';
export type { HostRow, HostsAnswer } from './handoff/hosts.js';
