// Membership test for pool4 addresses on the packet path: a linear scan of a typed array for the
// usual handful of addresses, a Set for large pools. The Set holds addresses as int32 (`| 0`), which
// V8 keeps as small integers: an address from 128.0.0.0 up would otherwise be a heap number, hashed
// as one on every lookup.

import { IMPL } from './constants.js';

export class PoolSet {
  private readonly small: Uint32Array;
  private readonly large: Set<number> | null;

  constructor(addresses: readonly number[]) {
    this.small = Uint32Array.from(addresses);
    this.large = addresses.length > IMPL.POOL_SCAN_MAX ? new Set(addresses.map((address) => address | 0)) : null;
  }

  /** Whether `address` (an unsigned 32-bit number) is a pool4 address. */
  has(address: number): boolean {
    if (this.large !== null) return this.large.has(address | 0);
    const small = this.small;
    for (let i = 0; i < small.length; i++) if (small[i] === address) return true;
    return false;
  }
}
