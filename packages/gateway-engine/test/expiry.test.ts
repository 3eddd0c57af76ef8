import { describe, expect, it } from 'vitest';
import { ExpiryTimer } from '@nat64/gateway-engine';
import { ipv6 } from './support/packets.js';
import { CLIENT, SERVER6, testEngine } from './support/engine.js';

describe('expiry', () => {
  it('expires a mass of sessions in slices, yielding to the event loop between them', async () => {
    const g = testEngine({ limits: { maxSessionsPerClient: 100_000 } });
    for (let port = 1; port <= 1000; port++) g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: port + 1024, dstPort: 53 }));
    expect(g.table.sessionCount).toBe(1000);
    g.advance(5 * 60_000);
    const timer = new ExpiryTimer(g.engine, { intervalMs: 60_000, slice: 300 });
    timer.start();
    timer.tick();
    // One slice now; the rest follows on later turns, not in this call.
    expect(g.table.sessionCount).toBe(700);
    for (let turn = 0; turn < 10 && g.table.sessionCount > 0; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(g.table.sessionCount).toBe(0);
    timer.stop();
  });

  it('stops continuing once stopped', async () => {
    const g = testEngine();
    for (let port = 1; port <= 10; port++) g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: port + 1024, dstPort: 53 }));
    g.advance(5 * 60_000);
    const timer = new ExpiryTimer(g.engine, { intervalMs: 60_000, slice: 4 });
    timer.start();
    timer.tick();
    timer.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(g.table.sessionCount).toBe(6);
  });
});
