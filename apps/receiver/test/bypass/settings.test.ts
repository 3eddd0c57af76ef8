import { describe, expect, it } from 'vitest';
import { ConfigError } from '@nat64/service';
import { loadReceiverConfig } from '../../src/config.js';

function configError(flags: Record<string, unknown>): ConfigError {
  try {
    loadReceiverConfig({ flags });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loaded without error');
}

describe('bypass settings', () => {
  it('reads --transport as a comma-separated list, keeps both as handoff,geneve, and defaults to it', () => {
    const transports = (transport?: unknown) => [...loadReceiverConfig({ flags: { transport } }).transports].sort();
    expect(transports()).toEqual(['geneve', 'handoff']);
    expect(transports('both')).toEqual(['geneve', 'handoff']);
    const withAllow = (transport: unknown) => [...loadReceiverConfig({ flags: { transport, allow: ['192.0.2.0/24'] } }).transports].sort();
    expect(withAllow('bypass')).toEqual(['bypass']);
    expect(withAllow('handoff, bypass')).toEqual(['bypass', 'handoff']);
    expect(withAllow('both,bypass')).toEqual(['bypass', 'geneve', 'handoff']);
    expect(withAllow(['geneve', 'bypass'])).toEqual(['bypass', 'geneve']);
  });

  it('names the setting when a transport is unknown or the list is empty', () => {
    expect(configError({ transport: 'handoff,tunnel' }).message).toMatch(/transport.*"tunnel" is not one of handoff, geneve, bypass/);
    expect(configError({ transport: ',' }).where).toBe('transport');
    expect(configError({ transport: 7 }).where).toBe('transport');
  });

  it('refuses bypass without --allow: a tunnel lets its gateway inject IPv6 into the host', () => {
    expect(configError({ transport: 'bypass' })).toMatchObject({ where: 'allow' });
    expect(configError({ transport: 'handoff,bypass' }).message).toContain('--allow');
  });

  it('has bypass defaults and takes prefixes, a device name and an MTU', () => {
    const defaults = loadReceiverConfig({ flags: {} }).bypass;
    expect(defaults.prefixes.map((prefix) => prefix.toString())).toEqual(['64:ff9b::']);
    expect(defaults).toMatchObject({ tap: 'nat64bp', mtu: 1400, table: 6400, maxTunnels: 64 });
    const set = loadReceiverConfig({ flags: { bypassPrefixes: ['2001:db8:64::/96', '2001:db8:65::/96'], bypassTap: 'bp', bypassMtu: 1280 } }).bypass;
    expect(set.prefixes.map((prefix) => prefix.toString())).toEqual(['2001:db8:64::', '2001:db8:65::']);
    expect(set).toMatchObject({ tap: 'bp', mtu: 1280 });
  });

  it('refuses prefixes that are not IPv6 /96, device names without room for a number, and small MTUs', () => {
    expect(configError({ bypassPrefixes: ['2001:db8::/64'] }).message).toContain('must be an IPv6 /96');
    expect(configError({ bypassPrefixes: ['192.0.2.0/24'] }).where).toBe('bypassPrefixes[0]');
    expect(configError({ bypassPrefixes: ['2001:db8::1/96'] }).message).toContain('bits set past /96');
    expect(configError({ bypassPrefixes: [] }).where).toBe('bypassPrefixes');
    expect(configError({ bypassTap: 'abcdefghijklm' }).where).toBe('bypassTap');
    expect(configError({ bypassMtu: 1279 }).where).toBe('bypassMtu');
  });
});

describe('bypass receive coalescing setting', () => {
  it('coalesces by default, and bypassCoalesce false (--no-bypass-coalesce) turns it off', () => {
    expect(loadReceiverConfig({ flags: {} }).bypass.coalesce).toBe(true);
    expect(loadReceiverConfig({ flags: { bypassCoalesce: false } }).bypass.coalesce).toBe(false);
    expect(configError({ bypassCoalesce: 'sometimes' }).where).toBe('bypassCoalesce');
  });
});
