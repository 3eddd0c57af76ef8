import { describe, expect, it } from 'vitest';
import { ipv6 } from './support/packets.js';
import { CLIENT, SERVER6, testEngine } from './support/engine.js';

const udp = (port: number) => ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: port, dstPort: 53 });

describe('events', () => {
  it('fans events out to every subscriber with the method', () => {
    const g = testEngine();
    const a: string[] = [];
    const b: string[] = [];
    g.engine.events.subscribe({ sessionCreated: (_t, h) => a.push(`s${h}`), bibCreated: (_t, bib) => a.push(`b${bib}`) });
    g.engine.events.subscribe({ sessionCreated: (table, h) => b.push(`${table.clientPort(h)}`) });
    g.send(udp(40_000));
    expect(a).toEqual(['b0', 's0']);
    expect(b).toEqual(['40000']);
  });

  it('lets a subscriber unsubscribe from inside an event without upsetting the others', () => {
    const g = testEngine();
    const heard: string[] = [];
    const off = g.engine.events.subscribe({
      sessionCreated: () => {
        heard.push('once');
        off();
      },
    });
    g.engine.events.subscribe({ sessionCreated: () => heard.push('always') });
    g.send(udp(40_000), udp(40_001));
    expect(heard).toEqual(['once', 'always', 'always']);
  });
});
