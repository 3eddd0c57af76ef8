import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CookieJar, newCookieSecret } from '../src/cookies.js';

describe('cookies', () => {
  it('gives the same cookie for the same gateway and epoch, across jars with the same secret', () => {
    const secret = newCookieSecret();
    const cookie = new CookieJar(secret).cookieFor('192.0.2.7', 0x1234n);
    expect(new CookieJar(secret).cookieFor('192.0.2.7', 0x1234n)).toBe(cookie);
    expect(cookie).not.toBe(0n);
  });

  it('gives different cookies per address, epoch and secret', () => {
    const secret = newCookieSecret();
    const jar = new CookieJar(secret);
    const cookie = jar.cookieFor('192.0.2.7', 1n);
    expect(jar.cookieFor('192.0.2.9', 1n)).not.toBe(cookie);
    expect(jar.cookieFor('192.0.2.7', 2n)).not.toBe(cookie);
    expect(new CookieJar(newCookieSecret()).cookieFor('192.0.2.7', 1n)).not.toBe(cookie);
  });

  it('verifies only the cookie it gave', () => {
    const jar = new CookieJar(newCookieSecret());
    const cookie = jar.cookieFor('192.0.2.7', 5n);
    expect(jar.verify('192.0.2.7', 5n, cookie)).toBe(true);
    expect(jar.verify('192.0.2.7', 5n, cookie)).toBe(true);
    expect(jar.verify('192.0.2.7', 5n, cookie ^ 1n)).toBe(false);
    expect(jar.verify('192.0.2.8', 5n, cookie)).toBe(false);
    expect(jar.verify('192.0.2.7', 5n, 0n)).toBe(false);
  });

  it('derives cookies as handoff-v1 section 6.2 recommends: HMAC-SHA-256(S, A || E), first 8 bytes', () => {
    const secret = newCookieSecret();
    const expected = createHmac('sha256', secret)
      .update(Buffer.from([192, 0, 2, 7, 0, 0, 0, 0, 0, 0, 0x12, 0x34]))
      .digest()
      .readBigUInt64BE(0);
    expect(new CookieJar(secret).cookieFor('192.0.2.7', 0x1234n)).toBe(expected);
  });

  it('refuses a secret of the wrong size', () => {
    expect(() => new CookieJar(new Uint8Array(16))).toThrow('cookie secret must be 32 bytes');
  });
});
