// Handoff entries for receiver tests (this package's, the receiver daemon's, the interop suite's),
// from the documentation ranges: NAT address 192.0.2.7, server 198.51.100.10, clients in 2001:db8::/32.
import { Protocol, type HandoffEntry } from '@nat64/handoff-codec';
import { client } from '../../../conntrack/test/helpers/entries.js';

export { client };

/** 192.0.2.7, the gateway of the seed example. */
export const NAT = 0xc0000207;
/** 198.51.100.10 */
export const SERVER = 0xc633640a;

export interface EntryFields extends Partial<HandoffEntry> {
  /** The client 2001:db8::<who> (below 25,536), whose port is 40000 + who unless `clientPort` is given. */
  who?: number;
}

/** A TCP entry from client 2001:db8::1 port 40001 through NAT port 1 of NAT to SERVER:443, made now; `fields` change any of it. */
export function entry({ who = 1, ...fields }: EntryFields = {}): HandoffEntry {
  return {
    protocol: Protocol.TCP,
    reason: 0,
    natAddress: NAT,
    natPort: 1,
    clientAddress: client(who),
    clientPort: 40_000 + who,
    serverAddress: SERVER,
    serverPort: 443,
    time: Date.now() * 1000,
    ...fields,
  };
}
