// Handoff in the gateway (docs/protocol/handoff-v1.md): the agent (@nat64/handoff-agent) composed with
// the transport that reaches the receivers (transports/), the session tracker and the cache misses,
// hooked into @nat64/gateway-engine through its seams only; the engine never imports this package.
// Also handoff's slice of the configuration (`handoff`, with its defaults and its transports' slices).
export { Handoff, createHandoff, type HandoffOptions, type HandoffParts } from './handoff.js';
export {
  readHandoffConfig,
  transportNeeds,
  type BypassConfig,
  type GeneveConfig,
  type HandoffConfig,
  type TransportName,
  type TransportNeeds,
} from './config.js';
export { HANDOFF_COUNTERS, type HandoffCounterName } from './counters.js';
export { formatHosts, hostRows, type BypassRow, type HostRow, type HostsAnswer } from './hosts.js';
export { EvictedFlows } from './evicted-flows.js';
export { TRANSPORTS, TRANSPORT_NAMES, type CounterLine, type HandoffTransport, type TransportContext } from './transports/index.js';
export { BypassTransport } from './transports/bypass/bypass.js';
export { GeneveTransport } from './transports/geneve/geneve.js';
