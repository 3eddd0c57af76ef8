// Cache misses (§6.5): QUERY toward an authoritative peer, retransmitted with the same request
// identifier on the peer's RTO, doubling, up to a limit; one outstanding QUERY per key, however many
// packets missed on it; exactly one onAnswer per accepted query token. CLIENT-QUERY (§5.12), the
// question by client side when the client speaks first, is timed, bounded and answered the same way:
// one outstanding per client side.
import { AnswerStatus, MessageType, Protocol, readEntry, type ClientQuery, type HandoffEntry, type Query } from '@nat64/handoff-codec';
import { PeerState, QueryOutcome, QueryVerdict } from './constants.js';
import { reusedHeader, type AgentCore } from './core.js';
import type { Peer } from './peer.js';

class PendingQuery {
  id = 0;
  /** A CLIENT-QUERY: clientAddress and clientPort ask, natPort is unused. */
  byClient = false;
  protocol = 0;
  natPort = 0;
  readonly clientAddress = new Uint8Array(16);
  clientPort = 0;
  /** byClient: the key in PeerQueries.byClient. */
  clientKey = 0;
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
  /** CLIENT-QUERYs by a hash of their client side (clientKeyOf). */
  readonly byClient = new Map<number, PendingQuery>();
  readonly spare: PendingQuery[] = [];
}

/** Reused for every QUERY. */
const message: Query = {
  type: MessageType.QUERY,
  ...reusedHeader(),
  protocol: 0,
  natPort: 0,
  natAddress: 0,
  serverAddress: 0,
  serverPort: 0,
};

/** Reused for every CLIENT-QUERY. */
const clientMessage: ClientQuery = {
  type: MessageType.CLIENT_QUERY,
  ...reusedHeader(),
  protocol: 0,
  natAddress: 0,
  clientAddress: new Uint8Array(16),
  clientPort: 0,
  serverAddress: 0,
  serverPort: 0,
};

function keyOf(protocol: number, natPort: number): number {
  return protocol * 0x1_0000 + natPort;
}

/** A 48-bit hash of a client side; a collision only makes a second query wait its turn (PEER_LIMIT). */
function clientKeyOf(protocol: number, clientAddress: Uint8Array, clientPort: number): number {
  let h = Math.imul(protocol ^ 0x9e37_79b9, 0x85eb_ca6b) ^ clientPort;
  let g = clientPort * 0x101 + protocol;
  for (let i = 0; i < 16; i++) {
    h = Math.imul(h ^ clientAddress[i]!, 0x0100_0193);
    g = Math.imul(g ^ clientAddress[i]!, 0x5bd1_e995) ^ (g >>> 15);
  }
  return ((h ^ (h >>> 16)) >>> 0) * 0x1_0000 + ((g ^ (g >>> 16)) & 0xffff);
}

function sameClient(query: PendingQuery, clientAddress: Uint8Array, clientPort: number): boolean {
  if (query.clientPort !== clientPort) return false;
  for (let i = 0; i < 16; i++) if (query.clientAddress[i] !== clientAddress[i]) return false;
  return true;
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
  if (!readyToAsk(core, peer)) return QueryVerdict.NOT_AUTHORITATIVE;
  const queries = peer.queries;
  const key = keyOf(protocol, natPort);
  const pending = queries.byKey.get(key);
  if (pending !== undefined) {
    return join(core, pending, token);
  }
  const query = takeQuery(core, queries, false, protocol, natPort, serverAddress, serverPort);
  if (typeof query === 'number') return query;
  queries.byKey.set(key, query);
  core.count('queriesSent');
  return launchQuery(core, peer, queries, query, token, now);
}

/** What a CLIENT-QUERY asks (§5.12): a client side, and the server it spoke to. */
export interface ClientQuestion {
  readonly protocol: number;
  /** 16 bytes, copied. */
  readonly clientAddress: Uint8Array;
  readonly clientPort: number;
  readonly serverAddress: number;
  readonly serverPort: number;
}

