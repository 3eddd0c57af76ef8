// Entries and addresses for tests, from the documentation ranges: NAT addresses in 192.0.2.0/24,
// hosts in 198.51.100.0/24, clients in 2001:db8::/32.
import type { HandoffEntry } from '@nat64/handoff-codec';

/** 192.0.2.1 */
export const NAT = 0xc0000201;
/** 192.0.2.2 */
export const NAT2 = 0xc0000202;
/** 198.51.100.10 */
export const HOST = 0xc633640a;
/** 198.51.100.11 */
export const HOST2 = 0xc633640b;
/** The epoch of Appendix A. */
export const EPOCH = 0x0123456789abcdefn;
/** The cookie of Appendix A. */
export const COOKIE = 0x8899aabbccddeeffn;
/** 2019-03-18T10:06:28Z in µs, the time of Appendix A. */
export const TIME = 1_552_903_588_000_000;

/** The i-th TCP mapping of 2001:db8::(i+1) toward HOST:443 through NAT, port 40000 + i. */
export function tcpEntry(i: number, natAddress = NAT, serverAddress = HOST): HandoffEntry {
  const clientAddress = new Uint8Array(16);
  clientAddress.set([0x20, 0x01, 0x0d, 0xb8]);
  clientAddress[14] = ((i + 1) >> 8) & 0xff;
  clientAddress[15] = (i + 1) & 0xff;
  return {
    protocol: 6,
    reason: 0,
    natAddress,
    natPort: (40000 + i) & 0xffff,
    clientAddress,
    clientPort: (50000 + i) & 0xffff,
    serverAddress,
    serverPort: 443,
    time: TIME + i,
  };
}

/** The NAT ports of a list of entries, to compare what went out with what went in. */
export function ports(entries: readonly HandoffEntry[]): number[] {
  return entries.map((entry) => entry.natPort);
}
