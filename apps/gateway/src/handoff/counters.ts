// What the handoff glue counts (the agent counts the protocol itself, see @nat64/handoff-agent, and
// the transport its own packets), with the explanation `nat64-gateway stats --explain` prints.
import { Counters } from '@nat64/service';

export const HANDOFF_COUNTERS = {
  mappingsCreated: 'mappings reported created toward a host (first session of a BIB entry toward it)',
  mappingsDeleted: 'mappings reported deleted (last session toward the host ended while the gateway held authority)',
  mappingsClosedInCache: 'handed-off TCP mappings that closed (FIN both ways, or RST) and were reported deleted when evicted',
  mappingsEvicted: 'handed-off mappings whose last session left the cache: not reported, the receiver keeps them',
  mappingsReleasedQuietly: 'mappings that ended by a RELEASE of the receiver: not reported back',
  mappingsRestored: 'mappings brought back into the cache by an ANSWER (not reported again)',
  mappingsHandedOff: 'mappings an authoritative receiver acknowledged: their sessions became a cache',
  handOffStale: 'acknowledged mappings that had ended or changed in the meantime (nothing to hand off)',
  sessionsHandedOffLater: 'sessions created on an already handed-off mapping, handed off at the end of their batch',
  mappingsTakenBack: 'handed-off mappings whose authority came back to the gateway (receiver lost or not authoritative)',
  mappingsReannounced: 'live mappings announced again because a receiver came up',
  releasesApplied: 'entries a receiver released whose mapping the gateway still held (its sessions deleted)',
  releasesStale: 'released entries the gateway no longer held, or held for another client',
  missesQueried: 'keys (protocol, NAT address and port, host) of packets without a session that a QUERY asked an authoritative host about',
  missesAwaitingHost: 'keys of packets without a session from a host never met (after a restart): held while a HELLO asks whether it holds authority',
  missesJoined: 'packets held behind a QUERY (or HELLO) already out for the same key',
  missesDropped: 'such packets dropped: the per-key, total or byte bound of the miss queue was reached',
  missesQueryRefused: 'such packets dropped: too many queries outstanding toward the host or in total',
  missesRestored: 'held packets re-injected after an ANSWER restored their session',
  missesNotFound: 'held packets given back to the NAT64 as misses after NOT_FOUND or NOT_AUTHORITATIVE (plain NAT64 answer)',
  missesTimedOut: 'held packets given back to the NAT64 as misses after their QUERY, or the HELLO before it, got no answer',
  restoreFailed: 'ANSWERs whose session could not be restored (port taken by another client, table full, ...)',
  eventErrors: 'handoff callbacks that threw (logged at most once a minute)',
} as const;

export type HandoffCounterName = keyof typeof HANDOFF_COUNTERS;

export function createHandoffCounters(): Counters<HandoffCounterName> {
  return new Counters(HANDOFF_COUNTERS);
}
