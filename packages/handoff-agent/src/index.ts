// The gateway's side of handoff protocol v1 (docs/protocol/handoff-v1.md) as pure, event-driven
// state: HELLO exchange and peer states, CREATED/DELETED batched to the MTU and delivered reliably
// within the receiver's window, hand-off reports, RELEASE, and QUERY for cache misses. No sockets,
// no timers, no promises: the gateway feeds it and sends what it returns.
export { HandoffAgent, type PeerSummary } from './agent.js';
export type { HandoffAgentOptions, HandoffAgentEvents } from './options.js';
export type { AckedEntries } from './acked.js';
export { PeerState, PEER_STATE_NAMES, QueryVerdict, QueryOutcome, DEFAULTS, type RateLimit } from './constants.js';
export { AGENT_COUNTERS, type AgentCounterName } from './counters.js';
export type { ClientQuestion } from './queries.js';
