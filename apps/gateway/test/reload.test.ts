import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { verifyDatagram } from '@nat64/handoff-codec';
import { silentLogger } from '@nat64/service';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.js';
import { Handoff } from '@nat64/gateway-handoff';
import { HandoffKeySlot, Reloader, withKeySlot, type LiveGateway } from '../src/reload.js';
import { parseIpv4Address, parseIpv6Address } from '../src/config-fields.js';
import { CLIENT, POOL4, PREFIX, SERVER, SERVER6, testGateway } from './support/gateway.js';
import { ipv6 } from '../../../packages/gateway-engine/test/support/packets.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-reload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY_A = 'a1'.repeat(32);
const KEY_B = 'b2'.repeat(20);
const BASE = { prefix: PREFIX, pool4: [POOL4], logLevel: 'info', handoff: { mode: 'off' } };

interface Harness {
  file: string;
  reloader: Reloader;
  live: LiveGateway;
  lines: Record<string, unknown>[];
  intervals: number[];
  logSessions: boolean[];
  g: ReturnType<typeof testGateway>;
  write(settings: object): void;
}

function harness(settings: object, name = 'gateway.json'): Harness {
  const file = join(dir, name);
  const write = (value: object) => writeFileSync(file, JSON.stringify(value));
  write(settings);
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      );
      done();
    },
  });
  const config = loadGatewayConfig({ file, flags: {} });
  const g = testGateway({ ...settings, logLevel: 'silent' });
  const intervals: number[] = [];
  const logSessions: boolean[] = [];
  const live: LiveGateway = {
    logger: pino({ level: config.logLevel }, sink),
    table: g.table,
    handoffKey: undefined,
    setStatsInterval: (ms) => intervals.push(ms),
    setLogSessions: (on) => logSessions.push(on),
  };
  return { file, reloader: new Reloader({ file, flags: {} }, config, live), live, lines, intervals, logSessions, g, write };
}

function sessionOf(g: ReturnType<typeof testGateway>, port: number): number {
  const h = g.table.lookupOutbound(17, parseIpv6Address(CLIENT, 'client'), 0, port, parseIpv4Address(SERVER, 'server'), 53);
  expect(h).toBeGreaterThanOrEqual(0);
  return h;
}

function udpFrom(port: number): Uint8Array {
  return ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: port, dstPort: 53 });
}

