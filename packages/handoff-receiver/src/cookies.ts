// Receiver cookies: the proof that a gateway receives what we send to its address. A cookie is
// the first 8 bytes of HMAC-SHA-256(secret, A || E), A the gateway address in network byte order
// (4 bytes, or 16 for IPv6) and E the 8-byte epoch, as handoff-v1 section 6.2 recommends: no
// state per gateway, the same after a restart (the secret is stored), and unknowable to an
// off-path attacker, who therefore cannot forge log lines by spoofing a gateway's address.
import { createHmac, randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { setNewest } from './bounded-map.js';

export const COOKIE_SECRET_BYTES = 32;

export function newCookieSecret(): Uint8Array {
  return randomBytes(COOKIE_SECRET_BYTES);
}

export class CookieJar {
  /** Cookies of gateways that proved themselves, so the hot path compares instead of hashing. */
  private readonly known = new Map<string, bigint>();

  constructor(
    private readonly secret: Uint8Array,
    private readonly maxKnown = 65_536,
  ) {
    if (secret.length !== COOKIE_SECRET_BYTES) throw new Error(`cookie secret must be ${COOKIE_SECRET_BYTES} bytes`);
  }

  /** The cookie for a gateway address (as the socket reports it) and epoch. */
  cookieFor(address: string, epoch: bigint): bigint {
    return this.known.get(`${address}/${epoch}`) ?? this.compute(address, epoch);
  }

  /** True when `cookie` is the one we give (address, epoch); remembers proven pairs. */
  verify(address: string, epoch: bigint, cookie: bigint): boolean {
    const key = `${address}/${epoch}`;
    const cached = this.known.get(key);
    if (cached !== undefined) return cached === cookie;
    if (cookie === 0n || this.compute(address, epoch) !== cookie) return false;
    setNewest(this.known, key, cookie, this.maxKnown);
    return true;
  }

  private compute(address: string, epoch: bigint): bigint {
    const addressBytes = Uint8Array.from(isIPv4(address) ? ipaddr.IPv4.parse(address).toByteArray() : ipaddr.IPv6.parse(address).toByteArray());
    const epochBytes = Buffer.alloc(8);
    epochBytes.writeBigUInt64BE(epoch);
    const cookie = createHmac('sha256', this.secret).update(addressBytes).update(epochBytes).digest().readBigUInt64BE(0);
    // Zero means "no cookie yet" on the wire, so it is never given out.
    return cookie === 0n ? 1n : cookie;
  }
}
