import { FakeTun } from '@nat64/tun';
import { describe, expect, it } from 'vitest';
import { collectStats } from '../src/stats.js';
import { ipv4, ipv6 } from '../../../packages/gateway-engine/test/support/packets.js';
import { CLIENT, POOL4, SERVER, SERVER6, testGateway } from './support/gateway.js';
import { testHandoff } from './handoff/support.js';

describe('stats', () => {
  it('reports the device, the gateway, the translator, the tables and the fragment tracker, each explained', () => {
    const g = testGateway();
    g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }), new Uint8Array([0x45, 0, 0]));
    g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 53, dstPort: 9 }));
    const lines = collectStats(g, g.tun.counters, null, { txQueueLength: 10_000, txDropped: 7, rxDropped: 2 });
    const value = (group: string, name: string) => lines.find((l) => l.group === group && l.name === name)?.value;
    expect(value('tun', 'rxPackets')).toBe(3);
    expect(value('device', 'txDropped')).toBe(7);
    expect(value('device', 'rxDropped')).toBe(2);
    expect(value('gateway', 'forwarded64')).toBe(1);
    expect(value('gateway', 'noBib')).toBe(1);
    expect(value('xlat', 'truncated')).toBe(1);
    expect(value('xlat', 'icmpErrorsSent')).toBe(1);
    expect(value('table', 'sessionsCreated')).toBe(1);
    expect(value('table', 'sessionEventErrors')).toBe(0);
    expect(value('fragments', 'fragmentsHeld')).toBe(0);
    expect(lines.every((line) => line.explanation.length > 10)).toBe(true);
    expect(new Set(lines.map((l) => `${l.group}.${l.name}`)).size).toBe(lines.length);
  });

  it('adds the handoff glue and the agent, explained, when handoff runs', () => {
    const h = testHandoff();
    h.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    const lines = collectStats(h.g, undefined, h.handoff);
    const value = (group: string, name: string) => lines.find((l) => l.group === group && l.name === name)?.value;
    expect(value('handoff', 'mappingsCreated')).toBe(1);
    expect(value('handoff', 'datagramsSent')).toBeGreaterThanOrEqual(1);
    expect(value('agent', 'helloSent')).toBe(1);
    expect(lines.filter((l) => l.group === 'handoff' || l.group === 'agent').every((line) => line.explanation.length > 10)).toBe(true);
    expect(collectStats(h.g, undefined, null).some((l) => l.group === 'handoff')).toBe(false);
  });

  it('counts the session events a subscriber failed to take', () => {
    const g = testGateway();
    g.engine.events.subscribe({
      sessionCreated: () => {
        throw new Error('a broken follower');
      },
    });
    g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    const lines = collectStats(g);
    expect(lines.find((l) => l.group === 'table' && l.name === 'sessionEventErrors')?.value).toBe(1);
    expect(lines.find((l) => l.group === 'gateway' && l.name === 'forwarded64')?.value).toBe(1);
  });

  it('leaves the device out when there is none', () => {
    const g = testGateway();
    expect(collectStats(g).some((l) => l.group === 'tun')).toBe(false);
    expect(new FakeTun().counters.rxPackets).toBe(0);
  });
});
