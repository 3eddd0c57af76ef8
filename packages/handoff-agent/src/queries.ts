// Cache misses (§6.5): QUERY toward an authoritative peer, retransmitted with the same request
// identifier on the peer's RTO, doubling, up to a limit; one outstanding QUERY per key, however many
// packets missed on it; exactly one onAnswer per accepted query token.
import {
  AnswerStatus,
  HANDOFF_VERSION,
  MessageType,
  Protocol,
  datagram,
  readEntry,
  signDatagram,
  type HandoffEntry,
  type Query,
} from '@nat64/handoff-codec';
import { PeerState, QueryOutcome, QueryVerdict } from './constants.js';
import type { AgentCore } from './core.js';
import type { Peer } from './peer.js';

class PendingQuery {
  id = 0;
  protocol = 0;
  natPort = 0;
  serverAddress = 0;
  serverPort = 0;
  token = 0;
  /** Tokens of the queries that joined this one. */
  readonly joined: number[] = [];
  deadline = 0;
  rto = 0;
  retransmissions = 0;
}

/** The queries outstanding toward one peer, by request identifier and by key. */
export class PeerQueries {
  readonly byId = new Map<number, PendingQuery>();
  readonly byKey = new Map<number, PendingQuery>();
  readonly spare: PendingQuery[] = [];
}

/** Reused for every QUERY. */
const message: Query = {
  type: MessageType.QUERY,
  version: HANDOFF_VERSION,
  flags: 0,
  epoch: 0n,
  cookie: 0n,
  sequence: 0,
  protocol: 0,
  natPort: 0,
  natAddress: 0,
  serverAddress: 0,
  serverPort: 0,
};

function keyOf(protocol: number, natPort: number): number {
  return protocol * 0x1_0000 + natPort;
}

function isU(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max;
}

/** query() of the agent; throws RangeError only for arguments outside their fields. */
export function issueQuery(
  core: AgentCore,
  peer: Peer | undefined,
  protocol: number,
  natPort: number,
  serverAddress: number,
  serverPort: number,
  token: number,
  now: number,
): QueryVerdict {
  if (!(isU(protocol, 0xff) && isU(natPort, 0xffff) && isU(serverAddress, 0xffff_ffff) && isU(serverPort, 0xffff))) {
    throw new RangeError('query: protocol, natPort, serverAddress or serverPort outside its field');
  }
  if (peer === undefined || peer.state !== PeerState.AUTHORITATIVE) {
    core.count('queriesNotAuthoritative');
    return QueryVerdict.NOT_AUTHORITATIVE;
  }
  const queries = (peer.queries ??= new PeerQueries());
  const key = keyOf(protocol, natPort);
  const pending = queries.byKey.get(key);
  if (pending !== undefined) {
    pending.joined.push(token);
    core.count('queriesJoined');
    return QueryVerdict.JOINED;
  }
  if (queries.byKey.size >= core.options.maxQueriesPerPeer) {
    core.count('queriesLimited');
    return QueryVerdict.PEER_LIMIT;
  }
  if (core.queries >= core.options.maxQueries) {
    core.count('queriesLimited');
    return QueryVerdict.TOTAL_LIMIT;
  }
  const query = queries.spare.pop() ?? new PendingQuery();
  let id = core.ids.next();
  while (queries.byId.has(id | 0)) id = core.ids.next();
  query.id = id;
  query.protocol = protocol;
  query.natPort = natPort;
  query.serverAddress = serverAddress;
  query.serverPort = serverPort;
  query.token = token;
  query.retransmissions = 0;
  query.rto = peer.rto.rto;
  query.deadline = now + query.rto;
  queries.byId.set(id | 0, query);
  queries.byKey.set(key, query);
  core.queries++;
  core.count('queriesSent');
  sendQuery(core, peer, query);
  if (query.deadline < peer.queryAt) {
    peer.queryAt = query.deadline;
    core.reschedule(peer);
  }
  return QueryVerdict.SENT;
}

