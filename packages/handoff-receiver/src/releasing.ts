// RELEASE (handoff-v1 section 6.6): entries this receiver ends (idle, evicted) are told to the
// newest epoch of their gateway, sent within its window and retransmitted until the gateway ACKs
// them (release.ts holds the per-gateway queue); ACKs from gateways acknowledge them.
import { readAckBlock, type AckBlock } from '@nat64/handoff-codec';
import type { ConnEntry } from '@nat64/conntrack';
import { uint32ToIpv4Text } from '@nat64/wire';
import type { ReceiverCore } from './core.js';
import type { Via } from './peers.js';

/** Tells the entry's gateway that this receiver ended it. */
export function release(core: ReceiverCore, entry: ConnEntry): void {
  const peer = core.peers.newestOf(uint32ToIpv4Text(entry.natAddress));
  if (!peer) {
    core.count('releasesAbandoned');
    return;
  }
  const dropped = peer.releases.enqueue({ ...entry, reason: 0, time: entry.createdAt });
  if (dropped > 0) core.count('releasesAbandoned', dropped);
  core.releasing.add(peer);
}

/** Sends due RELEASE retransmissions and new RELEASEs the windows allow. */
export function serviceReleases(core: ReceiverCore): void {
  const nowMs = core.deps.clock() / 1000;
  for (const peer of core.releasing) {
    if (peer.releases.pending === 0) {
      core.releasing.delete(peer);
      continue;
    }
    const outcome = peer.releases.service(nowMs, { epoch: peer.epoch, cookie: peer.cookie, key: peer.key }, (bytes) =>
      core.deps.send(bytes, peer.port, peer.address, peer.via, peer.cookie),
    );
    core.count('releasesSent', outcome.sent);
    core.count('releaseRetransmissions', outcome.retransmitted);
    core.count('releasesAbandoned', outcome.abandoned);
  }
}

/** An ACK of RELEASEs from a gateway epoch this receiver knows. */
export function onAck(core: ReceiverCore, buf: Buffer, address: string, port: number, via: Via): void {
  const view = core.view;
  if (!core.deps.cookies.verify(address, view.epoch(), view.cookie())) {
    core.count('badCookie');
    return;
  }
  const peer = core.peers.get(address, view.epoch());
  if (!peer) {
    if (core.epochs.isDead(address, view.epoch())) core.count('supersededEpoch');
    return;
  }
  peer.port = port;
  peer.via = via;
  const blocks: AckBlock[] = [];
  for (let i = 0; i < view.count; i++) {
    const block = { start: 0, end: 0 };
    readAckBlock(buf, view.blocksOffset + i * 8, block);
    blocks.push(block);
  }
  core.count('releasesAcknowledged', peer.releases.acknowledge(view.cumulative, blocks));
}
