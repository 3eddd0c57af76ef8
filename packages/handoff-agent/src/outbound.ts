// Mapping changes on their way out: entries go straight into the open CREATED or DELETED datagram
// of their peer, which leaves when full or when flush() finds it older than the flush delay.
// Toward a peer with a reliable stream the datagram gets the next sequence number and leaves as the
// window allows (§6.3); toward any other peer it leaves once, without cookie or sequence number,
// if the rate limits allow.
import { Reliability, type BatchType, type HandoffEntry } from '@nat64/handoff-codec';
import { PeerState } from './constants.js';
import type { AgentCore } from './core.js';
import type { Message } from './message.js';
import type { Peer } from './peer.js';

/** Queues one mapping change toward `peer`, with the gateway's `ref` for it. */
export function appendEntry(core: AgentCore, peer: Peer, type: BatchType, entry: HandoffEntry, reason: number, ref: number, now: number): void {
  if (peer.streaming) appendReliable(core, peer, type, entry, reason, ref, now);
  else if (peer.state === PeerState.PORT_CLOSED) core.count('portClosedSuppressed');
  else appendLoose(core, peer, type, entry, reason, ref, now);
}

function appendReliable(core: AgentCore, peer: Peer, type: BatchType, entry: HandoffEntry, reason: number, ref: number, now: number): void {
  const { options } = core;
  const stream = peer.stream;
  if (stream.queuedEntries >= options.maxQueuedEntries || core.queuedEntries >= options.maxQueuedEntriesTotal) {
    core.count('queueOverflow');
    return;
  }
  let message = peer.open;
  // Effects follow sequence order (§6.3), so a change of type closes the datagram.
  if (message !== null && message.type !== type) {
    close(core, peer, message);
    message = null;
    pump(core, peer, now);
  }
  const begun = message === null;
  if (message === null) {
    // Datagrams of one entry each (alternating types) must not get around the entry cap.
    if (stream.queuedMessages * options.entriesPerDatagram >= options.maxQueuedEntries + options.entriesPerDatagram) {
      core.count('queueOverflow');
      return;
    }
    message = core.pool.take();
    message.begin(type, stream.next, true, peer, false);
    stream.push(message);
  }
  if (!tryAppend(core, message, entry, reason, ref)) {
    if (begun) core.pool.give(stream.unpush()!);
    return;
  }
  stream.queuedEntries++;
  core.queuedEntries++;
  if (begun) open(core, peer, message, now);
  if (message.full) {
    close(core, peer, message);
    pump(core, peer, now);
  }
}

/** Fire and forget toward a peer that has not answered: one datagram at a time, cookie 0, sequence 0. */
function appendLoose(core: AgentCore, peer: Peer, type: BatchType, entry: HandoffEntry, reason: number, ref: number, now: number): void {
  let message = peer.open;
  if (message !== null && message.type !== type) {
    close(core, peer, message);
    sendLoose(core, peer, message, now);
    message = null;
  }
  const begun = message === null;
  if (message === null) {
    // A datagram the rate limits will not let out is not worth a buffer; nor are more open at once
    // than the global burst could send (a scan toward many hosts would otherwise hold a buffer each).
    if (core.looseOpen >= core.options.unreliableTotal.burst || !peer.bucket.has(now) || !core.unreliableBucket.has(now)) {
      core.count('unreliableRateLimited');
      return;
    }
    message = core.pool.take();
    message.begin(type, 0, false, peer, true);
  }
  if (!tryAppend(core, message, entry, reason, ref)) {
    if (begun) core.pool.give(message);
    return;
  }
  if (begun) open(core, peer, message, now);
  if (message.full) {
    close(core, peer, message);
    sendLoose(core, peer, message, now);
  }
}

function tryAppend(core: AgentCore, message: Message, entry: HandoffEntry, reason: number, ref: number): boolean {
  try {
    // Never false: a datagram is closed as soon as it is full.
    return message.append(entry, reason, ref);
  } catch {
    core.count('entriesInvalid');
    return false;
  }
}

