// The gateway epochs this receiver knows: one GatewayPeer per (gateway address, epoch), with how
// far its reliable messages are applied. That progress is stored with the entries it covers (a
// side record per peer, committed in the same transaction), so a restart neither loses an epoch
// nor applies, logs or acknowledges anything twice.
import { HANDOFF_PORT } from '@nat64/handoff-codec';
import type { SideRecord } from '@nat64/conntrack';
import { ReleaseQueue } from './release.js';

/** How a message reached the receiver: handoff v1 on UDP 62863, or inside a Geneve control packet on 6081. */
export type Via = 'handoff' | 'geneve';

const SIDE_PREFIX = 'gateway/';
const SIDE_BYTES = 16;

export class GatewayPeer {
  /** Port the gateway sends from; replies go there. */
  port = HANDOFF_PORT;
  /** The transport the gateway last spoke on; replies use it. */
  via: Via = 'handoff';
  /** Applied and stored: every reliable sequence up to this one. */
  cumulative: number;
  /** Every reliable sequence up to this one is applied or queued for a commit. */
  pendingCumulative: number;
  /** Reliable messages beyond a gap, by sequence, waiting for the gap to fill. */
  readonly held = new Map<number, Buffer>();
  /** The "Initialized" line and side record are part of the batch being built. */
  initializing: boolean;
  readonly releases = new ReleaseQueue();

  constructor(
    /** Source address as the socket reports it. */
    readonly address: string,
    /** The NAT address A as a number (the source address for IPv4 gateways). */
    readonly natAddress: number,
    readonly epoch: bigint,
    readonly cookie: bigint,
    public key: Uint8Array | undefined,
    cumulative: number,
    /** Receiver time of the "Initialized" line, µs. */
    public initializedAt: number,
    initializing: boolean,
  ) {
    this.cumulative = cumulative;
    this.pendingCumulative = cumulative;
    this.initializing = initializing;
  }

  get sideName(): string {
    return sideName(this.address, this.epoch);
  }

  /** This epoch's stored state once its messages up to `cumulative` are applied. */
  sideRecord(cumulative: number): SideRecord {
    const bytes = new Uint8Array(SIDE_BYTES);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, cumulative);
    view.setUint32(4, this.releases.next);
    view.setFloat64(8, this.initializedAt);
    return [this.sideName, bytes];
  }
}

function sideName(address: string, epoch: bigint): string {
  return `${SIDE_PREFIX}${address}/${epoch.toString(16).padStart(16, '0')}`;
}

export interface StoredPeer {
  address: string;
  epoch: bigint;
  cumulative: number;
  releaseNext: number;
  initializedAt: number;
}

/** Reads back the peers a previous run stored; records that do not parse are skipped. */
export function parseStoredPeers(records: Array<[string, Uint8Array]>): StoredPeer[] {
  const peers: StoredPeer[] = [];
  for (const [name, value] of records) {
    const match = /^gateway\/(.+)\/([0-9a-f]{16})$/.exec(name);
    if (!match || value.length !== SIDE_BYTES) continue;
    const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
    peers.push({
      address: match[1]!,
      epoch: BigInt(`0x${match[2]!}`),
      cumulative: view.getUint32(0),
      releaseNext: view.getUint32(4),
      initializedAt: view.getFloat64(8),
    });
  }
  return peers;
}

export const PEER_SIDE_PREFIX = SIDE_PREFIX;

/** The peers by (address, epoch), and the newest epoch of each address (where RELEASE goes). */
export class PeerRegistry {
  private readonly byEpoch = new Map<string, GatewayPeer>();
  private readonly newest = new Map<string, GatewayPeer>();

  constructor(readonly limit: number) {}

  get size(): number {
    return this.byEpoch.size;
  }

  get(address: string, epoch: bigint): GatewayPeer | undefined {
    return this.byEpoch.get(`${address}/${epoch}`);
  }

  newestOf(address: string): GatewayPeer | undefined {
    return this.newest.get(address);
  }

  /** Adds a peer; returns the peer of an older epoch of the same address that it supersedes. */
  add(peer: GatewayPeer): GatewayPeer | undefined {
    this.byEpoch.set(`${peer.address}/${peer.epoch}`, peer);
    const previous = this.newest.get(peer.address);
    this.newest.set(peer.address, peer);
    if (previous && previous !== peer) {
      this.byEpoch.delete(`${previous.address}/${previous.epoch}`);
      return previous;
    }
    return undefined;
  }

  clear(): void {
    this.byEpoch.clear();
    this.newest.clear();
  }

  remove(peer: GatewayPeer): void {
    this.byEpoch.delete(`${peer.address}/${peer.epoch}`);
    if (this.newest.get(peer.address) === peer) this.newest.delete(peer.address);
  }

  values(): IterableIterator<GatewayPeer> {
    return this.byEpoch.values();
  }
}

/** The side record that removes a superseded peer. */
export function removalRecord(peer: GatewayPeer): SideRecord {
  return [peer.sideName, null];
}