function sendQuery(core: AgentCore, peer: Peer, query: PendingQuery): void {
  message.epoch = peer.epoch;
  message.cookie = peer.cookie;
  message.sequence = query.id;
  message.protocol = query.protocol;
  message.natPort = query.natPort;
  message.natAddress = peer.natAddress;
  message.serverAddress = query.serverAddress;
  message.serverPort = query.serverPort;
  const scratch = core.scratch;
  // The codec pads QUERY to the size of an ANSWER (§5.8, §6.8); the tag comes on top.
  let end = datagram.encode(message, scratch, 0);
  if (core.options.key !== undefined) end = signDatagram(scratch, 0, end, core.options.key);
  core.send(peer, scratch.subarray(0, end));
}

/** Retransmits due queries and times out those past their last retransmission. */
export function queriesDue(core: AgentCore, peer: Peer, now: number): void {
  const queries = peer.queries;
  let next = Infinity;
  if (queries !== null) {
    const maxRto = core.options.maxRtoMs;
    // Deleting the visited entry is safe in Map iteration; queries added by callbacks are visited too.
    for (const query of queries.byId.values()) {
      if (query.deadline <= now) {
        if (query.retransmissions >= core.options.queryRetries) {
          core.count('queriesTimedOut');
          finish(core, queries, query, QueryOutcome.TIMED_OUT, null);
          continue;
        }
        query.retransmissions++;
        query.rto = Math.min(query.rto * 2, maxRto);
        query.deadline = now + query.rto;
        core.count('queryRetransmissions');
        sendQuery(core, peer, query);
      }
      if (query.deadline < next) next = query.deadline;
    }
  }
  peer.queryAt = next;
}

/**
 * An ANSWER with our epoch and cookie. Returns false when the receiver said NOT_AUTHORITATIVE, so
 * that the caller asks it again with a HELLO whether it still is.
 */
export function answerReceived(core: AgentCore, peer: Peer, buf: Uint8Array): boolean {
  const view = core.view;
  const queries = peer.queries;
  const query = queries === null ? undefined : queries.byId.get(view.sequence | 0);
  if (queries === null || query === undefined) {
    core.count('answersUnmatched');
    return true;
  }
  switch (view.answerStatus) {
    case AnswerStatus.FOUND: {
      const entry = core.answerEntry;
      if (!readEntry(buf, view.entriesOffset, entry) || !acceptableEntry(entry, peer.natAddress)) {
        core.count('entriesRejected');
        return true;
      }
      // §6.5: an entry other than the key asked about answers nothing.
      if (entry.protocol !== query.protocol || entry.natPort !== query.natPort) {
        core.count('answersUnmatched');
        return true;
      }
      core.count('answersFound');
      finish(core, queries, query, QueryOutcome.FOUND, entry);
      return true;
    }
    case AnswerStatus.NOT_FOUND:
      core.count('answersNotFound');
      finish(core, queries, query, QueryOutcome.NOT_FOUND, null);
      return true;
    default:
      // §5.9: unknown status values count as NOT_AUTHORITATIVE.
      core.count('answersNotAuthoritative');
      finish(core, queries, query, QueryOutcome.NOT_AUTHORITATIVE, null);
      return false;
  }
}

/** Ends every query of the peer with this outcome (it stopped being authoritative). */
export function endQueries(core: AgentCore, peer: Peer, outcome: QueryOutcome): void {
  const queries = peer.queries;
  peer.queryAt = Infinity;
  if (queries === null) return;
  for (const query of queries.byId.values()) {
    if (outcome === QueryOutcome.NOT_AUTHORITATIVE) core.count('answersNotAuthoritative');
    finish(core, queries, query, outcome, null);
  }
}

function finish(core: AgentCore, queries: PeerQueries, query: PendingQuery, outcome: QueryOutcome, entry: HandoffEntry | null): void {
  queries.byId.delete(query.id | 0);
  queries.byKey.delete(keyOf(query.protocol, query.natPort));
  core.queries--;
  core.answer(query.token, outcome, entry);
  const joined = query.joined;
  for (let i = 0; i < joined.length; i++) core.answer(joined[i]!, outcome, entry);
  joined.length = 0;
  queries.spare.push(query);
}

/** §6.4 checks of an entry a receiver sent: NAT address ours, a known protocol, ICMP without server port. */
export function acceptableEntry(entry: HandoffEntry, natAddress: number): boolean {
  if (entry.natAddress !== natAddress) return false;
  if (entry.protocol === Protocol.TCP || entry.protocol === Protocol.UDP) return true;
  return entry.protocol === Protocol.ICMP && entry.serverPort === 0;
}
