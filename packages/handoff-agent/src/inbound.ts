// Datagrams from receivers: validated in the order of §6.1 (the codec's inspectDatagram for checks 1
// to 7, then the tag, then epoch and cookie against the peer, §6.2), each drop counted by name, then
// dispatched: HELLO-ACK to hello.ts, ACK to the reliable stream, RELEASE applied in sequence order
// and acknowledged, ANSWER to queries.ts. Nothing here throws for anything a datagram says.
import {
  DECODE_STATUS_COUNTER,
  DecodeStatus,
  MAX_ACK_BLOCKS,
  MessageType,
  Size,
  inspectDatagram,
  readAckBlock,
  readEntry,
  verifyDatagram,
  type Ack,
  type AckBlock,
  type DatagramView,
} from '@nat64/handoff-codec';
import { PeerState } from './constants.js';
import { reusedHeader, type AgentCore } from './core.js';
import type { AgentCounterName } from './counters.js';
import { helloAckReceived, startProbe } from './hello.js';
import { pump } from './outbound.js';
import type { Peer } from './peer.js';
import { acceptableEntry, answerReceived } from './queries.js';
import { ReleaseVerdict } from './release-window.js';

const STATUS_COUNTER: Readonly<Record<number, AgentCounterName>> = DECODE_STATUS_COUNTER;

/** Reused for every ACK block read and every ACK sent. */
const block: AckBlock = { start: 0, end: 0 };
const blockSlots: AckBlock[] = Array.from({ length: MAX_ACK_BLOCKS }, () => ({ start: 0, end: 0 }));
const ackBlocks: AckBlock[] = [];
const ack: Ack = {
  type: MessageType.ACK,
  ...reusedHeader(),
  cumulative: 0,
  blocks: ackBlocks,
};

/**
 * receive() of the agent. `authenticated`: the transport already authenticated the datagram (a Geneve
 * control packet whose authentication option verified, geneve-options section 5), so no tag of its own
 * is required.
 */
export function receive(core: AgentCore, natAddress: number, host: number, hostPort: number, payload: Uint8Array, authenticated = false): void {
  core.values[core.index.datagramsReceived]!++;
  if (hostPort !== core.options.receiverPort) {
    core.count('wrongPort');
    return;
  }
  const view = core.view;
  const status = inspectDatagram(payload, 0, payload.length, view);
  if (status !== DecodeStatus.OK) {
    core.count(STATUS_COUNTER[status]!);
    return;
  }
  const peer = core.peers.get(natAddress, host);
  if (peer === undefined) {
    core.count('unknownPeer');
    return;
  }
  const key = core.options.key;
  const tagOk =
    key === undefined
      ? !view.tagged
      : authenticated
        ? !view.tagged || verifyDatagram(payload, 0, payload.length, key)
        : view.tagged && verifyDatagram(payload, 0, payload.length, key);
  if (!tagOk) {
    core.count('authenticationFailed');
    return;
  }
  if (view.epochHigh !== peer.epochHigh || view.epochLow !== peer.epochLow) {
    core.count('stale');
    return;
  }
  const now = core.options.clock();
  const type = view.type;
  if (type === MessageType.HELLO_ACK) {
    peer.lastHeardAt = now;
    helloAckReceived(core, peer, now);
    return;
  }
  if (type !== MessageType.ACK && type !== MessageType.RELEASE && type !== MessageType.ANSWER) {
    core.count('unexpectedType');
    return;
  }
  if (!peer.cookieKnown || view.cookieHigh !== peer.cookieHigh || view.cookieLow !== peer.cookieLow) {
    core.count('stale');
    return;
  }
  peer.lastHeardAt = now;
  if (!peer.up) {
    // A lost peer talks again: ask it at once rather than at the next scheduled HELLO.
    peer.helloAt = now;
    core.reschedule(peer);
  }
  if (type === MessageType.ACK) ackReceived(core, peer, payload, now);
  else if (type === MessageType.RELEASE) releaseReceived(core, peer, payload);
  else if (!answerReceived(core, peer, payload) && peer.up && !peer.probing) startProbe(core, peer, now, false);
}

