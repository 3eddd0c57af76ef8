// handoff-sim's load mode, as the receiver benchmarks run it, against a real receiver: what it
// reports is what the receiver stored and logged.
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '@nat64/handoff-sim';
import { loopback, startTestReceiver, type TestReceiver } from './support/receiver.js';

let receiver: TestReceiver | undefined;
afterEach(async () => {
  await receiver?.cleanup();
  receiver = undefined;
});

describe('handoff-sim load', () => {
  it.each([
    ['as fast as ACKs allow', 0],
    ['at a set rate', 20_000],
  ])('stores and logs every entry it reports, %s', async (_name, rate) => {
    receiver = await startTestReceiver();
    const report = await runLoad({
      receiverAddress: '127.0.0.1',
      receiverPort: receiver.port,
      localPort: 0,
      gateways: [loopback(7), loopback(8)],
      count: 5000,
      rate,
      clients: 100,
      reuse: 0.1,
      serverAddress: 0xc633640a,
    });
    expect(report.entries).toBe(5000);
    expect(report.retransmissions).toBe(0);
    expect(report.ackLatencyMs.p50).toBeGreaterThan(0);
    const created = receiver.lines().filter((line) => line.startsWith('Created '));
    const replaced = receiver.daemon.counters.get('replaced');
    expect(created).toHaveLength(5000);
    expect(receiver.daemon.counters.get('created')).toBe(5000);
    // A reused NAT port replaces the incarnation another client held (10 % asked).
    expect(replaced).toBeGreaterThan(250);
    expect(replaced).toBeLessThan(750);
    expect(receiver.lines().filter((line) => line.startsWith('Deleted '))).toHaveLength(replaced);
    expect(new Set(created.map((line) => line.split(' ')[1]!.split(':')[0]))).toEqual(new Set(['127.0.0.7', '127.0.0.8']));
  });
});
