// The table's second index: entries by their client side (protocol, NAT address, client address,
// client port), for a gateway that asks who a client is when the client speaks first (handoff v1
// section 5.12). A KeyIndex from a 50-bit hash of the client side to the newest slot with that
// hash, and a chain through the slots (EntrySlab.clientNext) for the others; lookups compare the
// real fields, so hash collisions cost a comparison, never a wrong answer. Rebuilt from the store at
// open like the primary index, so it survives restarts with every store.
import type { EntrySlab } from './entry-slab.js';
import { KeyIndex } from './key-index.js';

const NONE = -1;
const ADDRESS_BYTES = 16;
const TWO_32 = 0x1_0000_0000;

export class ClientIndex {
  private readonly index = new KeyIndex();

  constructor(private readonly slab: EntrySlab) {}

  get byteLength(): number {
    return this.index.byteLength;
  }

  add(slot: number): void {
    // The slot becomes the chain's head, in front of the one it replaces.
    this.slab.clientNext[slot] = this.index.set(this.slotKey(slot), slot);
  }

  remove(slot: number): void {
    const key = this.slotKey(slot);
    const next = this.slab.clientNext;
    const head = this.index.get(key);
    if (head === slot) {
      if (next[slot]! >= 0) this.index.set(key, next[slot]!);
      else this.index.delete(key);
      return;
    }
    for (let at = head; at >= 0; at = next[at]!) {
      if (next[at] === slot) {
        next[at] = next[slot]!;
        return;
      }
    }
  }

  /** The slot of the entry with this client side created last (greatest createdAt), or -1. */
  find(protocol: number, natAddress: number, clientAddress: Uint8Array, clientPort: number): number {
    const slab = this.slab;
    let best = NONE;
    for (let slot = this.index.get(clientKey(protocol, natAddress, clientAddress, 0, clientPort)); slot >= 0; slot = slab.clientNext[slot]!) {
      if (slab.protocol[slot] !== protocol || slab.natAddress[slot] !== natAddress || slab.clientPort[slot] !== clientPort) continue;
      if (!sameAddress(slab.clientAddress, slot * ADDRESS_BYTES, clientAddress)) continue;
      if (best < 0 || slab.createdAt[slot]! > slab.createdAt[best]!) best = slot;
    }
    return best;
  }

  clear(): void {
    this.index.clear();
  }

  private slotKey(slot: number): number {
    const slab = this.slab;
    return clientKey(slab.protocol[slot]!, slab.natAddress[slot]!, slab.clientAddress, slot * ADDRESS_BYTES, slab.clientPort[slot]!);
  }
}

function sameAddress(stored: Uint8Array, offset: number, given: Uint8Array): boolean {
  for (let i = 0; i < ADDRESS_BYTES; i++) if (stored[offset + i] !== given[i]) return false;
  return true;
}

/** A 50-bit hash of a client side, an exact integer double as KeyIndex wants. */
function clientKey(protocol: number, natAddress: number, address: Uint8Array, offset: number, port: number): number {
  let a = Math.imul(protocol ^ 0x9e37_79b9, 0x85eb_ca6b) ^ natAddress;
  let b = Math.imul(port ^ 0x7f4a_7c15, 0xc2b2_ae35) ^ natAddress;
  for (let i = 0; i < ADDRESS_BYTES; i += 4) {
    const word = ((address[offset + i]! << 24) | (address[offset + i + 1]! << 16) | (address[offset + i + 2]! << 8) | address[offset + i + 3]!) >>> 0;
    a = Math.imul(a ^ word, 0x0100_0193) ^ (a >>> 15);
    b = Math.imul(b ^ word, 0x5bd1_e995) ^ (b >>> 13);
  }
  a = Math.imul(a ^ (a >>> 16), 0x85eb_ca6b);
  b = Math.imul(b ^ (b >>> 16), 0xc2b2_ae35);
  return ((a ^ (a >>> 13)) & 0x3_ffff) * TWO_32 + ((b ^ (b >>> 16)) >>> 0);
}
