// CREATED and DELETED (handoff-v1 section 6.4): in sequence order within the advertised window,
// duplicates acknowledged again, messages beyond a gap held until it fills. Each message's valid
// entries are queued whole on the commit pipeline, which stores them, logs them, then ACKs.
import { MessageType, inspectDatagram, readEntry, type DatagramView } from '@nat64/handoff-codec';
import { checkEntry, ownEntry, type ConnOperation } from '@nat64/conntrack';
import { MAX_PENDING_OPERATIONS, WINDOW, type ReceiverCore } from './core.js';
import { authenticatedPeer } from './hello.js';
import type { GatewayPeer, Via } from './peers.js';
import { classifySequence } from './sequence.js';

export function onReliable(core: ReceiverCore, buf: Buffer, address: string, port: number, key: Uint8Array | undefined, via: Via): void {
  if (core.pipeline.backlog >= MAX_PENDING_OPERATIONS) {
    core.count('backlogFull');
    return;
  }
  const peer = authenticatedPeer(core, address, port, key, true, via);
  if (!peer) return;
  const sequence = core.view.sequence;
  switch (classifySequence(peer.pendingCumulative, sequence, WINDOW)) {
    case 'duplicate':
      core.count('duplicates');
      core.pipeline.acknowledge(peer);
      core.schedule();
      return;
    case 'beyond-window':
      core.count('beyondWindow');
      return;
    case 'ahead':
      if (!peer.held.has(sequence)) {
        peer.held.set(sequence, buf);
        core.count('heldAhead');
      }
      return;
    case 'next':
      applyMessage(core, peer, core.view, buf);
      for (let next = peer.held.get((peer.pendingCumulative + 1) >>> 0); next; next = peer.held.get((peer.pendingCumulative + 1) >>> 0)) {
        peer.held.delete((peer.pendingCumulative + 1) >>> 0);
        inspectDatagram(next, 0, next.length, core.heldView);
        applyMessage(core, peer, core.heldView, next);
      }
  }
}

/** Queues the entries of the next reliable message of `peer` for a commit. */
function applyMessage(core: ReceiverCore, peer: GatewayPeer, view: DatagramView, buf: Buffer): void {
  const create = view.type === MessageType.CREATED;
  const entry = core.entry;
  const operations: ConnOperation[] = [];
  for (let i = 0; i < view.count; i++) {
    const valid = readEntry(buf, view.entriesOffset + i * 40, entry);
    const conn = ownEntry(entry, entry.time);
    if (!valid || entry.natAddress !== peer.natAddress || checkEntry(conn) !== undefined) {
      core.count('entriesRejected');
      continue;
    }
    operations.push(create ? { op: 'create', entry: conn } : { op: 'delete', entry: conn, reason: 'gateway' });
  }
  peer.pendingCumulative = view.sequence;
  core.pipeline.enqueue({ peer, sequence: view.sequence, operations, receivedAt: core.deps.clock() });
  core.count('reliableApplied');
  core.schedule();
}
