import { describe, expect, it } from 'vitest';
import { formatRemaining, formatSessions, listSessions, parseSessionFilter, type SessionRow } from '../src/sessions.js';
import { ipv6, read16 } from '../../../packages/gateway-engine/test/support/packets.js';
import { CLIENT, SERVER6, testGateway } from './support/gateway.js';

async function rows(g: ReturnType<typeof testGateway>, params: Record<string, unknown> = {}): Promise<SessionRow[]> {
  const out: SessionRow[] = [];
  for await (const row of listSessions(g.table, g.clock, g.prefix, parseSessionFilter(params))) out.push(row);
  return out;
}

describe('sessions', () => {
  it('lists sessions with both sides, the TCP state and the time left', async () => {
    const g = testGateway();
    const [udp] = g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 40_001, dstPort: 443 }));
    g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 58, icmp: { type: 128, code: 0, rest: 0x00070001 } }));
    g.advance(1000);
    const all = await rows(g);
    expect(all).toHaveLength(3);
    expect(all.find((r) => r.protocol === 'udp')).toEqual({
      protocol: 'udp',
      client: '[2001:db8:1::2]:40000',
      nat: `198.51.100.1:${read16(udp!, 20)}`,
      server: '203.0.113.2:53',
      serverIpv6: '[2001:db8:64::cb00:7102]:53',
      state: '-',
      expiresInMs: 299_000,
      handedOff: false,
    });
    expect(all.find((r) => r.protocol === 'tcp')).toMatchObject({ state: 'V6_INIT', expiresInMs: 239_000 });
    expect(all.find((r) => r.protocol === 'icmp')).toMatchObject({ client: '[2001:db8:1::2]:7', server: '203.0.113.2', expiresInMs: 59_000 });
  });

  it('filters by protocol and by address', async () => {
    const g = testGateway();
    g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    g.send(ipv6({ src: '2001:db8:1::3', dst: '2001:db8:64::cb00:7103', protocol: 17, srcPort: 40_000, dstPort: 53 }));
    expect(await rows(g, { protocol: 'tcp' })).toEqual([]);
    expect((await rows(g, { client: '2001:db8:1::3' })).map((r) => r.server)).toEqual(['203.0.113.3:53']);
    expect((await rows(g, { server: '203.0.113.2', protocol: 'UDP' })).map((r) => r.client)).toEqual(['[2001:db8:1::2]:40000']);
    expect(await rows(g, { nat: '198.51.100.9' })).toEqual([]);
  });

  it('filters by NAT address and port', async () => {
    const g = testGateway();
    g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    g.send(ipv6({ src: '2001:db8:1::3', dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    const all = await rows(g, {});
    expect(all).toHaveLength(2);
    for (const row of all) expect((await rows(g, { nat: row.nat })).map((r) => r.client)).toEqual([row.client]);
    const address = all[0]!.nat.split(':')[0]!;
    expect(await rows(g, { nat: address })).toHaveLength(2);
    const unused = [1, 2, 3].map((n) => `${address}:${n}`).find((nat) => !all.some((row) => row.nat === nat))!;
    expect(await rows(g, { nat: unused })).toEqual([]);
  });

  it('refuses a malformed filter with a message for the client', () => {
    expect(() => parseSessionFilter({ protocol: 'sctp' })).toThrow(/protocol must be tcp, udp or icmp/);
    expect(() => parseSessionFilter({ client: '198.51.100.1' })).toThrow(/client "198.51.100.1" is not an IPv6 address/);
    expect(() => parseSessionFilter({ server: '2001:db8::1' })).toThrow(/server .* is not an IPv4 address/);
    expect(() => parseSessionFilter({ nat: 7 })).toThrow(/nat must be a string/);
    expect(() => parseSessionFilter({ nat: '198.51.100.1:70000' })).toThrow(/nat "198.51.100.1:70000" is not an IPv4 address or address:port/);
    expect(() => parseSessionFilter({ nat: '198.51.100.1:' })).toThrow(/is not an IPv4 address or address:port/);
  });

  it('renders time left and an aligned table', () => {
    expect([formatRemaining(0), formatRemaining(59_999), formatRemaining(61_000), formatRemaining(7_440_000)]).toEqual(['0s', '59s', '1m1s', '2h4m0s']);
    const text = formatSessions([
      {
        protocol: 'udp',
        client: '[2001:db8:1::2]:40000',
        nat: '198.51.100.1:61000',
        server: '203.0.113.2:53',
        serverIpv6: '[2001:db8:64::cb00:7102]:53',
        state: '-',
        expiresInMs: 61_000,
        handedOff: false,
      },
    ]);
    expect(text.split('\n')).toEqual([
      'PROTO  IPV6 CLIENT            IPV6 SERVER                  NAT (IPV4)          IPV4 SERVER     STATE  EXPIRES',
      'UDP    [2001:db8:1::2]:40000  [2001:db8:64::cb00:7102]:53  198.51.100.1:61000  203.0.113.2:53  -      1m1s',
      '(1 session)',
    ]);
  });
});
