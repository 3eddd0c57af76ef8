import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { logSessionChanges } from '../src/session-log.js';
import { ipv6 } from '../../../packages/gateway-engine/test/support/packets.js';
import { CLIENT, SERVER6, testGateway } from './support/gateway.js';

describe('session-log', () => {
  it('logs every BIB entry and session created and deleted, at info, with the reason', () => {
    const g = testGateway();
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const off = logSessionChanges(g.engine.events, pino({ level: 'info' }, sink));
    g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    g.advance(5 * 60_000);
    g.engine.expire(Infinity);
    off();
    expect(lines.map((l) => [l['level'], l['event'], l['reason']])).toEqual([
      [30, 'bib-created', undefined],
      [30, 'session-created', undefined],
      [30, 'session-deleted', 'TIMEOUT'],
      [30, 'bib-deleted', 'TIMEOUT'],
    ]);
    expect(lines[1]).toMatchObject({ protocol: 'udp', client: '[2001:db8:1::2]:40000', server: '203.0.113.2:53' });
    expect(String(lines[1]!['nat'])).toMatch(/^198\.51\.100\.1:\d+$/);
  });
});
