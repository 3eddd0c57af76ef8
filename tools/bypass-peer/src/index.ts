// @nat64/bypass-peer: the gateway end of a NAT64 bypass tunnel, as much as tests need (bin
// bypass-peer, src/main.ts). The pieces are exported for tests that drive them in-process.
export { BypassPeer, type BypassPeerConfig, type PeerEvent } from './peer.js';
