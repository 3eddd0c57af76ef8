// An IPv6 client address as an admin types it, for `lookup --client` and `dump --client`: a module
// of its own because ipaddr.js costs a plain lookup more to load than its query does.
import ipaddr from 'ipaddr.js';

/** An IPv6 client address ("2001:db8::17") as its 16 bytes; undefined when it is not one (a zone index included). */
export function clientAddressBytes(text: string): Uint8Array | undefined {
  if (!ipaddr.IPv6.isValid(text) || text.includes('%')) return undefined;
  return new Uint8Array(ipaddr.IPv6.parse(text).toByteArray());
}