function open(core: AgentCore, peer: Peer, message: Message, now: number): void {
  if (!message.reliable) core.looseOpen++;
  peer.open = message;
  peer.openedAt = now;
  peer.openBlocked = false;
  core.opened.push(peer.openNode);
}

function close(core: AgentCore, peer: Peer, message: Message): void {
  if (!message.reliable) core.looseOpen--;
  message.finish();
  peer.open = null;
  peer.openBlocked = false;
  core.opened.remove(peer.openNode);
}

function sendLoose(core: AgentCore, peer: Peer, message: Message, now: number): void {
  // The unreachable answered an earlier datagram (the HELLO); what was opened before it came still
  // leaves once, so a capture on the host shows the entries of its first contact.
  const openedBefore = message === peer.openWhenClosed;
  peer.openWhenClosed = null;
  if (peer.state === PeerState.PORT_CLOSED && !openedBefore) {
    core.count('portClosedSuppressed', message.count);
  } else if (peer.bucket.has(now) && core.unreliableBucket.take(now)) {
    peer.bucket.take(now);
    core.count('unreliableSent');
    core.send(peer, message.bytes);
  } else {
    core.count('unreliableRateLimited');
  }
  core.pool.give(message);
}

/**
 * Sends the open datagrams whose first entry has waited the flush delay, or (`all`) every open one of a
 * reliable stream. Those a full window holds back stay open, taking entries, and leave when the window
 * opens (pump). A fire-and-forget datagram always waits the delay: toward a peer met for the first
 * time, a HELLO-ACK within it supersedes the datagram (the gateway re-announces on the stream).
 */
export function flush(core: AgentCore, now: number, all = false): void {
  const delay = core.options.flushDelayMs;
  let node = core.opened.head;
  // Sending cannot open datagrams, but a bound keeps this loop finite whatever happens.
  for (let budget = core.opened.size; node !== null && budget > 0; budget--) {
    const peer = node.value;
    const due = now - peer.openedAt >= delay;
    if (!due && !all) break;
    node = node.next;
    const message = peer.open!;
    if (!message.reliable) {
      if (!due) continue;
      close(core, peer, message);
      sendLoose(core, peer, message, now);
      continue;
    }
    core.opened.remove(peer.openNode);
    peer.openBlocked = true;
    pump(core, peer, now);
  }
}

/** Sends queued messages while the window has room (§6.3); a blocked open datagram is closed first. */
export function pump(core: AgentCore, peer: Peer, now: number): void {
  if (!peer.up) return;
  const stream = peer.stream;
  const before = stream.rtxAt;
  while (stream.canSend) {
    const message = stream.at(stream.sendNext)!;
    if (message.open) {
      if (!peer.openBlocked && now - peer.openedAt < core.options.flushDelayMs) break;
      close(core, peer, message);
    }
    message.firstSentAt = now;
    message.sentAt = now;
    message.rto = peer.rto.rto;
    message.deadline = now + message.rto;
    stream.sendNext = (stream.sendNext + 1) >>> 0;
    stream.queuedEntries -= message.count;
    core.queuedEntries -= message.count;
    if (message.deadline < stream.rtxAt) stream.rtxAt = message.deadline;
    // Bumped directly: count() by name, where V8 does not inline it, is a megamorphic keyed load per datagram.
    core.values[core.index.reliableSent]!++;
    core.values[core.index.entriesSent]! += message.count;
    core.send(peer, message.bytes);
  }
  if (stream.rtxAt !== before) core.reschedule(peer);
}

/**
 * Retransmits every sent, unacknowledged message whose timeout expired, doubling its timeout
 * (§6.3, RFC 6298 §5.5), and notes when the oldest one calls for a HELLO (§6.2) or a new epoch.
 */
