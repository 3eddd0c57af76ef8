// The HELLO exchange and the peer states it drives (§6.2): HELLO with Cookie 0 on first contact and
// on a backoff schedule while a host stays silent, the second HELLO with the learned cookie, keepalive
// probes toward peers that answer, the repeat after RETRIES_BEFORE_HELLO, and, when a receiver has
// evidently lost its state, a new epoch toward it (§6.3 last paragraph, Appendix B).
import { randomBytes } from 'node:crypto';
import { MessageType, ReceiverFlag, Reliability, type Hello } from '@nat64/handoff-codec';
import { PeerState, QueryOutcome } from './constants.js';
import { reusedHeader, type AgentCore } from './core.js';
import { discardStream, dropLoose, pump, resume, rewriteSessions } from './outbound.js';
import type { Peer } from './peer.js';
import { endQueries } from './queries.js';

/** Reused for every HELLO: the agent runs on one thread and encodes it at once. */
const hello: Hello = {
  type: MessageType.HELLO,
  ...reusedHeader(),
  natAddress: 0,
  capabilities: 0,
};

/** Sends a HELLO with a fresh request identifier, if the global HELLO rate allows. */
function sendHello(core: AgentCore, peer: Peer, now: number, withCookie: boolean): boolean {
  if (!core.helloBucket.take(now)) {
    core.count('helloRateLimited');
    return false;
  }
  const id = core.ids.next();
  peer.rememberHello(id, withCookie);
  hello.epoch = peer.epoch;
  hello.cookie = withCookie ? peer.cookie : 0n;
  hello.sequence = id;
  hello.natAddress = peer.natAddress;
  hello.capabilities = core.options.capabilities;
  core.count('helloSent');
  // The body already makes HELLO as large as HELLO-ACK: no padding (§5.4, §6.8).
  core.sendMessage(peer, hello);
  return true;
}

/** The HELLO timer fired. */
export function helloDue(core: AgentCore, peer: Peer, now: number): void {
  const { options } = core;
  if (!peer.up) {
    // Not answering (yet): Cookie 0, doubling delays up to the interval of the state.
    if (!sendHello(core, peer, now, false)) {
      peer.helloAt = now + options.helloRetryMs;
      return;
    }
    if (peer.state === PeerState.UNKNOWN) peer.state = PeerState.SILENT;
    peer.helloAt = now + peer.helloDelay;
    const cap = peer.state === PeerState.PORT_CLOSED ? options.helloMaxIntervalMs : options.helloIntervalMs;
    peer.helloDelay = Math.min(peer.helloDelay * 2, cap);
    return;
  }
  if (!peer.probing) {
    startProbe(core, peer, now, false);
    return;
  }
  if (peer.helloAttempts >= options.helloAttemptsBeforeLost) {
    lose(core, peer);
    // Straight back to Cookie-0 HELLOs (§6.2), on the silent schedule from where the probe left off.
    helloDue(core, peer, now);
    return;
  }
  probe(core, peer, now);
}

/**
 * Asks an answering peer whether it still answers: a keepalive HELLO with the cookie, or with
 * `withoutCookie` the repeated exchange of §6.2. Unanswered, it is lost after helloAttemptsBeforeLost.
 */
export function startProbe(core: AgentCore, peer: Peer, now: number, withoutCookie: boolean): void {
  peer.probing = true;
  peer.probeWithoutCookie = withoutCookie;
  peer.helloAttempts = 0;
  peer.helloDelay = core.options.helloRetryMs;
  probe(core, peer, now);
  core.reschedule(peer);
}

function probe(core: AgentCore, peer: Peer, now: number): void {
  if (sendHello(core, peer, now, !peer.probeWithoutCookie)) peer.helloAttempts++;
  peer.helloAt = now + peer.helloDelay;
  peer.helloDelay = Math.min(peer.helloDelay * 2, core.options.helloIntervalMs);
}

/** An answering peer stopped answering: silent (or port-closed), its stream paused but kept (§6.2). */
function lose(core: AgentCore, peer: Peer): void {
  const was = peer.state;
  peer.state = peer.unreachableSeen ? PeerState.PORT_CLOSED : PeerState.SILENT;
  peer.probing = false;
  peer.stream.rtxAt = Infinity;
  core.count('peersLost');
  if (was === PeerState.AUTHORITATIVE) endQueries(core, peer, QueryOutcome.NOT_AUTHORITATIVE);
  core.peerDown(peer, peer.state);
}

