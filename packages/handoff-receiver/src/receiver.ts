// The receiver engine: validates every datagram on the handoff port, keeps the authoritative
// table, writes the connection log and answers gateways. No I/O of its own: the composition root
// feeds it datagrams and gives it a send function, so tests drive it directly.
//
// Reliable messages are not applied one by one: handleDatagram() queues them whole on the commit
// pipeline (commit-pipeline.ts), which commits them in batches, then writes their log lines, then
// sends the ACKs. A gateway is therefore only ever told "stored" about entries that are on disk,
// and the log never shows an entry the store lacks.
//
// Receiver is the public face over ReceiverCore (core.ts); each message has its handler file:
// hello.ts, reliable.ts (CREATED, DELETED), queries.ts (QUERY, CLIENT-QUERY), releasing.ts
// (RELEASE and its ACKs), mapping-events.ts (Geneve), recovery.ts (restart and store failures).
import { DECODE_STATUS_COUNTER, DecodeStatus, MessageType, inspectDatagram, verifyDatagram } from '@nat64/handoff-codec';
import type { ConnEntry } from '@nat64/conntrack';
import { ReceiverCore, type ReceiverDependencies } from './core.js';
import type { ReceiverCounterName } from './counters.js';
import { EPOCH_SIDE_PREFIX } from './epochs.js';
import { onHello } from './hello.js';
import { geneveSender, mappingEvent } from './mapping-events.js';
import type { GatewayPeer, StoredPeer, Via } from './peers.js';
import { onQuery } from './queries.js';
import { restorePeers, startRecovery, storeFailed } from './recovery.js';
import { onAck, release, serviceReleases } from './releasing.js';
import { onReliable } from './reliable.js';

export { WINDOW, type ReceiverDependencies, type ReceiverOptions } from './core.js';
export { geneveVni } from './mapping-events.js';

const STATUS_COUNTER: Readonly<Record<number, ReceiverCounterName>> = DECODE_STATUS_COUNTER;

export class Receiver {
  private readonly core: ReceiverCore;

  constructor(deps: ReceiverDependencies, storedPeers: StoredPeer[]) {
    const core: ReceiverCore = new ReceiverCore(deps, {
      release: (entry) => release(core, entry),
      committed: () => serviceReleases(core),
      failed: (error, _peers, initialized) => storeFailed(core, error, initialized),
    });
    this.core = core;
    core.epochs.load(deps.table.listSide(EPOCH_SIDE_PREFIX));
    restorePeers(core, storedPeers);
  }

  get peerCount(): number {
    return this.core.peers.size;
  }

  /** Entries waiting for a commit, and commits in flight (metrics). */
  get commitQueue(): { entries: number; commits: number } {
    return { entries: this.core.pipeline.backlog, commits: this.core.pipeline.inFlight };
  }

  /**
   * One handoff v1 datagram, from UDP 62863 or from the payload of a Geneve control packet. The
   * receiver keeps `buf` (a reliable message until its commit starts, one ahead of a gap until it
   * is applied): pass a buffer that is not reused.
   */
  handleDatagram(buf: Buffer, sourceAddress: string, port: number, via: Via = 'handoff'): void {
    const core = this.core;
    const values = core.counterValues;
    const index = core.index;
    values[index.datagramsReceived]!++;
    if (core.recovering) {
      values[index.storeUnavailable]!++;
      return;
    }
    const view = core.view;
    const status = inspectDatagram(buf, 0, buf.length, view);
    if (status !== DecodeStatus.OK) {
      values[index[STATUS_COUNTER[status]!]]!++;
      return;
    }
    const address = sourceAddress.startsWith('::ffff:') ? sourceAddress.slice(7) : sourceAddress;
    const { options } = core.deps;
    if (!options.allows(address)) {
      values[index.notAllowed]!++;
      return;
    }
    // Inside Geneve, the tunnel's authentication option (required when a key is configured, and
    // checked before we get here) covers the datagram: no second tag, in either direction.
    const key = via === 'geneve' ? undefined : options.keyFor(address);
    if (via === 'handoff' && (key ? !view.tagged || !verifyDatagram(buf, 0, buf.length, key) : view.tagged)) {
      values[index.authenticationFailed]!++;
      return;
    }
    switch (view.type) {
      case MessageType.HELLO:
        return onHello(core, address, port, key, via);
      case MessageType.CREATED:
      case MessageType.DELETED:
        return onReliable(core, buf, address, port, key, via);
      case MessageType.QUERY:
      case MessageType.CLIENT_QUERY:
        return onQuery(core, buf, address, port, key, via);
      case MessageType.ACK:
        return onAck(core, buf, address, port, via);
      default:
        values[index.unexpectedType]!++;
    }
  }

  /** The gateway epoch a Geneve data packet from `address` with `vni` belongs to (mapping-events.ts). */
  geneveSender(address: string, vni: number): GatewayPeer | undefined {
    return geneveSender(this.core, address, vni);
  }

  /** A mapping event carried by a Geneve option (mapping-events.ts). */
  mappingEvent(peer: GatewayPeer, event: number, entry: ConnEntry): void {
    mappingEvent(this.core, peer, event, entry);
  }

  /** Starts the commits that are due; resolves when every commit started so far has finished. */
  flush(): Promise<void> {
    const core = this.core;
    core.flushScheduled = false;
    if (core.recovering) return core.recovering;
    core.pipeline.pump();
    return core.pipeline.settle();
  }

  /**
   * Periodic work: retries a failed store, ends idle entries (at most `limit` per call, as a
   * commit of its own when nothing else is in flight), then sends and retransmits RELEASEs.
   * Called about once a second.
   */
  tick(limit = 10_000): void {
    const core = this.core;
    if (core.recovering) return;
    if (core.deps.table.failure) {
      startRecovery(core);
      return;
    }
    core.pipeline.expireIdle(limit);
    serviceReleases(core);
  }

  /** At a stop, before the sockets close: sends the ACKs held back (ack-delay.ts), and every later one at once. */
  stopDelayingAcks(): void {
    this.core.pipeline.acks.stop();
  }

  /** At a clean stop, after settle(): stores that the log is complete, when it is (CommitPipeline.markLogged). */
  markLogged(): Promise<void> {
    return this.core.pipeline.markLogged();
  }

  /**
   * Waits until no commit is in flight, those that start meanwhile included (a commit held back
   * while another was in flight starts when it is durable), and any reload after a failure.
   */
  async settle(): Promise<void> {
    const { pipeline } = this.core;
    do {
      await pipeline.settle();
      while (this.core.recovering) await this.core.recovering;
    } while (pipeline.busy);
  }
}
