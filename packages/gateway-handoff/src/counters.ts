// What the handoff glue counts (the agent counts the protocol itself, see @nat64/handoff-agent, and
// the transport its own packets), with the explanation `nat64-gateway stats --explain` prints.

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
  flowsEvictedRemembered: 'handed-off sessions evicted from the cache and remembered (handoff.evictedFlows) for their client to speak first',
  clientMissesQueried: 'keys (protocol, client address and port, host) of client packets of evicted flows that a CLIENT-QUERY asked about',
  clientMissesAwaitingHost:
    'TCP segments without a session toward a host never met (after a restart): dropped while a HELLO asks whether its receiver holds authority, so their retransmission can be asked about',
  clientMissesJoined: 'client packets held behind a CLIENT-QUERY already out for the same key',
  clientMissesDropped: 'client packets dropped: the per-key, total or byte bound of the miss queue was reached',
  clientMissesQueryRefused: 'client packets let through as new flows: too many queries outstanding toward the host or in total',
  clientMissesRestored: 'held client packets re-injected after an ANSWER restored their session on its old NAT port',
  clientMissesNotFound: 'held client packets given back to the NAT64 after NOT_FOUND or NOT_AUTHORITATIVE (new mapping, or TCP dropped)',
  clientMissesTimedOut: 'held client packets given back to the NAT64 after their CLIENT-QUERY got no answer',
  clientMissesNewMapping: 'held UDP or echo packets given a new mapping because their old NAT port had gone to another client',
  clientRestoreConflicts: 'connections that could not come back: the receiver knew them, but their NAT port had gone to another client',
  clientConnectionsGone:
    'handed-off TCP connections whose client spoke first after the receiver had ended them (or given their port to a new client): answered with a RST',
  clientResetsSent: 'TCP RSTs sent to clients whose connection could not come back',
  eventErrors: 'handoff callbacks that threw (logged at most once a minute)',
} as const;

export type HandoffCounterName = keyof typeof HANDOFF_COUNTERS;