/** clientQuery() of the agent; throws RangeError only for fields outside their range. */
export function issueClientQuery(core: AgentCore, peer: Peer | undefined, question: ClientQuestion, token: number, now: number): QueryVerdict {
  const { protocol, clientAddress, clientPort, serverAddress, serverPort } = question;
  if (!(isU(protocol, 0xff) && clientAddress.length === 16 && isU(clientPort, 0xffff) && isU(serverAddress, 0xffff_ffff) && isU(serverPort, 0xffff))) {
    throw new RangeError('clientQuery: protocol, clientAddress, clientPort, serverAddress or serverPort outside its field');
  }
  if (!readyToAsk(core, peer)) return QueryVerdict.NOT_AUTHORITATIVE;
  const queries = peer.queries;
  const key = clientKeyOf(protocol, clientAddress, clientPort);
  const pending = queries.byClient.get(key);
  if (pending !== undefined) {
    if (pending.protocol !== protocol || !sameClient(pending, clientAddress, clientPort)) {
      core.count('queriesLimited');
      return QueryVerdict.PEER_LIMIT;
    }
    return join(core, pending, token);
  }
  const query = takeQuery(core, queries, true, protocol, 0, serverAddress, serverPort);
  if (typeof query === 'number') return query;
  query.clientAddress.set(clientAddress);
  query.clientPort = clientPort;
  query.clientKey = key;
  queries.byClient.set(key, query);
  core.count('clientQueriesSent');
  return launchQuery(core, peer, queries, query, token, now);
}

/** Whether `peer` is authoritative, so that it may be asked (counted when not); makes its query tables on first use. */
function readyToAsk(core: AgentCore, peer: Peer | undefined): peer is Peer & { queries: PeerQueries } {
  if (peer === undefined || peer.state !== PeerState.AUTHORITATIVE) {
    core.count('queriesNotAuthoritative');
    return false;
  }
  peer.queries ??= new PeerQueries();
  return true;
}

/** `token` waits for the answer of a query already out for the same key. */
function join(core: AgentCore, pending: PendingQuery, token: number): QueryVerdict {
  pending.joined.push(token);
  core.count('queriesJoined');
  return QueryVerdict.JOINED;
}

/** A pending query with a fresh id and the fields both kinds carry, or the verdict that refuses one (the peer's or the agent's limit). */
function takeQuery(
  core: AgentCore,
  queries: PeerQueries,
  byClient: boolean,
  protocol: number,
  natPort: number,
  serverAddress: number,
  serverPort: number,
): PendingQuery | QueryVerdict {
  if (queries.byId.size >= core.options.maxQueriesPerPeer) {
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
  query.byClient = byClient;
  query.protocol = protocol;
  query.natPort = natPort;
  query.serverAddress = serverAddress;
  query.serverPort = serverPort;
  return query;
}

/** Sends a filled-in query, registers it by id and arms its retransmission. */
function launchQuery(core: AgentCore, peer: Peer, queries: PeerQueries, query: PendingQuery, token: number, now: number): QueryVerdict {
  query.token = token;
  query.retransmissions = 0;
  query.rto = peer.rto.rto;
  query.deadline = now + query.rto;
  queries.byId.set(query.id | 0, query);
  core.queries++;
  sendQuery(core, peer, query);
  if (query.deadline < peer.queryAt) {
    peer.queryAt = query.deadline;
    core.reschedule(peer);
  }
  return QueryVerdict.SENT;
}

function sendQuery(core: AgentCore, peer: Peer, query: PendingQuery): void {
  const m = query.byClient ? clientMessage : message;
  m.epoch = peer.epoch;
  m.cookie = peer.cookie;
  m.sequence = query.id;
  m.protocol = query.protocol;
  m.natAddress = peer.natAddress;
  m.serverAddress = query.serverAddress;
  m.serverPort = query.serverPort;
  if (query.byClient) {
    clientMessage.clientAddress = query.clientAddress;
    clientMessage.clientPort = query.clientPort;
  } else {
    message.natPort = query.natPort;
  }
  // The codec pads QUERY and CLIENT-QUERY to the size of an ANSWER (§5.8, §5.12, §6.8); the tag comes on top.
  core.sendMessage(peer, m);
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
      // §6.5: an entry other than the key (or client side) asked about answers nothing.
      const matches = query.byClient ? sameClient(query, entry.clientAddress, entry.clientPort) : entry.natPort === query.natPort;
      if (entry.protocol !== query.protocol || !matches) {
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
  if (query.byClient) queries.byClient.delete(query.clientKey);
  else queries.byKey.delete(keyOf(query.protocol, query.natPort));
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