/** An ACK of our CREATED/DELETED (§5.7, §6.3). */
function ackReceived(core: AgentCore, peer: Peer, buf: Uint8Array, now: number): void {
  const view = core.view;
  const stream = peer.stream;
  const { values, index } = core;
  values[index.acksReceived]!++;
  stream.sampleSentAt = -1;
  if (!stream.acknowledgeCumulative(view.cumulative)) core.count('ackIgnored');
  let previousEnd = view.cumulative;
  for (let i = 0; i < view.count; i++) {
    readAckBlock(buf, view.blocksOffset + i * Size.ACK_BLOCK, block);
    if (stream.acknowledgeBlock(block.start, block.end, view.cumulative, previousEnd)) previousEnd = block.end;
    else core.count('ackIgnored');
  }
  // Karn's rule: only messages never retransmitted give samples (RFC 6298 §3).
  if (stream.sampleSentAt >= 0) peer.rto.sample(now - stream.sampleSentAt);
  // Hand-offs are reported in sequence order, as the receiver applies them: a CREATED acknowledged
  // above a gap is stored there but not yet in effect.
  const authoritative = peer.state === PeerState.AUTHORITATIVE;
  for (let message = stream.shiftAcknowledged(); message !== undefined; message = stream.shiftAcknowledged()) {
    values[index.ackedMessages]!++;
    if (authoritative && message.type === MessageType.CREATED) {
      peer.handedOff += message.count;
      values[index.entriesHandedOff]! += message.count;
      core.handedOff(peer, core.acked.of(message));
      core.acked.clear();
    }
    core.pool.give(message);
  }
  // The timer was set for the oldest message; once that is acknowledged it would fire for nothing.
  const rtxAt = stream.earliestDeadline();
  if (rtxAt !== stream.rtxAt) {
    stream.rtxAt = rtxAt;
    core.reschedule(peer);
  }
  pump(core, peer, now);
}

/** A RELEASE (§6.3 receiver rules, §6.4): applied once, in order, and always acknowledged unless beyond the window. */
function releaseReceived(core: AgentCore, peer: Peer, buf: Uint8Array): void {
  const view = core.view;
  const releases = peer.releases;
  switch (releases.classify(view.sequence)) {
    case ReleaseVerdict.BEYOND_WINDOW:
      core.count('releaseBeyondWindow');
      return;
    case ReleaseVerdict.DUPLICATE:
      core.count('releasesReceived');
      core.count('releaseDuplicates');
      break;
    case ReleaseVerdict.AHEAD:
      core.count('releasesReceived');
      core.count('releasesHeld');
      releases.hold(view.sequence, buf);
      break;
    default: {
      core.count('releasesReceived');
      applyRelease(core, peer, buf, view);
      releases.advance();
      for (let held = releases.takeNext(); held !== undefined; held = releases.takeNext()) {
        inspectDatagram(held, 0, held.length, core.heldView);
        applyRelease(core, peer, held, core.heldView);
        releases.advance();
      }
    }
  }
  sendAck(core, peer);
}

function applyRelease(core: AgentCore, peer: Peer, buf: Uint8Array, view: DatagramView): void {
  const report = core.releaseReport;
  report.clear();
  for (let i = 0; i < view.count; i++) {
    const entry = report.slot();
    if (readEntry(buf, view.entriesOffset + i * Size.ENTRY, entry) && acceptableEntry(entry, peer.natAddress)) report.add();
    else core.count('entriesRejected');
  }
  core.count('releasesApplied');
  if (report.length === 0) return;
  core.count('entriesReleased', report.length);
  core.released(peer, report.list());
}

/** ACK of the RELEASEs applied and held: Cumulative N, blocks for what is held above it (§5.7). */
function sendAck(core: AgentCore, peer: Peer): void {
  const releases = peer.releases;
  const count = releases.fillBlocks(blockSlots);
  ackBlocks.length = 0;
  for (let i = 0; i < count; i++) ackBlocks.push(blockSlots[i]!);
  ack.epoch = peer.epoch;
  ack.cookie = peer.cookie;
  ack.cumulative = releases.cumulative;
  core.count('acksSent');
  core.sendMessage(peer, ack);
}
