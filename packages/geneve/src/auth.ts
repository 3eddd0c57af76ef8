// The authentication option (options §4): a 16-byte truncated HMAC-SHA-256 tag over the whole
// UDP payload (Geneve header, options and inner packet) with the tag's own bytes taken as zero.
// The data trio serves tools and tests; sealTag/verifyTag are what the packet paths call.
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { availableFrom, checkBytes, checkRoom, checkUint } from './bytes.js';
import { copyBytes, type Codec } from '@nat64/wire';
import { OptionSize } from './constants.js';
import { GeneveDecodeError } from './errors.js';

export interface AuthOption {
  /** Which of the gateway's keys made the tag, so keys can be rolled over (options §4). */
  keyId: number;
  tag: Uint8Array;
}

/** RFC 2104 §3: keys shorter than the hash output weaken HMAC; we refuse under 16 and advise 32. */
export const MIN_AUTH_KEY_LENGTH = 16;

const ZERO_TAG = new Uint8Array(OptionSize.AUTH_TAG);

/** Turns a shared secret into a KeyObject once, at configuration time. */
export function importAuthKey(secret: Uint8Array): KeyObject {
  if (!(secret instanceof Uint8Array) || secret.length < MIN_AUTH_KEY_LENGTH) {
    throw new RangeError(`an authentication key needs at least ${MIN_AUTH_KEY_LENGTH} bytes`);
  }
  return createSecretKey(secret);
}

/**
 * Computes the tag over buf[start, end) and writes it at tagOffset, which lies inside that range.
 * The tag bytes are zeroed first, so the MAC covers the packet exactly as a verifier rebuilds it.
 */
export function sealTag(key: KeyObject, buf: Uint8Array, start: number, end: number, tagOffset: number): void {
  buf.fill(0, tagOffset, tagOffset + OptionSize.AUTH_TAG);
  const digest = createHmac('sha256', key).update(buf.subarray(start, end)).digest();
  copyBytes(digest, 0, OptionSize.AUTH_TAG, buf, tagOffset);
}

/**
 * Checks the tag at tagOffset against buf[start, end) with the tag read as zeros, without writing
 * to the buffer. Compares in constant time.
 */
export function verifyTag(key: KeyObject, buf: Uint8Array, start: number, end: number, tagOffset: number): boolean {
  const tagEnd = tagOffset + OptionSize.AUTH_TAG;
  const digest = createHmac('sha256', key).update(buf.subarray(start, tagOffset)).update(ZERO_TAG).update(buf.subarray(tagEnd, end)).digest();
  return timingSafeEqual(digest.subarray(0, OptionSize.AUTH_TAG), buf.subarray(tagOffset, tagEnd));
}

/** Writes Key ID, zero Reserved and the given tag (zeros while sealing). */
export function writeAuth(buf: Uint8Array, offset: number, keyId: number, tag: Uint8Array | null): number {
  buf[offset] = keyId;
  buf[offset + 1] = 0;
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  const tagOffset = offset + OptionSize.AUTH_TAG_OFFSET;
  if (tag === null) buf.fill(0, tagOffset, tagOffset + OptionSize.AUTH_TAG);
  else copyBytes(tag, 0, OptionSize.AUTH_TAG, buf, tagOffset);
  return offset + OptionSize.AUTH_DATA;
}

export function encodingLength(_value?: AuthOption): number {
  return OptionSize.AUTH_DATA;
}

export function encode(value: AuthOption, buf: Uint8Array, offset = 0): number {
  checkUint(value.keyId, 0xff, 'keyId');
  checkBytes(value.tag, OptionSize.AUTH_TAG, 'tag');
  checkRoom(buf, offset, OptionSize.AUTH_DATA, 'auth option');
  return writeAuth(buf, offset, value.keyId, value.tag);
}

/** Reads auth data of `length` bytes (default: the rest); bytes past the 20 defined are ignored. */
export function decode(buf: Uint8Array, offset = 0, length?: number): AuthOption {
  const available = availableFrom(buf, offset, length);
  if (available < OptionSize.AUTH_DATA) {
    throw new GeneveDecodeError('OPTION_TRUNCATED', offset + available, 'auth option', 'truncated');
  }
  const tag = new Uint8Array(OptionSize.AUTH_TAG);
  copyBytes(buf, offset + OptionSize.AUTH_TAG_OFFSET, offset + OptionSize.AUTH_TAG_OFFSET + OptionSize.AUTH_TAG, tag, 0);
  return { keyId: buf[offset]!, tag };
}

/** The codec trio for AuthOption. */
export const authOption: Codec<AuthOption> = { encodingLength, encode, decode };
