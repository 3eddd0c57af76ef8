// CREATED and DELETED (handoff-v1 section 6.4): in sequence order within the advertised window,
// duplicates acknowledged again, messages beyond a gap held until it fills. Each message is queued
// whole on the commit pipeline, which reads its valid entries from the datagram when its commit
// starts, stores them, logs them, then ACKs.
import { MessageType, Size, inspectDatagram, readEntry, type DatagramView } from '@nat64/handoff-codec';
import { CREATED_KIND, deleteKind, type EventRecords } from '@nat64/conntrack';
import type { MessageEntries } from './commit-pipeline.js';
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
  const entries = new DatagramEntries(core, buf, view.entriesOffset, view.count, view.type === MessageType.CREATED, peer.natAddress);
  peer.pendingCumulative = view.sequence;
  core.pipeline.enqueue({ peer, sequence: view.sequence, entries, receivedAt: core.deps.clock() });
  core.count('reliableApplied');
  core.schedule();
}

const GATEWAY_DELETE = deleteKind('gateway');

/** A message's entries, read from its datagram when its commit starts; invalid ones are counted and left out. */
class DatagramEntries implements MessageEntries {
  constructor(
    private readonly core: ReceiverCore,
    private readonly buf: Buffer,
    private readonly offset: number,
    readonly size: number,
    private readonly create: boolean,
    private readonly natAddress: number,
  ) {}

  read(into: EventRecords): void {
    const entry = this.core.entry;
    const kind = this.create ? CREATED_KIND : GATEWAY_DELETE;
    for (let i = 0; i < this.size; i++) {
      const valid = readEntry(this.buf, this.offset + i * Size.ENTRY, entry);
      // appendEntry checks the entry's fields (checkEntry) and appends nothing when one is invalid.
      if (!valid || entry.natAddress !== this.natAddress || into.appendEntry(entry, entry.time, kind) !== undefined) this.core.count('entriesRejected');
    }
  }
}
