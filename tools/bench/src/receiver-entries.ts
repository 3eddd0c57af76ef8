// The connection entries the receiver benchmarks store: TCP to 198.51.100.10:443 from clients in
// 2001:db8::/64, through NAT addresses counting up from 203.0.113.0 (documentation ranges only).
import type { ConnEntry } from '@nat64/conntrack';
import { writeU32 } from '@nat64/wire';

/** The first NAT address, 203.0.113.0. */
export const NAT_BASE = 0xcb007100;
/** The server every entry's connection goes to, 198.51.100.10. */
export const SERVER_ADDRESS = 0xc633640a;

/** 2001:db8::`high`:`low`, the two halves of the interface identifier as 32-bit numbers. */
export function documentationClient(low: number, high = 0): Uint8Array {
  const address = new Uint8Array(16);
  address.set([0x20, 0x01, 0x0d, 0xb8]);
  writeU32(address, 8, high);
  writeU32(address, 12, low);
  return address;
}

/** A TCP entry whose NAT address (NAT_BASE plus its high 16 bits) and port (its low 16 bits) are `key`. */
export function keyedEntry(key: number, clientAddress: Uint8Array, clientPort: number, createdAt: number): ConnEntry {
  return {
    protocol: 6,
    natAddress: NAT_BASE + (key >>> 16),
    natPort: key & 0xffff,
    clientAddress,
    clientPort,
    serverAddress: SERVER_ADDRESS,
    serverPort: 443,
    createdAt,
  };
}
