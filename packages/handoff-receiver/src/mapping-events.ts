// Geneve mapping events (geneve-options sections 3.3 and 5): which gateway epoch a Geneve packet
// belongs to, and the Created/Refresh/Deleted options that change the table without ACKs.
// Deleted incarnations leave tombstones (memory only) so that a late Created cannot revive them.
import { MappingEvent } from '@nat64/geneve';
import { checkEntry, connKey, type ConnEntry, type ConnOperation } from '@nat64/conntrack';
import { setNewest } from './bounded-map.js';
import type { ReceiverCore } from './core.js';
import type { GatewayPeer } from './peers.js';

/** Tombstones kept for Geneve mapping events, at most (memory only). */
const MAX_TOMBSTONES = 1_000_000;

/** The VNI of a gateway epoch's Geneve packets: the low 24 bits of the receiver's cookie. */
export function geneveVni(cookie: bigint): number {
  return Number(cookie & 0xffffffn);
}

/**
 * The gateway epoch a Geneve data packet from `address` belongs to: the newest epoch of that
 * address that completed the HELLO exchange, provided the packet's VNI is that epoch's (the low 24
 * bits of its cookie, geneve-options section 5), which ties data packets to the exchange.
 */
export function geneveSender(core: ReceiverCore, address: string, vni: number): GatewayPeer | undefined {
  const peer = core.peers.newestOf(address.startsWith('::ffff:') ? address.slice(7) : address);
  return peer && !peer.initializing && geneveVni(peer.cookie) === vni ? peer : undefined;
}

/**
 * A mapping event carried by a Geneve option (geneve-options section 3.3): Created or Refresh of
 * an incarnation newer than what the table and its tombstones hold creates or replaces the entry,
 * one it already holds is refreshed, an older one is stale; Deleted removes the incarnation it
 * names and leaves a tombstone. Changes are committed like reliable messages, without ACKs.
 */
export function mappingEvent(core: ReceiverCore, peer: GatewayPeer, event: number, entry: ConnEntry): void {
  if (entry.natAddress !== peer.natAddress || checkEntry(entry) !== undefined) {
    core.count('entriesRejected');
    return;
  }
  const key = connKey(entry.protocol, entry.natAddress, entry.natPort);
  const held = core.deps.table.get(key);
  const time = entry.createdAt;
  if ((held && held.createdAt > time) || (core.tombstones.get(key) ?? -1) >= time) {
    core.count('staleMappingEvents');
    return;
  }
  if (event === MappingEvent.DELETED) {
    // It ends this incarnation, and an older one still held was replaced by it at the gateway.
    // Deletions name the incarnation by its client, which may still be queued for a commit.
    setNewest(core.tombstones, key, time, MAX_TOMBSTONES);
    const operations: ConnOperation[] = [{ op: 'delete', entry, reason: 'gateway' }];
    if (held && !sameClient(held, entry)) operations.push({ op: 'delete', entry: held, reason: 'gateway' });
    core.pipeline.enqueueOperations(operations);
  } else if (held && held.createdAt === time && sameClient(held, entry)) {
    core.deps.table.touch(key);
    return;
  } else {
    if (core.pipeline.pendingCreate(key, time)) return;
    core.pipeline.enqueueOperations([{ op: 'create', entry }]);
  }
  core.count('mappingEvents');
  core.schedule();
}

function sameClient(a: ConnEntry, b: ConnEntry): boolean {
  if (a.clientPort !== b.clientPort) return false;
  for (let i = 0; i < 16; i++) if (a.clientAddress[i] !== b.clientAddress[i]) return false;
  return true;
}
