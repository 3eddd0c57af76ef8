// One part of a datagram (the header, an entry, a message body) as a check, a writer and a reader,
// and the codec trio made of them.
import { availableFrom, checkRoom } from './bytes.js';
import type { Codec } from './types.js';

export interface Part<T> {
  length(value: T): number;
  check(value: T): void;
  /** Writes a checked value, padding and reserved fields as zeros; returns the offset after it. */
  write(buf: Uint8Array, offset: number, value: T): number;
  /** Reads from `available` octets at `offset`; `name` is what errors name (for a body, its message type). */
  read(buf: Uint8Array, offset: number, available: number, name: string): T;
}

/** The codec trio over `part`; a decode names it `name`, an encode short of room `structure`. */
export function codecOf<T>(part: Part<T>, name: string, structure = `${name} body`): Codec<T> {
  return {
    encodingLength: (value) => part.length(value),
    encode(value, buf, offset = 0) {
      part.check(value);
      checkRoom(buf, offset, part.length(value), structure);
      return part.write(buf, offset, value);
    },
    decode: (buf, offset = 0, length) => part.read(buf, offset, availableFrom(buf, offset, length), name),
  };
}
