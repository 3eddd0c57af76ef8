// The optional authentication tag (§5.10): HMAC-SHA-256 (RFC 2104, RFC 6234) over every octet of
// the datagram before the tag, truncated to its first 16 octets. Signing turns an untagged datagram
// into a tagged one in place; verification compares in constant time.
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readU16, writeU16 } from '@nat64/wire';
import { HeaderFlag, Size } from './constants.js';

/** A shared key of at least 16 octets (§6.7), raw or as a node:crypto secret KeyObject. */
export type AuthKey = Uint8Array | KeyObject;

const MIN_KEY_OCTETS = 16;

function checkKey(key: AuthKey): void {
  const octets = key instanceof Uint8Array ? key.length : key.type === 'secret' ? (key.symmetricKeySize ?? 0) : 0;
  if (octets < MIN_KEY_OCTETS) throw new RangeError(`authentication key must have at least ${MIN_KEY_OCTETS} octets`);
}

function mac(key: AuthKey, buf: Uint8Array, start: number, end: number): Buffer {
  return createHmac('sha256', key).update(buf.subarray(start, end)).digest();
}

/**
 * Appends the tag to the untagged datagram of `length` octets at `offset` (as encode() or a batch
 * writer left it): sets flag A, adds 16 to the Length field, then writes the tag after the datagram.
 * Returns the offset after the tag. Throws RangeError when the datagram is already tagged, its
 * Length field is not `length`, or `buf` has no room for the tag.
 */
export function signDatagram(buf: Uint8Array, offset: number, length: number, key: AuthKey): number {
  checkKey(key);
  const end = offset + length;
  if (!(offset >= 0 && length >= Size.HEADER && end + Size.TAG <= buf.length)) {
    throw new RangeError(`signing needs a datagram of ${length} octets at ${offset} and ${Size.TAG} more in the buffer`);
  }
  if (readU16(buf, offset + 2) !== length) throw new RangeError(`Length field is not ${length}`);
  const flags = readU16(buf, offset + 4);
  if (flags & HeaderFlag.AUTHENTICATED) throw new RangeError('datagram is already tagged');
  if (length + Size.TAG > Size.MAX_DATAGRAM) throw new RangeError('no room for a tag under the 65535-octet limit');
  writeU16(buf, offset + 2, length + Size.TAG);
  writeU16(buf, offset + 4, flags | HeaderFlag.AUTHENTICATED);
  const digest = mac(key, buf, offset, end);
  buf.set(digest.subarray(0, Size.TAG), end);
  return end + Size.TAG;
}

/**
 * True when the datagram of `length` octets at `offset` carries flag A, a Length field equal to
 * `length` and a tag that matches `key`. Never throws for datagram contents (an untagged or short
 * datagram is simply false); throws RangeError only for a key shorter than 16 octets.
 */
export function verifyDatagram(buf: Uint8Array, offset: number, length: number, key: AuthKey): boolean {
  checkKey(key);
  const end = offset + length;
  if (!(offset >= 0 && length >= Size.HEADER + Size.TAG && end <= buf.length)) return false;
  if (readU16(buf, offset + 2) !== length) return false;
  if (!(readU16(buf, offset + 4) & HeaderFlag.AUTHENTICATED)) return false;
  const digest = mac(key, buf, offset, end - Size.TAG);
  return timingSafeEqual(digest.subarray(0, Size.TAG), buf.subarray(end - Size.TAG, end));
}
