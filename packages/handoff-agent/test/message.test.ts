import { describe, expect, it } from 'vitest';
import { MessageType, datagram, verifyDatagram, type HandoffEntry } from '@nat64/handoff-codec';
import { MessagePool } from '../src/message.js';
import { hex } from './helpers/hex.js';

// Appendix A: epoch 0x0123456789abcdef, cookie 0x8899aabbccddeeff.
const SESSION = { epochHigh: 0x01234567, epochLow: 0x89abcdef, cookieHigh: 0x8899aabb, cookieLow: 0xccddeeff };
const OTHER_SESSION = { ...SESSION, cookieHigh: 0x11112222, cookieLow: 0x33334444 };
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);

const tcp: HandoffEntry = {
  protocol: 6,
  reason: 0,
  natAddress: 0xc0000201,
  natPort: 40000,
  clientAddress: hex('20010db8000000000000000000000001'),
  clientPort: 51000,
  serverAddress: 0xc633640a,
  serverPort: 443,
  time: 1552903588000000,
};
const icmp: HandoffEntry = {
  protocol: 1,
  reason: 0,
  natAddress: 0xc0000201,
  natPort: 8001,
  clientAddress: hex('20010db8000000000000000000000002'),
  clientPort: 1234,
  serverAddress: 0xc633640b,
  serverPort: 0,
  time: 1552903588123456,
};

describe('message', () => {
  it('builds the CREATED of Appendix A in place', () => {
    const message = new MessagePool(1472, undefined).take();
    message.begin(MessageType.CREATED, 1, true, SESSION, false);
    expect(message.append(tcp, 0)).toBe(true);
    expect(message.append(icmp, 0)).toBe(true);
    message.finish();
    expect(message.bytes).toEqual(
      hex(`
        01 03 0070  0000 0000               # version 1, CREATED, length 112, flags, reserved
        0123456789abcdef 8899aabbccddeeff   # epoch, cookie
        00000001  0002 0000                 # sequence 1, count 2, reserved
        06 00 9c40 c0000201 20010db8000000000000000000000001 c738 01bb c633640a 0005845b8abbb100
        01 00 1f41 c0000201 20010db8000000000000000000000002 04d2 0000 c633640b 0005845b8abd9340
      `),
    );
  });

  it('writes the DELETED reason into the datagram, leaving the entry object alone (Appendix A DELETED)', () => {
    const message = new MessagePool(1472, undefined).take();
    message.begin(MessageType.DELETED, 2, true, SESSION, false);
    message.append(tcp, 2);
    message.finish();
    expect(tcp.reason).toBe(0);
    expect(message.bytes).toEqual(
      hex(`
        01 04 0048  0000 0000  0123456789abcdef 8899aabbccddeeff  00000002  0001 0000
        06 02 9c40 c0000201 20010db8000000000000000000000001 c738 01bb c633640a 0005845b8abbb100  # reason 2 TCP closed
      `),
    );
  });

  it('sends cookie 0 and sequence 0 for a peer without a cookie', () => {
    const message = new MessagePool(1472, undefined).take();
    message.begin(MessageType.CREATED, 0, false, SESSION, true);
    message.append(tcp, 0);
    message.finish();
    expect(message.bytes.subarray(0, 32)).toEqual(hex('01 03 0048 0000 0000 0123456789abcdef 0000000000000000 00000000 0001 0000'));
  });

  it('holds 36 entries at MTU 1500 and 35 with a tag (5.11)', () => {
    for (const [key, expected, length] of [
      [undefined, 36, 1472],
      [KEY, 35, 1448],
    ] as const) {
      const message = new MessagePool(1472, key).take();
      message.begin(MessageType.CREATED, 1, true, SESSION, false);
      let count = 0;
      while (message.append(tcp, 0)) count++;
      expect(message.full).toBe(true);
      message.finish();
      expect([count, message.bytes.length]).toEqual([expected, length]);
    }
  });

  it('rewrites the cookie of a tagged datagram and signs it again', () => {
    const message = new MessagePool(1472, KEY).take();
    message.begin(MessageType.CREATED, 7, true, SESSION, false);
    message.append(tcp, 0);
    message.finish();
    message.rewriteSession(OTHER_SESSION);
    const bytes = message.bytes;
    expect(verifyDatagram(bytes, 0, bytes.length, KEY)).toBe(true);
    const decoded = datagram.decode(bytes);
    expect([decoded.cookie, decoded.sequence, bytes.length]).toEqual([0x1111222233334444n, 7, 72 + 16]);
  });

  it('recycles messages and their buffers through the pool', () => {
    const pool = new MessagePool(1472, undefined);
    const first = pool.take();
    pool.give(first);
    expect(pool.take()).toBe(first);
    expect(pool.inUse).toBe(1);
  });
});
