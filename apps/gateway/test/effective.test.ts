import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.js';
import { effectiveSettings, flattenSettings } from '../src/effective.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-effective-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function roundTrip(file: string, flags: Record<string, unknown> = {}) {
  const config = loadGatewayConfig({ file, flags });
  const printed = join(dir, 'printed.json');
  writeFileSync(printed, JSON.stringify(effectiveSettings(config)));
  return { config, again: loadGatewayConfig({ file: printed, flags: {} }) };
}

describe('effective', () => {
  it('prints a configuration that loads back to the same one: the example, every setting spelled out', () => {
    const { config, again } = roundTrip(join(import.meta.dirname, '../contrib/gateway.example.json'), { 'timeouts.udp': '7m30s' });
    expect(again).toEqual(config);
    expect(effectiveSettings(config)).toMatchObject({ timeouts: { udp: '7m30s', tcpEstablished: '2h4m' }, tun: { txQueueLength: 10_000 } });
  });

  it('prints the handoff key file and never the key, and the optional settings only when set', () => {
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, 'ab'.repeat(32));
    const file = join(dir, 'keyed.json');
    writeFileSync(
      file,
      JSON.stringify({
        pool4: ['198.51.100.1'],
        tun: { create: false },
        translation: { ipv6Address: '2001:db8::1' },
        handoff: { keyFile, transport: 'auto', geneve: { refresh: '90s' } },
        statsInterval: '0s',
      }),
    );
    const { config, again } = roundTrip(file);
    expect(again).toEqual(config);
    const printed = JSON.stringify(effectiveSettings(config));
    expect(printed).toContain(keyFile);
    expect(printed).not.toContain('abab');
    expect(effectiveSettings(config)['tun']).not.toHaveProperty('txQueueLength');
    expect(flattenSettings(effectiveSettings(config)).get('handoff.geneve.refresh')).toBe('"1m30s"');
  });
});
