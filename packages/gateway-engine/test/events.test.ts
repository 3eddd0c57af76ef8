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

  it('catches what a subscriber throws: counted, handed to its failed(), and the others and the packet go on', () => {
    const g = testEngine();
    const heard: string[] = [];
    const failures: unknown[] = [];
    const bug = new Error('subscriber bug');
    g.engine.events.subscribe({
      sessionCreated: () => {
        throw bug;
      },
      bibCreated: () => {
        throw bug;
      },
      failed: (error) => failures.push(error),
    });
    g.engine.events.subscribe({
      sessionCreated: (table, h) => heard.push(`s${table.clientPort(h)}`),
      bibCreated: (_t, b) => heard.push(`b${b}`),
    });
    g.engine.events.subscribe({
      sessionCreated: () => {
        throw new Error('without failed()');
      },
    });
    expect(g.send(udp(40_000), udp(40_001))).toHaveLength(2);
    expect(heard).toEqual(['b0', 's40000', 'b1', 's40001']);
    expect(failures).toEqual([bug, bug, bug, bug]);
    expect(g.engine.events.errors).toBe(6);
    expect(g.engine.table.sessionCount).toBe(2);
  });
});