/** A HELLO-ACK passed the checks of §6.1 up to the epoch; the request identifier decides (§6.2). */
export function helloAckReceived(core: AgentCore, peer: Peer, now: number): void {
  const view = core.view;
  const slot = peer.findHello(view.sequence);
  // Cookie 0 is never a valid cookie (§5.1).
  if (slot < 0 || (view.cookieHigh === 0 && view.cookieLow === 0)) {
    core.count('stale');
    return;
  }
  const { options } = core;
  const answeredCookieZero = !peer.helloHadCookie(slot);
  // Replies to older HELLOs would teach an older cookie back.
  peer.forgetHellos();
  core.count('helloAcksAccepted');
  const changed = peer.cookieKnown && (peer.cookieHigh !== view.cookieHigh || peer.cookieLow !== view.cookieLow);
  const learned = !peer.cookieKnown || changed;
  if (changed) core.count('cookieChanged');
  if (learned) peer.setCookie(view.cookieHigh, view.cookieLow);
  peer.stream.window = Math.min(Math.max(view.window, 1), options.maxWindow);
  // Transports the receiver can use (§5.4): read by the gateway from onPeerUp on, to pick one.
  peer.capabilities = view.capabilities;
  const authoritative = options.mode === 'full' && (view.receiverFlags & ReceiverFlag.AUTHORITATIVE) !== 0;
  const was = peer.state;
  const state = authoritative ? PeerState.AUTHORITATIVE : PeerState.ACKNOWLEDGING;
  peer.state = state;
  peer.probing = false;
  peer.unreachableSeen = false;
  peer.helloAttempts = 0;
  peer.helloDelay = options.helloRetryMs;
  peer.helloAt = now + options.keepaliveMs;

  // Step 2 of the exchange: HELLO with the cookie starts the epoch at the receiver. A changed cookie
  // restarts the exchange there too: the Cookie-0 HELLO of step 1 would only ask what this
  // HELLO-ACK, matched by its random request identifier, already says.
  if (learned || answeredCookieZero) sendHello(core, peer, now, true);

  const stream = peer.stream;
  if (!peer.streaming) {
    peer.streaming = true;
    core.peers.pin(peer);
    dropLoose(core, peer);
  } else if (changed) {
    rewriteSessions(peer);
  }
  // Appendix B: the exchange succeeded while the oldest message had gone unacknowledged through
  // RETRIES_BEFORE_HELLO retransmissions; as many more without progress mean a new epoch.
  const oldest = stream.inFlight > 0 ? stream.oldest : undefined;
  if (oldest !== undefined && oldest.retransmissions >= Reliability.RETRIES_BEFORE_HELLO && stream.armedSequence !== stream.base) {
    stream.armedSequence = stream.base;
    stream.armedRetransmissions = oldest.retransmissions;
  }
  const wasUp = was >= PeerState.ACKNOWLEDGING;
  if (!wasUp || changed) resume(core, peer, now);
  else pump(core, peer, now);
  core.reschedule(peer);

  if (!wasUp || (was === PeerState.ACKNOWLEDGING && state === PeerState.AUTHORITATIVE)) {
    core.count('peersUp');
    core.peerUp(peer, state);
  } else if (was === PeerState.AUTHORITATIVE && state === PeerState.ACKNOWLEDGING) {
    endQueries(core, peer, QueryOutcome.NOT_AUTHORITATIVE);
    core.peerDown(peer, state);
  }
}

/** The gateway saw ICMP port unreachable for a datagram to the peer's receiver port. */
export function portUnreachable(core: AgentCore, peer: Peer, now: number): void {
  core.count('portUnreachable');
  if (peer.up) {
    // Perhaps an old datagram; ask, and call it port-closed only if the probe fails.
    peer.unreachableSeen = true;
    if (!peer.probing) startProbe(core, peer, now, false);
    return;
  }
  if (peer.state === PeerState.PORT_CLOSED) return;
  peer.state = PeerState.PORT_CLOSED;
  peer.openWhenClosed = peer.open;
  peer.helloDelay = Math.max(peer.helloDelay, core.options.helloIntervalMs);
  peer.helloAt = now + peer.helloDelay;
  core.reschedule(peer);
}

/**
 * Appendix B: the receiver acknowledged a HELLO exchange but nothing since, so it has lost the
 * epoch's state and drops our numbers as beyond its window. Start over toward it under a fresh epoch:
 * abandon the messages (counted), forget the cookie, HELLO again; onPeerUp then has the gateway
 * re-announce every mapping.
 */
export function restartEpoch(core: AgentCore, peer: Peer, now: number): void {
  const was = peer.state;
  core.count('epochsRestarted');
  discardStream(core, peer);
  peer.setEpoch(randomBytes(8).readBigUInt64BE(0));
  peer.forgetCookie();
  peer.forgetHellos();
  peer.streaming = false;
  peer.releases.reset();
  peer.rto.reset();
  peer.state = PeerState.SILENT;
  peer.probing = false;
  peer.helloDelay = core.options.helloRetryMs;
  if (was === PeerState.AUTHORITATIVE) endQueries(core, peer, QueryOutcome.NOT_AUTHORITATIVE);
  if (was >= PeerState.ACKNOWLEDGING) core.peerDown(peer, peer.state);
  helloDue(core, peer, now);
  core.reschedule(peer);
}
