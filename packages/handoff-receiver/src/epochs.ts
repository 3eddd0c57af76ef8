// Which epochs of each gateway address are dead (handoff-v1 section 6.2, "Superseded epochs").
// Gateways choose a random epoch at each start, so epochs carry no order of their own: an epoch is
// superseded when another epoch of the same address starts after it at this receiver, and it
// stays dead from then on. Per address the book keeps the epoch that started last and the
// DEAD_EPOCHS_KEPT epochs superseded before it, newest first. Each address is one side record,
// stored in the commit that starts the new epoch, so a restart knows exactly what it knew before,
// without keys and without trusting anything in the datagrams but the cookie.
import type { SideRecord } from '@nat64/conntrack';
import { setNewest } from './bounded-map.js';

export const EPOCH_SIDE_PREFIX = 'epochs/';
/** Superseded epochs remembered per gateway address (8 bytes each); older ones are forgotten. */
export const DEAD_EPOCHS_KEPT = 256;

interface AddressEpochs {
  current: bigint;
  /** Newest first. */
  dead: BigUint64Array;
}

export class EpochBook {
  /** In order of the last epoch start, oldest first (the first to forget beyond `maxAddresses`). */
  private readonly byAddress = new Map<string, AddressEpochs>();

  constructor(private readonly maxAddresses: number) {}

  get addresses(): number {
    return this.byAddress.size;
  }

  /** Replaces what the book holds with stored records; records that do not parse are skipped. */
  load(records: ReadonlyArray<readonly [string, Uint8Array]>): void {
    this.byAddress.clear();
    for (const [name, value] of records) {
      if (!name.startsWith(EPOCH_SIDE_PREFIX) || value.length < 8 || value.length % 8 !== 0) continue;
      const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
      const dead = new BigUint64Array(Math.min(value.length / 8 - 1, DEAD_EPOCHS_KEPT));
      for (let i = 0; i < dead.length; i++) dead[i] = view.getBigUint64(8 * (i + 1));
      this.byAddress.set(name.slice(EPOCH_SIDE_PREFIX.length), { current: view.getBigUint64(0), dead });
    }
  }

  /** The epoch of `address` that started last. */
  currentOf(address: string): bigint | undefined {
    return this.byAddress.get(address)?.current;
  }

  /** Whether a later epoch of `address` superseded `epoch`. */
  isDead(address: string, epoch: bigint): boolean {
    const epochs = this.byAddress.get(address);
    return epochs !== undefined && epochs.current !== epoch && epochs.dead.includes(epoch);
  }

  /**
   * `epoch` of `address` starts (the caller checked that it is not dead): the current one, if
   * another, is superseded. Returns the side records to commit with the start: the address's
   * record (also when `epoch` already was the current one: a start whose commit failed is started
   * again), and the removal of the address forgotten to stay in bounds.
   */
  start(address: string, epoch: bigint): SideRecord[] {
    const known = this.byAddress.get(address);
    if (known?.current === epoch) return [[EPOCH_SIDE_PREFIX + address, encode(known)]];
    const dead = new BigUint64Array(known ? Math.min(known.dead.length + 1, DEAD_EPOCHS_KEPT) : 0);
    if (known) {
      dead[0] = known.current;
      dead.set(known.dead.subarray(0, dead.length - 1), 1);
    }
    const epochs: AddressEpochs = { current: epoch, dead };
    const records: SideRecord[] = [[EPOCH_SIDE_PREFIX + address, encode(epochs)]];
    const forgotten = setNewest(this.byAddress, address, epochs, this.maxAddresses);
    if (forgotten !== undefined) records.push([EPOCH_SIDE_PREFIX + forgotten, null]);
    return records;
  }
}

function encode(epochs: AddressEpochs): Uint8Array {
  const bytes = new Uint8Array(8 * (1 + epochs.dead.length));
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, epochs.current);
  for (const [index, epoch] of epochs.dead.entries()) view.setBigUint64(8 * (index + 1), epoch);
  return bytes;
}
