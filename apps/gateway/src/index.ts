// @nat64/gateway: the NAT64 operators run (`nat64-gateway`, see main.ts). The public API is the
// configuration loader; the engine is the package @nat64/gateway-engine and handoff the package
// @nat64/gateway-handoff, which benchmarks and tools build a gateway from in process.
export { loadGatewayConfig, type GatewayConfig, type HandoffConfig, type RawSettings } from './config.js';
