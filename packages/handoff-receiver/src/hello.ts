// HELLO (handoff-v1 section 6.2): a HELLO-ACK with this receiver's cookie for the gateway epoch,
// within the per-address HELLO rate, and the start of the epoch once a message carries that cookie
// (a second HELLO, or the first reliable message or QUERY). A new epoch of a known address
// supersedes the old one; superseded epochs stay dead (epochs.ts).
import { ipv4TextToUint32 } from '@nat64/wire';
import { WINDOW, type ReceiverCore } from './core.js';
import { GatewayPeer, removalRecord, type Via } from './peers.js';
import { helloAck } from './replies.js';

export function onHello(core: ReceiverCore, address: string, port: number, key: Uint8Array | undefined, via: Via): void {
  const view = core.view;
  if (ipv4TextToUint32(address) !== view.natAddress) {
    core.count('natAddressMismatch');
    return;
  }
  const epoch = view.epoch();
  if (core.epochs.isDead(address, epoch)) {
    core.count('supersededEpoch');
    return;
  }
  const cookie = core.deps.cookies.cookieFor(address, epoch);
  if (!core.limits.hello(address, view.cookie() === cookie)) {
    core.count('helloRateLimited');
    return;
  }
  const reply = helloAck({ epoch, cookie, key }, view.sequence, core.deps.options.authoritative, WINDOW, core.deps.options.capabilities());
  core.deps.send(reply, port, address, via, cookie);
  core.count('helloAcksSent');
  // A HELLO that already carries our cookie starts the epoch (handoff-v1 section 6.2).
  if (view.cookieHigh !== 0 || view.cookieLow !== 0) authenticatedPeer(core, address, port, key, true, via);
}

/**
 * The peer of the datagram in `core.view` when its cookie is ours, creating it (a new epoch)
 * when `mayStart`; undefined, counted, otherwise. The gateway is awake: ACKs held for it may leave.
 */
export function authenticatedPeer(
  core: ReceiverCore,
  address: string,
  port: number,
  key: Uint8Array | undefined,
  mayStart: boolean,
  via: Via,
): GatewayPeer | undefined {
  const view = core.view;
  const epoch = view.epoch();
  if (!core.deps.cookies.verify(address, epoch, view.cookie())) {
    core.count('badCookie');
    return undefined;
  }
  let peer = core.peers.get(address, epoch);
  if (!peer) {
    if (core.epochs.isDead(address, epoch)) {
      core.count('supersededEpoch');
      return undefined;
    }
    if (!mayStart) return undefined;
    const natAddress = ipv4TextToUint32(address);
    if (natAddress < 0) {
      // Gateways send from their NAT IPv4 address (handoff-v1 section 4).
      core.count('natAddressMismatch');
      return undefined;
    }
    // A new epoch of a known address takes the place of the old one.
    if (core.peers.size >= core.peers.limit && !core.peers.newestOf(address)) {
      core.count('peersFull');
      return undefined;
    }
    peer = new GatewayPeer(address, natAddress, epoch, view.cookie(), key, 0, 0, true);
    for (const record of core.epochs.start(address, epoch)) core.pipeline.storeRecord(record);
    const superseded = core.peers.add(peer);
    if (superseded) core.pipeline.removeRecord(removalRecord(superseded));
    core.pipeline.initialize(peer);
    core.schedule();
  }
  peer.port = port;
  peer.via = via;
  peer.key = key;
  core.pipeline.acks.gatewayAwake(epoch);
  return peer;
}
