// Per-server identifiers of a NAT64 bypass gateway (bypass §5), pure functions of a secret and
// the server's IPv4 address. The published text requires a cryptographic hash; the construction
// is our reading: HMAC-SHA-256 (RFC 2104) keyed with the secret over a label and the address,
// so the VNI and the MAC never share a hash input even if one secret served both.
import { createHmac } from 'node:crypto';
import { checkUint } from './bytes.js';
import { Ethernet } from './constants.js';

/** Labels that separate the two derivations (bypass §5). */
export const DeriveLabel = {
  VNI: 'NAT64 bypass VNI',
  MAC: 'NAT64 bypass MAC',
} as const;

/** RFC 2104 §3: keys shorter than the hash output weaken HMAC; we refuse under 16 bytes. */
export const MIN_SECRET_LENGTH = 16;

function digest(secret: Uint8Array, label: string, serverIpv4: number): Buffer {
  if (!(secret instanceof Uint8Array) || secret.length < MIN_SECRET_LENGTH) {
    throw new RangeError(`a bypass secret needs at least ${MIN_SECRET_LENGTH} bytes`);
  }
  checkUint(serverIpv4, 0xffff_ffff, 'serverIpv4');
  const address = Buffer.alloc(4);
  address.writeUInt32BE(serverIpv4);
  return createHmac('sha256', secret).update(label, 'ascii').update(address).digest();
}

/**
 * The tunnel's VNI: the leftmost 24 bits of HMAC-SHA-256(persistent secret, "NAT64 bypass VNI" ||
 * server IPv4). Stable across restarts as long as the secret is (bypass §5.1).
 */
export function deriveVni(persistentSecret: Uint8Array, serverIpv4: number): number {
  const hash = digest(persistentSecret, DeriveLabel.VNI, serverIpv4);
  return (hash[0]! << 16) | (hash[1]! << 8) | hash[2]!;
}

/**
 * The gateway's MAC toward one server: the leftmost 48 bits of HMAC-SHA-256(transient secret,
 * "NAT64 bypass MAC" || server IPv4), then U/L set and I/G cleared: a locally administered
 * unicast address with 46 bits of the hash (bypass §5.2).
 */
export function deriveGatewayMac(transientSecret: Uint8Array, serverIpv4: number): Uint8Array {
  const hash = digest(transientSecret, DeriveLabel.MAC, serverIpv4);
  const mac = new Uint8Array(hash.subarray(0, Ethernet.ADDRESS_LENGTH));
  mac[0] = (mac[0]! & ~Ethernet.GROUP_BIT) | Ethernet.LOCAL_BIT;
  return mac;
}