export function retransmit(core: AgentCore, peer: Peer, now: number): void {
  const stream = peer.stream;
  if (!peer.up) {
    // Lost: nothing is retransmitted until a HELLO-ACK brings the peer back (resume).
    stream.rtxAt = Infinity;
    return;
  }
  const maxRto = core.options.maxRtoMs;
  let next = Infinity;
  let oldestExpired = false;
  let first = true;
  for (let sequence = stream.base; sequence !== stream.sendNext; sequence = (sequence + 1) >>> 0) {
    const message = stream.at(sequence)!;
    if (message.acked) continue;
    if (message.deadline <= now) {
      message.retransmissions++;
      message.rto = Math.min(message.rto * 2, maxRto);
      message.sentAt = now;
      message.deadline = now + message.rto;
      if (first) oldestExpired = true;
      core.count('retransmissions');
      core.send(peer, message.bytes);
    }
    first = false;
    if (message.deadline < next) next = message.deadline;
  }
  stream.rtxAt = next;
  // RFC 6298 5.5 backs off once per expiry of the retransmission timer, which runs for the oldest
  // outstanding message; the later messages of a window expire one after another (each has its own
  // deadline) and would otherwise double the RTO to its maximum within one outage.
  if (oldestExpired) peer.rto.backoff();
  const oldest = stream.inFlight > 0 ? stream.oldest : undefined;
  if (oldest === undefined) return;
  if (stream.armedSequence === stream.base) {
    if (oldest.retransmissions - stream.armedRetransmissions >= Reliability.RETRIES_BEFORE_HELLO) peer.newEpochDue = true;
  } else if (oldest.retransmissions >= Reliability.RETRIES_BEFORE_HELLO && !peer.probing) {
    peer.repeatHelloDue = true;
  }
}

/**
 * The peer answers again, or under a new cookie: every sent, unacknowledged message goes again at
 * once on a fresh timeout (those sent while it was lost or with the old cookie were dropped), then
 * the queue moves on.
 */
export function resume(core: AgentCore, peer: Peer, now: number): void {
  const stream = peer.stream;
  let next = Infinity;
  for (let sequence = stream.base; sequence !== stream.sendNext; sequence = (sequence + 1) >>> 0) {
    const message = stream.at(sequence)!;
    if (message.acked) continue;
    message.retransmissions++;
    message.rto = peer.rto.rto;
    message.sentAt = now;
    message.deadline = now + message.rto;
    if (message.deadline < next) next = message.deadline;
    core.count('retransmissions');
    core.send(peer, message.bytes);
  }
  stream.rtxAt = next;
  core.reschedule(peer);
  pump(core, peer, now);
}

/** Writes the peer's current epoch and cookie into every message it holds (the cookie changed, §6.2). */
export function rewriteSessions(peer: Peer): void {
  const stream = peer.stream;
  for (let sequence = stream.base; sequence !== stream.next; sequence = (sequence + 1) >>> 0) {
    stream.at(sequence)!.rewriteSession(peer);
  }
}

/**
 * Lets go of the open datagram without sending it; returns how many entries it held. A reliable one
 * stays in the stream for the caller to deal with; a fire-and-forget one goes back to the pool.
 */
export function abandonOpen(core: AgentCore, peer: Peer): number {
  const message = peer.open;
  if (message === null) return 0;
  peer.open = null;
  peer.openBlocked = false;
  core.opened.remove(peer.openNode);
  const count = message.count;
  if (!message.reliable) {
    core.looseOpen--;
    core.pool.give(message);
  }
  return count;
}

/** Drops the open fire-and-forget datagram of a peer that just came up: the gateway re-announces. */
export function dropLoose(core: AgentCore, peer: Peer): void {
  if (peer.open !== null && !peer.open.reliable) core.count('entriesSuperseded', abandonOpen(core, peer));
}

/** Gives back every message of the peer (a new epoch), counting the entries never acknowledged. */
export function discardStream(core: AgentCore, peer: Peer): void {
  dropLoose(core, peer);
  abandonOpen(core, peer);
  const stream = peer.stream;
  core.queuedEntries -= stream.queuedEntries;
  let abandoned = 0;
  for (let message = stream.shiftAny(); message !== undefined; message = stream.shiftAny()) {
    if (!message.acked) abandoned += message.count;
    core.pool.give(message);
  }
  core.count('entriesAbandoned', abandoned);
  stream.restart();
}
