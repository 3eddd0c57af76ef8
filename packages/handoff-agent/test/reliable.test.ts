import { describe, expect, it } from 'vitest';
import { MessagePool, type Message } from '../src/message.js';
import { ReliableStream } from '../src/reliable.js';

const pool = new MessagePool(1472, undefined);

/** A stream with messages 1..count begun and the first `sent` of them sent at times 10, 20, ... */
function stream(count: number, sent: number, base = 1): ReliableStream {
  const s = new ReliableStream();
  s.base = s.sendNext = s.next = base;
  s.window = 1000;
  for (let i = 0; i < count; i++) {
    const message = pool.take();
    s.push(message);
  }
  for (let i = 0; i < sent; i++) {
    const message = s.at(s.sendNext)!;
    message.firstSentAt = message.sentAt = 10 * (i + 1);
    s.sendNext = (s.sendNext + 1) >>> 0;
  }
  return s;
}

function acked(s: ReliableStream): number[] {
  const out: number[] = [];
  for (let sequence = s.base; sequence !== s.next; sequence = (sequence + 1) >>> 0) if (s.at(sequence)!.acked) out.push(sequence);
  return out;
}

function drain(s: ReliableStream): Message[] {
  const out: Message[] = [];
  for (let message = s.shiftAcknowledged(); message; message = s.shiftAcknowledged()) out.push(message);
  return out;
}

describe('reliable', () => {
  it('counts in flight and queued messages around sendNext', () => {
    const s = stream(5, 3);
    expect([s.inFlight, s.queuedMessages, s.canSend]).toEqual([3, 2, true]);
    s.window = 3;
    expect(s.canSend).toBe(false);
  });

  it('acknowledges up to Cumulative and moves base past the acknowledged prefix', () => {
    const s = stream(5, 4);
    expect(s.acknowledgeCumulative(2)).toBe(true);
    expect(acked(s)).toEqual([1, 2]);
    expect(drain(s)).toHaveLength(2);
    expect([s.base, s.inFlight]).toEqual([3, 2]);
  });

  it('treats an old Cumulative as nothing new and one beyond what was sent as invalid', () => {
    const s = stream(5, 3, 10);
    expect(s.acknowledgeCumulative(5)).toBe(true);
    expect(s.acknowledgeCumulative(9)).toBe(true);
    expect(acked(s)).toEqual([]);
    expect(s.acknowledgeCumulative(13)).toBe(false);
    expect(acked(s)).toEqual([]);
  });

  it('acknowledges blocks above a gap without moving base', () => {
    const s = stream(8, 8);
    expect(s.acknowledgeCumulative(2)).toBe(true);
    expect(s.acknowledgeBlock(4, 5, 2, 2)).toBe(true);
    expect(s.acknowledgeBlock(7, 7, 2, 5)).toBe(true);
    expect(acked(s)).toEqual([1, 2, 4, 5, 7]);
    drain(s);
    expect(s.base).toBe(3);
  });

  it('ignores blocks that break the rules of 6.3', () => {
    const s = stream(8, 6);
    expect(s.acknowledgeBlock(5, 4, 1, 1)).toBe(false); // start after end
    expect(s.acknowledgeBlock(2, 3, 1, 1)).toBe(false); // not above Cumulative + 1
    expect(s.acknowledgeBlock(4, 4, 1, 3)).toBe(false); // adjacent to the previous block
    expect(s.acknowledgeBlock(5, 7, 1, 1)).toBe(false); // 7 never sent
    expect(acked(s)).toEqual([]);
  });

  it('works across the wrap of 32-bit sequence numbers', () => {
    const s = stream(4, 4, 0xffff_fffe);
    expect(s.acknowledgeCumulative(0)).toBe(true);
    expect(drain(s)).toHaveLength(3);
    expect(s.base).toBe(1);
    expect(s.acknowledgeBlock(1, 1, 0, 0)).toBe(false);
  });

  it('samples the most recently sent message among those newly acknowledged, skipping retransmitted ones', () => {
    const s = stream(4, 4);
    s.at(3)!.retransmissions = 1;
    s.sampleSentAt = -1;
    s.acknowledgeCumulative(3);
    expect(s.sampleSentAt).toBe(20);
    s.sampleSentAt = -1;
    s.acknowledgeCumulative(3);
    expect(s.sampleSentAt).toBe(-1);
  });
});
