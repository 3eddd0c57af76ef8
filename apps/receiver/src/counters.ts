// Everything the receiver counts, with the explanation `nat64-receiver stats --explain` prints.
import { Counters } from '@nat64/service';

export const RECEIVER_COUNTERS = {
  datagramsReceived: 'datagrams received on the handoff port',
  truncated: 'dropped: datagram shorter than its header or its Length field',
  unknownVersion: 'ignored: a protocol version this receiver does not speak',
  unknownType: 'ignored: a message type this receiver does not know',
  lengthMismatch: 'dropped: Length field inconsistent with the message type',
  tagMissing: 'dropped: authentication flag set without room for a tag',
  badCount: 'dropped: entry or block count that does not fill the body',
  tooManyBlocks: 'dropped: ACK with more than 16 blocks',
  undersized: 'dropped: HELLO or QUERY shorter than its reply (anti-amplification)',
  notAllowed: 'dropped: source address outside --allow',
  authenticationFailed: 'dropped: missing or wrong authentication tag, or a tag without a configured key',
  badCookie: 'dropped: cookie is not the one this receiver gave that gateway epoch (spoofed or stale)',
  natAddressMismatch: 'dropped: NAT address is not the source address of the datagram',
  unexpectedType: 'dropped: a message only gateways receive (HELLO-ACK, ANSWER, RELEASE)',
  peersFull: 'dropped: too many gateway epochs known at once',
  helloAcksSent: 'HELLO-ACK replies sent',
  gatewaysInitialized: 'gateway epochs started (an "Initialized" log line each)',
  reliableApplied: 'CREATED/DELETED messages stored and applied',
  duplicates: 'CREATED/DELETED messages received again after they were applied (acknowledged again)',
  heldAhead: 'CREATED/DELETED messages held until a gap before them fills',
  beyondWindow: 'dropped: sequence number past the advertised window',
  entriesRejected: 'entries dropped alone: bad protocol, time, ICMP server port, or NAT address not the sender',
  created: 'entries created (a "Created" log line each)',
  deleted: 'entries deleted, for any reason (a "Deleted" log line each)',
  replaced: 'entries that gave way to a new client on the same NAT address and port',
  expiredIdle: 'entries this receiver ended as idle',
  evicted: 'entries this receiver ended because the table was full',
  commits: 'store transactions committed',
  storeFailures: 'store transactions that failed (nothing acknowledged; gateways retransmit)',
  storeUnavailable: 'dropped: arrived while the table was being reloaded after a store failure',
  backlogFull: 'dropped unacknowledged: too many entries already waiting for the store (gateways retransmit)',
  acksSent: 'ACK messages sent',
  queriesAnswered: 'QUERY messages answered',
  answersFound: 'ANSWERs that returned an entry',
  answersNotFound: 'ANSWERs that found no entry',
  releasesSent: 'RELEASE messages sent (first transmissions)',
  releaseRetransmissions: 'RELEASE messages sent again for lack of an ACK',
  releasesAcknowledged: 'RELEASE messages the gateway acknowledged',
  releasesAbandoned: 'RELEASE messages given up on after repeated retransmission',
  sendErrors: 'replies the socket refused to send',
} as const;

export type ReceiverCounterName = keyof typeof RECEIVER_COUNTERS;

export function createReceiverCounters(): Counters<ReceiverCounterName> {
  return new Counters(RECEIVER_COUNTERS);
}
