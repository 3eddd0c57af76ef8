// The NAT64 gateway's packet engine (README.md): batches from the TUN device through the NAT64 table
// and the translator into the output batch, with the seams other layers hook into (session events,
// local delivery and its ICMP errors, the local socket, injection, cache misses, bypass, batch ends).
// No configuration parsing, no sockets, no files: apps/gateway builds it and wires it to the device.
export {
  BYPASS_VERDICT,
  Engine,
  type BypassHook,
  type ClientMissHandler,
  type DatapathOptions,
  type LocalErrorHandler,
  type LocalHandler,
  type MissHandler,
  type OutputEncapsulator,
  type PacketSink,
  type TunnelErrorHandler,
} from './engine.js';
export { BatchClock } from './clock.js';
export { ExpiryTimer, type ExpiryOptions } from './expiry.js';
export { SessionEvents, type SessionSubscriber } from './events.js';
export { IMPL, SPEC } from './constants.js';
export { GATEWAY_COUNTERS, GATEWAY_COUNTER_NAMES, GW, type GatewayCounterName } from './reasons.js';
export { LocalSocket, localSocketExplanations, type LocalSocketCounterName, type LocalSocketReceiver } from './local-socket.js';
export { TCP_RESET_LENGTH, writeTcpReset } from './tcp-reset.js';
export { SessionPorts, readSessionPorts } from './session-ports.js';
export { buildEngine, prefixOf, refusesNonGlobal, tableOptions, translatorOptions, type BuildOptions, type EngineParts } from './build.js';
export type { EngineSettings, Pool4Entry, PortRange, Protocol, StaticBibEntry } from './settings.js';
