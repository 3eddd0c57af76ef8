// Keyed 32-bit hashing of table keys made of integers. Every position of every key is mixed with its own
// secret multiplier, so clients choosing addresses and ports cannot aim many flows at one bucket chain
// without knowing the secret (hash flooding). It is a murmur3-style mixer, not SipHash: cheap enough for
// every packet, and keyed well enough that collisions must be found by observing timing, not computed.

import { randomBytes } from 'node:crypto';
import { Nat64Error } from './errors.js';

/** Bytes of secret a table needs: keys for the hash and for port allocation (RFC 6056 3.3.3). */
export const SECRET_BYTES = 64;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/**
 * The final avalanche, as a signed 32-bit result: V8 keeps an int32 a small integer, where an unsigned
 * value from 2^31 up is a heap number, allocated whenever it crosses a call that is not inlined (on
 * every packet's lookup).
 */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * One keyed hash family; each method hashes one kind of key. Results are signed 32-bit (finish). Words
 * count modulo 2^32, so callers pass addresses as int32 (`| 0`): an unsigned one from 2^31 up would be
 * a heap number allocated for a call that is not inlined.
 */
export class KeyedHash {
  private readonly m0: number;
  private readonly m1: number;
  private readonly m2: number;
  private readonly m3: number;
  private readonly m4: number;
  private readonly m5: number;
  private readonly m6: number;
  private readonly seed: number;
  /** Secret for RFC 6056 algorithm 3's function F (port allocation), independent of the hash keys. */
  readonly portKey: number;
  readonly portKey2: number;

  constructor(secret: Uint8Array = randomBytes(SECRET_BYTES)) {
    if (secret.length < SECRET_BYTES) {
      throw new Nat64Error('BAD_SECRET', `secret must hold at least ${SECRET_BYTES} bytes, got ${secret.length}`);
    }
    const view = new DataView(secret.buffer, secret.byteOffset, secret.byteLength);
    // Odd multipliers are bijective on 32 bits, so no key word collapses two inputs by itself.
    const odd = (i: number): number => (view.getUint32(i * 4) | 1) >>> 0;
    this.m0 = odd(0);
    this.m1 = odd(1);
    this.m2 = odd(2);
    this.m3 = odd(3);
    this.m4 = odd(4);
    this.m5 = odd(5);
    this.m6 = odd(6);
    this.seed = view.getUint32(28);
    this.portKey = view.getUint32(32);
    this.portKey2 = view.getUint32(36);
  }

  private static round(h: number, w: number, m: number): number {
    let k = Math.imul(w, m);
    k = rotl(k, 15);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = rotl(h, 13);
    return (Math.imul(h, 5) + 0xe6546b64) | 0;
  }

  /** The rounds over an IPv6 address that the hashes of keys holding one start with, from `h`. */
  private address6Rounds(h: number, a0: number, a1: number, a2: number, a3: number): number {
    h = KeyedHash.round(h, a0, this.m0);
    h = KeyedHash.round(h, a1, this.m1);
    h = KeyedHash.round(h, a2, this.m2);
    return KeyedHash.round(h, a3, this.m3);
  }

  /** A client IPv6 address (four big-endian words). */
  address6(a0: number, a1: number, a2: number, a3: number): number {
    return finish(this.address6Rounds(this.seed ^ 0x6a09e667, a0, a1, a2, a3));
  }

  /** A client transport address: protocol, IPv6 address, port (the BIB's IPv6 side). */
  transport6(protocol: number, a0: number, a1: number, a2: number, a3: number, port: number): number {
    let h = this.address6Rounds(this.seed ^ 0xbb67ae85, a0, a1, a2, a3);
    h = KeyedHash.round(h, (protocol << 16) | port, this.m4);
    return finish(h);
  }

  /** A NAT transport address: protocol, IPv4 address, port (the BIB's IPv4 side). */
  transport4(protocol: number, address: number, port: number): number {
    let h = this.seed ^ 0x3c6ef372;
    h = KeyedHash.round(h, address, this.m5);
    h = KeyedHash.round(h, (protocol << 16) | port, this.m4);
    return finish(h);
  }

  /** The outbound session key: protocol, client address and port, server address and port. */
  session6(protocol: number, a0: number, a1: number, a2: number, a3: number, clientPort: number, serverAddress: number, serverPort: number): number {
    let h = this.address6Rounds(this.seed ^ 0xa54ff53a, a0, a1, a2, a3);
    h = KeyedHash.round(h, (clientPort << 16) | serverPort, this.m4);
    h = KeyedHash.round(h, serverAddress, this.m5);
    h = KeyedHash.round(h, protocol, this.m6);
    return finish(h);
  }

  /** The inbound session key: protocol, NAT address and port, server address and port. */
  session4(protocol: number, natAddress: number, natPort: number, serverAddress: number, serverPort: number): number {
    let h = this.seed ^ 0x510e527f;
    h = KeyedHash.round(h, natAddress, this.m0);
    h = KeyedHash.round(h, serverAddress, this.m1);
    h = KeyedHash.round(h, (natPort << 16) | serverPort, this.m2);
    h = KeyedHash.round(h, protocol, this.m6);
    return finish(h);
  }

  /**
   * RFC 6056 3.3.3 (algorithm 3) function F for port allocation: a keyed hash of what identifies the mapping
   * being made (protocol, client address) and the pool4 address it is made in, under its own key.
   */
  portOffset(protocol: number, a0: number, a1: number, a2: number, a3: number, natAddress: number): number {
    let h = this.portKey;
    h = KeyedHash.round(h, a0, this.m3);
    h = KeyedHash.round(h, a1, this.m2);
    h = KeyedHash.round(h, a2, this.m1);
    h = KeyedHash.round(h, a3, this.m0);
    h = KeyedHash.round(h, natAddress ^ this.portKey2, this.m5);
    h = KeyedHash.round(h, protocol, this.m6);
    return finish(h);
  }

  /** An IPv4 or IPv6 fragment key: family, addresses as words, identification, protocol. */
  fragment(words: Uint32Array, count: number, identification: number, protocolAndFamily: number): number {
    let h = this.seed ^ 0x9b05688c;
    for (let i = 0; i < count; i++) h = KeyedHash.round(h, words[i]!, i & 1 ? this.m1 : this.m0);
    h = KeyedHash.round(h, identification, this.m2);
    h = KeyedHash.round(h, protocolAndFamily, this.m3);
    return finish(h);
  }
}
