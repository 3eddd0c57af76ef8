// How many entries fit in one CREATED, DELETED or RELEASE datagram (§5.11):
//   N = floor((maxLength - 28 header - 4 count/reserved - T) / 40), T = 16 with a tag, else 0,
// where maxLength is the UDP payload the path carries: MTU - 20 (IPv4) - 8 (UDP).
import { Size } from './constants.js';

/** Largest handoff datagram (UDP payload) a path of this IPv4 MTU carries without fragmenting. */
export function maxDatagramLength(mtu: number): number {
  return Math.max(0, Math.min(Math.floor(mtu) - Size.IPV4_UDP_OVERHEAD, Size.MAX_DATAGRAM));
}

/** Entries that fit in a batch datagram of at most `maxLength` octets (0 when none fits). */
export function entriesPerLength(maxLength: number, tagged: boolean): number {
  const room = Math.min(Math.floor(maxLength), Size.MAX_DATAGRAM) - Size.HEADER - Size.BATCH_PREFIX - (tagged ? Size.TAG : 0);
  return room < Size.ENTRY ? 0 : Math.floor(room / Size.ENTRY);
}

/** Entries that fit in a batch datagram on a path of this IPv4 MTU: 36 for 1500, 30 for 1280. */
export function entriesPerDatagram(mtu: number, tagged: boolean): number {
  return entriesPerLength(maxDatagramLength(mtu), tagged);
}
