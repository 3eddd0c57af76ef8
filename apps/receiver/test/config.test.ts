import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadReceiverConfig } from '../src/config.js';

describe('config', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  function file(name: string, text: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-receiver-config-'));
    dirs.push(dir);
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  }

  it('has defaults a server admin can start with', () => {
    const config = loadReceiverConfig({ flags: {} });
    expect(config).toMatchObject({
      listen: ['0.0.0.0', '::'],
      port: 62863,
      durability: 'full',
      connectionLog: '-',
      timeZone: 'utc',
      authoritative: true,
      idleTimeoutMs: 86_400_000,
    });
    expect(config.keys).toEqual([]);
  });

  it('lets flags override the file', () => {
    const path = file('receiver.json', JSON.stringify({ port: 7000, capacity: 5, durability: 'normal' }));
    const config = loadReceiverConfig({ file: path, flags: { port: 7001, capacity: undefined } });
    expect([config.port, config.capacity, config.durability]).toEqual([7001, 5, 'normal']);
  });

  it('names the file and the setting in errors', () => {
    const path = file('receiver.json', JSON.stringify({ allow: ['192.0.2.0/24', 'nonsense'] }));
    expect(() => loadReceiverConfig({ file: path, flags: {} })).toThrow(`${path}: allow[1]: "nonsense" is not an address or address range`);
    expect(() => loadReceiverConfig({ flags: { listn: ['127.0.0.1'] } })).toThrow('listn: unknown setting');
    expect(() => loadReceiverConfig({ flags: { key: 'abcd' } })).toThrow('key: expected 32 to 128 hex digits');
  });

  it('reads the reply rate limits from the file and flags, and refuses a burst below 1', () => {
    expect(loadReceiverConfig({ flags: {} })).toMatchObject({ helloLimit: { perSecond: 5, burst: 20 }, queryLimit: { perSecond: 10_000, burst: 20_000 } });
    const path = file('receiver.json', JSON.stringify({ helloRate: 1, helloBurst: 4, queryRate: 0 }));
    const config = loadReceiverConfig({ file: path, flags: { queryBurst: 9, helloRate: undefined } });
    expect([config.helloLimit, config.queryLimit]).toEqual([
      { perSecond: 1, burst: 4 },
      { perSecond: 0, burst: 9 },
    ]);
    expect(() => loadReceiverConfig({ flags: { helloBurst: 0 } })).toThrow('helloBurst: must be at least 1');
  });

  it('reads the ACK delay as a duration, 4 ms by default, and refuses more than 100 ms or a fraction of a millisecond', () => {
    expect(loadReceiverConfig({ flags: {} }).ackDelayMs).toBe(4);
    expect(loadReceiverConfig({ flags: { ackDelay: '0' } }).ackDelayMs).toBe(0);
    expect(loadReceiverConfig({ file: file('receiver.json', JSON.stringify({ ackDelay: '25ms' })), flags: {} }).ackDelayMs).toBe(25);
    expect(() => loadReceiverConfig({ flags: { ackDelay: '1s' } })).toThrow('ackDelay: must be whole milliseconds from 0 to 100ms');
    expect(() => loadReceiverConfig({ flags: { ackDelay: '0.5ms' } })).toThrow('ackDelay: must be whole milliseconds');
  });

  it('warms up with 20,000 made-up entries by default, none with 0, and refuses a negative or fractional count', () => {
    expect(loadReceiverConfig({ flags: {} }).warmUp).toBe(20_000);
    expect(loadReceiverConfig({ flags: { warmUp: 0 } }).warmUp).toBe(0);
    expect(() => loadReceiverConfig({ flags: { warmUp: -1 } })).toThrow('warmUp: must be at least 0');
    expect(() => loadReceiverConfig({ flags: { warmUp: 1.5 } })).toThrow('warmUp');
  });

  it('reads one key for all gateways from a flag or a file, and per-range keys from the file', () => {
    const hex = '00112233445566778899aabbccddeeff';
    expect(loadReceiverConfig({ flags: { key: hex } }).keys).toHaveLength(2);
    const keyFile = file('key', `${hex}\n`);
    expect(Buffer.from(loadReceiverConfig({ flags: { keyFile } }).keys[0]!.key).toString('hex')).toBe(hex);
    const path = file('receiver.json', JSON.stringify({ keys: [{ gateways: '192.0.2.0/24', key: hex }] }));
    expect(loadReceiverConfig({ file: path, flags: {} }).keys[0]!.range[1]).toBe(24);
  });
});
