import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@nat64/service';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGatewayConfig, shortTimeouts, type RawSettings } from '../src/config.js';

const POOL = { pool4: ['198.51.100.1'] };

/** Directories the tests made, removed after each (whether it passed or not). */
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

function load(flags: RawSettings, file?: object): ReturnType<typeof loadGatewayConfig> {
  if (file === undefined) return loadGatewayConfig({ flags });
  const path = join(scratchDir('gw-config-'), 'gateway.json');
  writeFileSync(path, JSON.stringify(file));
  return loadGatewayConfig({ file: path, flags });
}

function problem(flags: RawSettings, file?: object): string {
  try {
    load(flags, file);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('no error');
}

describe('config', () => {
  it('fills every setting with its default', () => {
    const config = load(POOL);
    expect(config.tun).toEqual({
      name: 'nat64',
      mtu: 1500,
      create: true,
      batchSize: 64,
      offload: false,
      receiveSegments: true,
      coalesce: false,
      txQueueLength: 10_000,
    });
    expect(config.prefix.text).toBe('64:ff9b::/96');
    expect(config.refuseNonGlobalUnderWkp).toBe(true);
    expect(config.pool4).toEqual([
      { address: 0xc6336401, ports: { tcp: { first: 1024, last: 65535 }, udp: { first: 1024, last: 65535 }, icmp: { first: 0, last: 65535 } } },
    ]);
    expect(config.timeoutsMs).toEqual({ udp: 300_000, tcpEstablished: 7_440_000, tcpTransitory: 240_000, icmp: 60_000, fragment: 2000 });
    expect(config.translation.ipv4Address).toBe(0xc6336401);
    expect(config.translation.ipv4NextHopMtu).toBe(1500);
    // With Geneve possible, room for its 100 bytes (outer headers and both options).
    expect(load({ ...POOL, 'handoff.transport': 'auto' }).translation.ipv4NextHopMtu).toBe(1400);
    expect(load({ ...POOL, 'handoff.transport': 'geneve', 'translation.ipv4NextHopMtu': 1500 }).translation.ipv4NextHopMtu).toBe(1500);
    expect(config.translation.ipv6Address).toBeUndefined();
    expect(config.control).toBe('/run/nat64-gateway/control.sock');
  });

  it('hands off in full mode by default, with the IPv4 next-hop MTU and a flush delay within 10 ms', () => {
    const config = load({ ...POOL, 'translation.ipv4NextHopMtu': 1400 });
    expect(config.handoff).toEqual({
      mode: 'full',
      key: undefined,
      keyFile: undefined,
      mtu: 1400,
      flushDelayMs: 4,
      missQueue: { packetsPerKey: 16, packets: 4096, bytes: 4 * 1024 * 1024 },
      evictedFlows: 1_000_000,
      transport: 'handoff',
      geneve: { optionClass: 0xff64, keyId: 1, createdPackets: 2, refreshMs: 60_000, flowHashSeed: 0 },
      bypass: {
        secretFile: '/var/lib/nat64-gateway/bypass-secret',
        message: 'NAT64 bypass offered by nat64-gateway',
        linkLocal: 'fe80::1',
        offerIntervalMs: 30_000,
        reachableMs: 30_000,
        macRotationMs: 86_400_000,
        macGraceMs: 600_000,
        mtu: 1400,
        flowHashSeed: 0,
        udpChecksum: false,
        translatedFlows: 100_000,
      },
    });
    expect(load({ ...POOL, 'handoff.mode': 'off' }).handoff.mode).toBe('off');
    expect(load({ ...POOL, 'handoff.geneve.optionClass': '0xff70' }).handoff.geneve.optionClass).toBe(0xff70);
    expect(problem({ ...POOL, 'handoff.geneve.optionClass': 'ff70' })).toMatch(/^handoff\.geneve\.optionClass: expected an integer or a hex string/);
    expect(load({ ...POOL, 'handoff.evictedFlows': 0 }).handoff.evictedFlows).toBe(0);
    expect(() => load({ ...POOL, 'handoff.evictedFlows': -1 })).toThrow(/handoff\.evictedFlows/);
    expect(load({ ...POOL, 'handoff.transport': 'bypass', 'handoff.bypass.secretFile': '/tmp/x', 'handoff.bypass.offerInterval': '2s' }).handoff).toMatchObject(
      {
        transport: 'bypass',
        bypass: { secretFile: '/tmp/x', offerIntervalMs: 2000 },
      },
    );
    expect(problem({ ...POOL, 'handoff.bypass.linkLocal': '2001:db8::1' })).toMatch(/^handoff\.bypass\.linkLocal: must be a link-local/);
    expect(problem({ ...POOL, 'handoff.bypass.message': 'x'.repeat(125) })).toMatch(/^handoff\.bypass\.message: must be at most 124 bytes/);
  });

  it('reads the handoff key from its file and refuses what is not a key', () => {
    const dir = scratchDir('gw-key-');
    const good = join(dir, 'good.key');
    writeFileSync(good, `${'00112233445566778899aabbccddeeff'}\n`);
    expect(Buffer.from(load({ ...POOL, 'handoff.keyFile': good }).handoff.key!).toString('hex')).toBe('00112233445566778899aabbccddeeff');
    const short = join(dir, 'short.key');
    writeFileSync(short, '0011');
    expect(problem({ ...POOL, 'handoff.keyFile': short })).toMatch(/^handoff\.keyFile: .*short\.key must hold 32 to 128 hex digits/);
    expect(problem({ ...POOL, 'handoff.keyFile': join(dir, 'missing.key') })).toMatch(/^handoff\.keyFile: cannot read/);
  });

  it('refuses a bad handoff mode, a flush delay over 10 ms and unknown handoff settings', () => {
    expect(problem({ ...POOL, 'handoff.mode': 'on' })).toMatch(/^handoff\.mode: /);
    expect(problem({ ...POOL, 'handoff.flushDelay': '20ms' })).toMatch(/^handoff\.flushDelay: must be at most 10ms/);
    expect(problem({ ...POOL, 'handoff.mtu': 500 })).toMatch(/^handoff\.mtu: /);
    expect(problem({ ...POOL, 'handoff.missQueue.packetsPerKey': 0 })).toMatch(/^handoff\.missQueue\.packetsPerKey: /);
    expect(problem({ ...POOL, 'handoff.port': 1 })).toMatch(/handoff/);
  });

  it('lets flags override the file one nested key at a time', () => {
    const config = load(
      { 'timeouts.udp': '10m', 'tun.name': 'nat64b', prefix: '2001:db8:64::/96' },
      { pool4: ['198.51.100.1', { address: '198.51.100.2', udp: '2000-3000' }], timeouts: { icmp: '30s' }, tun: { mtu: 9000 } },
    );
    expect(config.timeoutsMs.udp).toBe(600_000);
    expect(config.timeoutsMs.icmp).toBe(30_000);
    expect(config.tun).toMatchObject({ name: 'nat64b', mtu: 9000 });
    expect(config.translation.ipv6NextHopMtu).toBe(9000);
    expect(config.pool4[1]!.ports.udp).toEqual({ first: 2000, last: 3000 });
  });

  it('names the file and the setting in every error', () => {
    expect(problem({}, { pool4: ['198.51.100.1', { address: '198.51.100.2', tcp: '70000' }] })).toMatch(
      /gateway\.json: pool4\[1\]\.tcp: "70000" must lie within 1-65535/,
    );
    expect(problem({ ...POOL, prefix: '2001:db8::/33' })).toMatch(/^prefix: length \/33 is not allowed by RFC 6052/);
    expect(problem({ ...POOL, prefix: '2001:db8::1/96' })).toMatch(/^prefix: has bits set beyond \/96/);
    expect(problem({ ...POOL, prefix: '2001:db8:0:0:ff00::/96' })).toMatch(/bits 64-71 must be zero/);
    expect(problem({ pool4: [] })).toMatch(/^pool4: needs at least one/);
    expect(problem({ pool4: ['198.51.100.1', '198.51.100.1'] })).toMatch(/^pool4: lists an address twice/);
    expect(problem({ ...POOL, tun: { nmae: 'x' } })).toMatch(/^tun\.nmae: unknown setting/);
    expect(problem({ ...POOL, 'limits.maxSessions': 0 })).toMatch(/^limits\.maxSessions: must be at least 1/);
    expect(problem({ ...POOL, staticBib: [{ protocol: 'udp', ipv6: '2001:db8::5:80', ipv4: '198.51.100.1:80' }] })).toMatch(
      /^staticBib\[0\]\.ipv6: .* is not an endpoint/,
    );
    expect(problem({ ...POOL, staticBib: [{ protocol: 'udp', ipv6: '[2001:db8::5]:80', ipv4: '198.51.100.9:80' }] })).toMatch(
      /^staticBib\[0\]\.ipv4: 198\.51\.100\.9 is not a pool4 address/,
    );
    expect(problem({ ...POOL, translation: { ipv6Address: 'fe80::1%eth0' } })).toMatch(/^translation\.ipv6Address: /);
    expect(problem({ ...POOL, control: '' })).toMatch(/^control: /);
  });

  it('points at the line and column of a JSON syntax error', () => {
    const path = join(scratchDir('gw-config-'), 'broken.json');
    writeFileSync(path, '{\n  "pool4": ["198.51.100.1",]\n}\n');
    expect(() => loadGatewayConfig({ file: path, flags: {} })).toThrow(/broken\.json:2:\d+: invalid JSON/);
  });

  it('refuses timeouts below the RFC 6146 minimums unless explicitly allowed', () => {
    expect(problem({ ...POOL, 'timeouts.udp': '2s' })).toMatch(/^timeouts\.udp: must be at least 2m .*allowBelowMinimum/);
    expect(problem({ ...POOL, 'timeouts.tcpEstablished': '2h' })).toMatch(/^timeouts\.tcpEstablished: must be at least 2h4m/);
    expect(problem({ ...POOL, 'timeouts.udp': 'soon' })).toMatch(/^timeouts\.udp: "soon" is not a duration/);
    expect(problem({ ...POOL, 'timeouts.fragment': '1s' })).toMatch(/^timeouts\.fragment: must be at least 2s/);
    const config = load({ ...POOL, 'timeouts.udp': '2s', 'timeouts.allowBelowMinimum': true });
    expect(config.timeoutsMs.udp).toBe(2000);
    expect(shortTimeouts(config)).toEqual(['udp 2000 ms']);
    expect(shortTimeouts(load(POOL))).toEqual([]);
  });

  it('sizes the queue of a device it creates, and leaves an attached one alone unless told', () => {
    expect(load({ ...POOL, tun: { txQueueLength: 20_000 } }).tun.txQueueLength).toBe(20_000);
    expect(load({ ...POOL, tun: { create: false } }).tun.txQueueLength).toBeUndefined();
    expect(load({ ...POOL, tun: { create: false, txQueueLength: 4000 } }).tun.txQueueLength).toBe(4000);
    expect(problem({ ...POOL, tun: { txQueueLength: 0 } })).toMatch(/^tun\.txQueueLength: must be at least 1/);
  });

  it('loads the example configuration shipped in contrib/', () => {
    const config = loadGatewayConfig({ file: join(import.meta.dirname, '../contrib/gateway.example.json'), flags: { 'tun.create': false } });
    expect(config.pool4).toHaveLength(2);
    expect(config.staticBib).toHaveLength(2);
    expect(config.tun.create).toBe(false);
  });

  it('keeps the reserved handoff and Geneve ports out of static UDP entries', () => {
    expect(problem({ ...POOL, staticBib: [{ protocol: 'udp', ipv6: '[2001:db8::5]:1', ipv4: '198.51.100.1:62863' }] })).toMatch(
      /^staticBib\[0\]\.ipv4: UDP port 62863 is reserved/,
    );
    expect(load({ ...POOL, staticBib: [{ protocol: 'tcp', ipv6: '[2001:db8::5]:1', ipv4: '198.51.100.1:62863' }] }).staticBib).toHaveLength(1);
  });

  it('refuses tun.offload with the Geneve transport', () => {
    expect(() => loadGatewayConfig({ flags: { ...POOL, 'tun.offload': true, 'handoff.transport': 'geneve' } })).toThrow(/tun\.offload/);
    expect(() => loadGatewayConfig({ flags: { ...POOL, 'tun.offload': true, 'handoff.transport': 'auto' } })).toThrow(/tun\.offload/);
  });

  it('takes tun.offload with bypass, without TCP segments on reads (the tunnel carries packets of its MTU)', () => {
    const bypass = loadGatewayConfig({ flags: { ...POOL, 'tun.offload': true, 'tun.coalesce': true, 'handoff.transport': 'bypass' } }).tun;
    expect(bypass).toMatchObject({ offload: true, coalesce: true, receiveSegments: false });
    expect(loadGatewayConfig({ flags: { ...POOL, 'tun.offload': true } }).tun).toMatchObject({ offload: true, receiveSegments: true });
  });
});
