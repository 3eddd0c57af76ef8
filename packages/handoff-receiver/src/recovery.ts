// The receiver's state from the store: gateway epochs restored at start, and what happens when a
// commit fails. Nothing of a failed commit is acknowledged and everything queued behind it is
// dropped, so gateways retransmit from their last acknowledged message; after a failed background
// commit the table and every gateway's progress are reloaded from what the store durably holds.
import { StoreError } from '@nat64/conntrack';
import { ipv4TextToUint32 } from '@nat64/wire';
import type { ReceiverCore } from './core.js';
import { EPOCH_SIDE_PREFIX } from './epochs.js';
import { GatewayPeer, PEER_SIDE_PREFIX, parseStoredPeers, removalRecord, type StoredPeer } from './peers.js';

/** Brings back the gateway epochs stored with the table (peers.ts), dropping dead or superseded ones. */
export function restorePeers(core: ReceiverCore, storedPeers: StoredPeer[]): void {
  const { deps } = core;
  // Older epochs of an address come first so that the newest one wins.
  for (const peer of [...storedPeers].sort((a, b) => a.initializedAt - b.initializedAt)) {
    const ipv4 = ipv4TextToUint32(peer.address);
    if (ipv4 < 0) continue;
    const restored = new GatewayPeer(
      peer.address,
      ipv4,
      peer.epoch,
      deps.cookies.cookieFor(peer.address, peer.epoch),
      deps.options.keyFor(peer.address),
      peer.cumulative,
      peer.initializedAt,
      false,
    );
    restored.releases.next = peer.releaseNext;
    if (core.epochs.isDead(peer.address, peer.epoch)) {
      core.pipeline.removeRecord(removalRecord(restored));
      continue;
    }
    // A database of a version before the epoch records: the stored peers tell the order.
    if (core.epochs.currentOf(peer.address) !== peer.epoch) {
      for (const record of core.epochs.start(peer.address, peer.epoch)) core.pipeline.storeRecord(record);
    }
    const superseded = core.peers.add(restored);
    if (superseded) core.pipeline.removeRecord(removalRecord(superseded));
  }
}

/**
 * A commit failed. When the table undid the batch itself (a synchronous store), only the
 * gateways' progress goes back; when a background commit failed, memory is ahead of the disk, so
 * the table is reloaded (startRecovery).
 */
export function storeFailed(core: ReceiverCore, error: unknown, initialized: readonly GatewayPeer[]): void {
  core.count('storeFailures');
  core.deps.logger.error(
    { err: error, code: error instanceof StoreError ? error.code : undefined },
    'store commit failed; nothing acknowledged, gateways will retransmit',
  );
  core.pipeline.reset();
  if (core.deps.table.failure) {
    startRecovery(core);
    return;
  }
  for (const peer of initialized) core.peers.remove(peer);
  for (const peer of core.peers.values()) peer.pendingCumulative = peer.cumulative;
}

/** Reloads the table and the gateway epochs from the store, unless a reload is under way. */
export function startRecovery(core: ReceiverCore): void {
  core.recovering ??= recover(core).finally(() => {
    core.recovering = undefined;
  });
}

async function recover(core: ReceiverCore): Promise<void> {
  const { deps, pipeline } = core;
  await pipeline.settle();
  pipeline.reset();
  try {
    await deps.table.recover();
    core.peers.clear();
    core.releasing.clear();
    core.epochs.load(deps.table.listSide(EPOCH_SIDE_PREFIX));
    restorePeers(core, parseStoredPeers(deps.table.listSide(PEER_SIDE_PREFIX)));
    deps.logger.warn({ entries: deps.table.size }, 'reloaded the table from the store after a failed commit');
  } catch (recoveryError) {
    deps.logger.error({ err: recoveryError }, 'cannot reload the table from the store; retrying at the next tick');
  }
}