describe('reload', () => {
  it('applies new timeouts to the sessions that exist, and names what needs a restart in one log line', () => {
    const h = harness({ ...BASE, timeouts: { udp: '2m' } });
    h.g.send(udpFrom(40_000));
    const session = sessionOf(h.g, 40_000);
    expect(h.g.table.expiresAt(session) - h.g.clock.now).toBe(120_000);
    h.write({ ...BASE, pool4: [POOL4, '198.51.100.2'], timeouts: { udp: '10m' }, limits: { maxSessions: 1000 }, tun: { txQueueLength: 500 } });
    const outcome = h.reloader.reload('SIGHUP');
    expect(outcome).toEqual({ ok: true, applied: ['timeouts.udp', 'limits.maxSessions'], needsRestart: ['tun.txQueueLength', 'pool4'] });
    expect(h.g.table.expiresAt(session) - h.g.clock.now).toBe(600_000);
    expect(h.g.table.sessionCount).toBe(1);
    expect(h.lines).toHaveLength(1);
    expect(h.lines[0]).toMatchObject({
      level: 40,
      msg: 'reloaded the configuration: applied timeouts.udp, limits.maxSessions; needs a restart to apply tun.txQueueLength, pool4',
      trigger: 'SIGHUP',
      changes: { 'timeouts.udp': { from: '2m', to: '10m' }, 'tun.txQueueLength': { from: 10_000, to: 500 } },
    });
    // What needs a restart keeps running as it was, and is named again at the next reload.
    expect(h.reloader.config.pool4).toHaveLength(1);
    expect(h.reloader.reload('control').needsRestart).toEqual(['tun.txQueueLength', 'pool4']);
  });

  it('refuses a configuration that does not validate and changes nothing', () => {
    const h = harness({ ...BASE, timeouts: { udp: '2m' } });
    h.g.send(udpFrom(40_000));
    h.write({ ...BASE, timeouts: { udp: '1m' }, logLevel: 'debug' });
    const outcome = h.reloader.reload('control');
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toMatch(/timeouts\.udp: must be at least 2m/);
    expect(h.live.logger.level).toBe('info');
    expect(h.g.table.expiresAt(sessionOf(h.g, 40_000)) - h.g.clock.now).toBe(120_000);
    expect(h.lines[0]).toMatchObject({ level: 50, msg: expect.stringMatching(/^reload refused, the running configuration stays: .*timeouts\.udp/) });
    writeFileSync(h.file, '{ "pool4": ');
    expect(h.reloader.reload('SIGHUP').error).toMatch(/invalid JSON/);
  });

  it('changes the log level, the counter summary and session logging', () => {
    const h = harness({ ...BASE });
    h.write({ ...BASE, logLevel: 'debug', statsInterval: '30s', logSessions: true });
    expect(h.reloader.reload('SIGHUP')).toMatchObject({ ok: true, applied: ['logSessions', 'statsInterval', 'logLevel'], needsRestart: [] });
    expect(h.live.logger.level).toBe('debug');
    expect(h.intervals).toEqual([30_000]);
    expect(h.logSessions).toEqual([true]);
    expect(h.reloader.reload('SIGHUP')).toEqual({ ok: true, applied: [], needsRestart: [] });
    expect(h.lines.at(-1)).toMatchObject({ msg: 'reloaded the configuration: nothing changed' });
  });

  it('signs with a new handoff key from the next datagram on; turning authentication on or off needs a restart', () => {
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, KEY_A);
    const settings = { ...BASE, handoff: { mode: 'full', transport: 'handoff', keyFile } };
    const h = harness(settings, 'keyed.json');
    const config = loadGatewayConfig({ file: h.file, flags: {} });
    const { config: signing, slot } = withKeySlot(config);
    const handoff = new Handoff(h.g, signing.handoff, { logger: silentLogger(), tuning: { helloRetryMs: 100, initialRtoMs: 100, minRtoMs: 50 } });
    handoff.start(0);
    const live = { ...h.live, handoffKey: slot };
    const reloader = new Reloader({ file: h.file, flags: {} }, config, live);
    const key = (hex: string) => Buffer.from(hex, 'hex');
    const handoffOnly = (written: Uint8Array[]) => written.filter((p) => p[9] === 17 && ((p[22]! << 8) | p[23]!) === 62863);
    const hellos = () => handoffOnly(h.g.tun.takeWritten());

    const first = handoffOnly(h.g.send(udpFrom(40_000)));
    expect(first.length).toBeGreaterThan(0);
    expect(first.every((p) => verifyDatagram(p, 28, p.length - 28, key(KEY_A)))).toBe(true);

    writeFileSync(keyFile, KEY_B);
    expect(reloader.reload('SIGHUP')).toEqual({ ok: true, applied: ['handoff.key'], needsRestart: [] });
    let retried: Uint8Array[] = [];
    for (let i = 0; i < 50 && retried.length === 0; i++) {
      h.g.advance(200);
      h.g.engine.run(() => handoff.tick());
      retried = hellos();
    }
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.every((p) => verifyDatagram(p, 28, p.length - 28, key(KEY_B)))).toBe(true);
    expect(retried.some((p) => verifyDatagram(p, 28, p.length - 28, key(KEY_A)))).toBe(false);
    handoff.stop();

    h.write({ ...BASE, handoff: { mode: 'full', transport: 'handoff' } });
    expect(reloader.reload('SIGHUP')).toMatchObject({ ok: true, applied: [], needsRestart: ['handoff.keyFile', 'handoff.key'] });
    expect(h.lines.some((line) => JSON.stringify(line).includes('b2b2'))).toBe(false);
  });

  it("keeps a key in a slot whose tags are the key's own (RFC 2104 pads short keys with zeros)", () => {
    const data = Buffer.from('a handoff datagram');
    for (const length of [16, 33, 64]) {
      const key = Uint8Array.from({ length }, (_, i) => (i * 7 + 1) & 0xff);
      const slot = new HandoffKeySlot(key);
      expect(createHmac('sha256', slot.bytes).update(data).digest('hex')).toBe(createHmac('sha256', key).update(data).digest('hex'));
    }
    expect(() => new HandoffKeySlot(new Uint8Array(15))).toThrow(RangeError);
  });
});
