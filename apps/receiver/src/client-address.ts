// An IPv6 client address as an admin types it, for `lookup --client` and `dump --client`: a module
// of its own because ipaddr.js costs a plain lookup more to load than its query does.
import ipaddr from 'ipaddr.js';
import { QueryError } from './queries.js';

/** An IPv6 client address ("2001:db8::17") into its 16 bytes. */
export function parseClientAddress(text: string): Uint8Array {
  if (!ipaddr.IPv6.isValid(text) || text.includes('%')) throw new QueryError(`"${text}" is not an IPv6 address such as 2001:db8::17`);
  return new Uint8Array(ipaddr.IPv6.parse(text).toByteArray());
}
