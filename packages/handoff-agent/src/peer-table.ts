// The peers by (NAT address, host), with a cap. Lookups are two Map.get calls on int32 keys, which
// V8 keeps as small integers: no number is boxed and nothing is allocated on the per-packet path
// (a single key A * 2^32 + H would be a heap number per lookup). Peers that never answered sit in
// a least-recently-used list and make room for new ones; peers that answered are never evicted,
// because their epoch's sequence numbers live on at the receiver. The last peer found is kept: the
// entries of a batch and the ACKs that answer them nearly all concern one peer.
import { LinkedList } from './linked-list.js';
import type { Peer } from './peer.js';

export class PeerTable {
  private readonly byNat = new Map<number, Map<number, Peer>>();
  /** Evictable peers, least recently used first. */
  readonly idle = new LinkedList<Peer>();
  size = 0;
  /** The peer get() found last, until it is removed. */
  private last: Peer | undefined = undefined;

  constructor(readonly limit: number) {}

  get(natAddress: number, host: number): Peer | undefined {
    const last = this.last;
    if (last !== undefined && last.natAddress === natAddress && last.host === host) return last;
    const hosts = this.byNat.get(natAddress | 0);
    const peer = hosts === undefined ? undefined : hosts.get(host | 0);
    if (peer !== undefined) this.last = peer;
    return peer;
  }

  /** Adds a peer (which must not be there); it starts evictable. */
  add(peer: Peer): void {
    let hosts = this.byNat.get(peer.natAddress | 0);
    if (hosts === undefined) {
      hosts = new Map();
      this.byNat.set(peer.natAddress | 0, hosts);
    }
    hosts.set(peer.host | 0, peer);
    this.idle.push(peer.idleNode);
    this.size++;
  }

  remove(peer: Peer): void {
    const hosts = this.byNat.get(peer.natAddress | 0);
    if (hosts === undefined || hosts.get(peer.host | 0) !== peer) return;
    hosts.delete(peer.host | 0);
    if (hosts.size === 0) this.byNat.delete(peer.natAddress | 0);
    if (peer === this.last) this.last = undefined;
    this.idle.remove(peer.idleNode);
    this.size--;
  }

  /** Marks an evictable peer as just used. */
  touch(peer: Peer): void {
    if (peer.idleNode.linked) this.idle.push(peer.idleNode);
  }

  /** The peer answered: it is never evicted from now on. */
  pin(peer: Peer): void {
    this.idle.remove(peer.idleNode);
  }

  /** The least recently used evictable peer. */
  get evictable(): Peer | undefined {
    return this.idle.head?.value;
  }

  *values(): IterableIterator<Peer> {
    for (const hosts of this.byNat.values()) yield* hosts.values();
  }
}
